// Package serf is a wire-compatible implementation of HashiCorp Serf's
// gossip layer (protocol versions 2 to 5) on top of hashicorp/memberlist.
//
// memberlist decides who is reachable; Serf adds what the cluster agrees
// on about its members (tags, and whether a missing node left or failed),
// user events, queries with responses, network coordinates and cluster-wide
// encryption key changes. Everything reaches the application, in order, on
// Config.EventCh.
//
// # Convergence without a tail
//
// Memberlist retransmits each alive message only RetransmitMult ×
// ceil(log10(N+1)) times, to random peers, and in a join storm of dozens
// of members one or two of them sometimes never hear of somebody by
// gossip. They learn of it at the next periodic push/pull, which
// memberlist runs every PushPullInterval scaled up with the cluster's
// size: a minute at 64 members. User events have the same tail.
//
// Serf closes the gap with anti-entropy that speeds up after a change and
// relaxes when the cluster is quiet. Every join and leave this node sees
// and every user event it sees for the first time arms a burst of
// push/pulls with one random live member each: AntiEntropyInterval after
// the change, then after 2×, 4× and 8× that
// (plus up to a quarter at random), AntiEntropyRounds exchanges in all; a
// new change during the burst starts it over. A member that missed a node
// or an event gets it from its own exchanges or from a peer's, well before
// the periodic push/pull. Above 64 members the interval grows by one step
// per doubling of the cluster (3 s at 256, 6 s at 2,000, 9 s at 10,000):
// each exchange carries state that grows with the cluster, so a member's
// rate falls, but only with the log of the size, because at thousands a
// member that missed a few joins must still catch up within tens of
// intervals. When nothing changes the loop waits on
// a channel: no timer, no CPU, no bytes, so idle cost equals real Serf's.
//
// The exchange is memberlist's Join to one address, the same TCP push/pull
// `serf join` sends, with no join intent broadcast after it. A real Serf
// v0.10.2 peer answers it like any join: its memberlist checks protocol
// versions and merges, its Serf merges state and only raises its event
// floor if it is itself in the middle of a Join that ignores old events.
// It is therefore on by default (1s, 4 rounds); 0 in either field turns it
// off. An exchange is skipped while this node runs a Join or is leaving.
//
// Two things do not feed the bursts, because both mean the machine is
// overloaded and a full-state exchange would only add to the load. A
// failure arms nothing: merged state only makes a dead node suspect, so
// an exchange would not spread it faster, and on an overloaded machine
// false failures come by the thousand. And while memberlist's Lifeguard
// health score is above zero (this node's own probes went unanswered, or
// it had to refute a suspicion of itself) every exchange that falls due
// is put off, not counted, so the burst still runs once the node is
// healthy again.
//
// # Refutations that are heard
//
// A member refutes a suspicion of itself by gossiping an alive message
// with a higher incarnation, transmitted as few times as any other
// gossip. On a lossy network an accuser sometimes hears none of them and,
// when its suspicion timer runs out, declares a live member failed (with
// 20 % of packets lost among five agents, about once in ten minutes,
// for real Serf as for memberlist alone). So after each refutation Serf
// also pushes its state in TCP push/pulls to the accuser and to
// GossipNodes-1 other random live members, which merge the new
// incarnation and gossip it on. memberlist tells of a refutation only in
// its log, so Serf watches the log writer it gives memberlist. At most one
// round per probe interval, and none while Lifeguard's health score is
// high, as it is on an overloaded machine, where full-state exchanges
// would add to the load that causes false suspicions.
// Config.PushRefutations (on by default) turns it off.
//
// # Copies of gossip cost nothing
//
// Every member receives each piece of gossip about as often as it is
// retransmitted: 12 copies of each alive message and join intent at 256
// members. memberlist decodes every copy and takes its node lock for it
// before it finds nothing new, and it hands received gossip to one
// goroutine alive messages first, so in a join storm a suspicion of this
// node waited behind copies of alive messages and was refuted after the
// suspicion timeout (5–20 s late in storms of 256 agents on two cores)
// and live members were declared failed by the thousand. Serf's transport
// therefore drops a received alive, suspect, dead or Serf user message
// whose bytes equal one it handed memberlist in the last seconds: the
// same bytes say the same thing, and neither memberlist nor Serf acts on
// a repeat. When memberlist drops received gossip for a full queue the
// transport forgets what it handed on, so the next copy goes through.
// Invisible on the wire; Config.DropGossipCopies (on by default) turns it
// off.
//
// # Membership gossip is sent less often, but not in small clusters
//
// Each member sends each alive, suspect and dead message, and each join
// intent, RetransmitMult × ceil(log10(N+1)) times (12 at 256 members with
// memberlist's 4), and memberlist gossips three packets every gossip
// interval for as long as its queue holds anything: how many packets a
// join storm makes, and how long it lasts, goes with the transmissions.
// So membership gossip gets its own count, Config.MembershipRetransmitMult
// (2 by default); leave intents, user events and queries, which
// anti-entropy carries late or not at all, keep memberlist's
// RetransmitMult. In storms of 256 agents on two cores that cut the
// datagrams of the first minute to about a third, and the time the last
// agent took to converge from a median of 24 s to one of 18 s
// (BENCHMARKS.md, sessions 17 and 18).
//
// Small clusters cannot spare the transmissions: at 2 each instead of 4,
// 5 members losing 30 % of their packets declared live members failed.
// memberlist fixes its count when it is created, whatever the cluster
// grows to, so while Serf knows fewer than Config.FullRetransmitBelow
// members (32) its transport makes up the difference: the first time it
// sees memberlist send a membership message, it also sends that message
// alone to as many more random live members as memberlist's full count
// would have, so each member still sends it RetransmitMult ×
// ceil(log10(N+1)) times. Peers take those copies as gossip. Where Serf
// does not bring the transport, or cannot read what memberlist sends
// (memberlist encrypts or compresses it), there is no top-up, and
// membership gossip keeps RetransmitMult.
//
// # A member that joins alone does not gossip what it was told
//
// memberlist gossips an alive message for each member a push/pull's state
// tells it of for the first time, as for one it heard of by gossip. For a
// node that joins a cluster while it holds no other member alive, that is
// news to nobody: the only members it could tell are those of the cluster
// the state came from. A node that joins a cluster of N members queues N
// such messages, each sent MembershipRetransmitMult × ceil(log10(N+1))
// times, and in a join storm an agent that joins after k others repeats
// those k.
//
// So when a push/pull this node started (a join, a reconnect, an
// anti-entropy exchange) brings state while Serf holds no other member
// alive, Serf marks the alive members in it that it did not know, and the
// transport leaves the alive message memberlist queues for each out of
// what it sends. The first such message about a marked member fixes the
// bytes dropped, so a later incarnation (a refutation) goes out as usual,
// and a packet left with nothing is not sent. A node that knew other
// members, as one whose join heals a partition does, still gossips each
// side's members to the other, and a seed still gossips its joiners.
// Invisible on the wire. Config.DropSecondHandGossip (on by default)
// turns it off.
//
// # A suspicion reaches its accused at once
//
// A member refutes a suspicion only once the suspect message reaches it,
// and memberlist sends it there only by chance (the accused is one of the
// random peers of some gossip round) or with the accuser's next probe of
// it, a whole probe cycle later. In join storms of 256 agents on two
// cores fewer than half the suspicions reached the accused within a
// second, against a suspicion timeout of about 10 s. So Serf's transport
// reads what memberlist sends, and the first time it carries a suspicion
// this node raised (an incarnation of that member not told before), it
// also sends that suspect message, unchanged, in a packet of its own to
// the accused: what memberlist itself does when it probes a suspect
// member, only at once. One packet per suspicion this node raises;
// nobody but the accused receives it. Config.TellAccused (on by default)
// turns it off.
//
// # A leave reaches every member at once
//
// memberlist announces a graceful leave by gossiping the leaver's dead
// message about itself, which reaches the last members after several
// gossip rounds, or from anti-entropy when gossip missed them. The first
// time Serf's transport sees that message go out, it also sends it, alone,
// to every other member Serf holds as alive or leaving: one packet per
// member, once per leave, and each member sees the leave as soon as the
// packet arrives (the leave intent went out before it, as in Serf).
// Config.TellLeave (on by default) turns it off.
//
// # User events and queries go out at once, and are never starved
//
// memberlist gossips every GossipInterval (200 ms), so an event that
// waits for gossip waits up to an interval at each hop, and memberlist
// fills each gossip packet, and each ping and ack it piggybacks gossip
// on, from its own queue first, handing Serf only the bytes left over.
// After a join storm of thousands every member's queue holds hundreds of
// rounds of alive messages still to retransmit, and a user event or
// query waits behind all of them (in the simulator, one event reached 1
// of 2,000 members in 80 rounds).
//
// So leave intents, user events and queries, a member's own and those it
// passes on, also go out directly as memberlist user messages to
// GossipNodes random live members: one round as soon as one is queued
// (at most one such round per half gossip interval), and one round each
// gossip interval while Serf is starved (memberlist has not offered it
// half a packet for two gossip intervals). Each message sent counts as
// one of the transmissions gossip would have made, so no message costs
// more sends than before, only earlier ones. The first rounds carry an
// event across the cluster in network hops (milliseconds) instead of
// gossip intervals; the few members the random fan-out misses hear it at
// gossip's next round. Peers of any kind receive these messages as they
// receive gossip. Join intents are not sent this way (a join storm would
// multiply its packets by the fanout, and memberlist's own alive
// messages, which go first, carry the join itself); a leave intent is,
// because memberlist's dead message alone makes a graceful leave look
// like a failure. With nothing queued the loop sleeps on a channel.
// Config.GossipRelief (on by default) turns it off.
//
// # Query acks do not overflow the asker
//
// A member acks a query the moment it receives it, by UDP to the asker.
// Queries go out directly at once, hop by hop without waiting for gossip
// rounds, so every member receives one within milliseconds, and their
// acks reach one socket as fast: at thousands more than a receive buffer
// holds (in the simulator the asker of a 2,000-member cluster lost 610).
// Above 128 members each member waits a random time before it acks, up
// to one gossip interval per 512 members (50 ms at 129, 0.8 s at 2,000),
// so acks arrive at about 512 per gossip interval. Clusters of up to 128
// ack at once, as in Serf: a burst a default-sized buffer holds.
//
// Where things live (every non-test file, with its one job):
//
//	config.go              Config, its defaults, validation and Create's private copy
//	serf.go                Serf: Create, accessors, Stats, Shutdown
//	event.go               Event, EventType and its names, Member, MemberEvent, UserEvent
//	lamport.go             LamportClock
//	messages.go            every gossip message and its encoding
//	tags.go                tags in node metadata; SetTags and the live tags
//	members.go             member table and memberlist join/leave/update
//	intents.go             join/leave intents, refutation, pruning
//	join_leave.go          Join, Leave, RemoveFailedNode, joining one remembered node
//	join_retry.go          Join's retries of a seed too busy to answer (EOF or timeout after accept)
//	node_name.go           ValidateNodeNames: the node-name rules of Config.ValidateNodeNames
//	reaper.go              reaping and reconnecting failed/left members
//	address_book.go        recovery: rejoin at start-up with backoff, address book of reaped members
//	broadcast.go           outgoing gossip queues, their depth checks, and memberlist's scaling with cluster size
//	anti_entropy.go        extra push/pulls after a change (convergence without a tail)
//	refutation.go          pushing memberlist's refutation of a suspicion to the accuser (heard despite loss)
//	gossip_copies.go       dropping received copies of gossip memberlist has already been handed
//	direct_notice.go       sending each suspicion this node raises straight to the accused, its leave to everyone
//	membership_topup.go    sending membership gossip to more members in small clusters (the rest of RetransmitMult)
//	second_hand.go         not gossiping the members a join told a node that was alone
//	recent_hashes.go       recentHashes: remembering which messages were seen in the last window
//	gossip_relief.go       sending events and queries directly: at once, and while memberlist's queue starves Serf's
//	ack_spread.go          spreading a big cluster's query acks over time
//	delegate.go            memberlist.Delegate: messages, push/pull, meta
//	event_delegate.go      memberlist.EventDelegate: membership callbacks
//	conflict_delegate.go   memberlist.ConflictDelegate: name-conflict callback
//	ping_delegate.go       memberlist.PingDelegate: coordinates on probe acks
//	merge_delegate.go      MergeDelegate: Config.Merge behind memberlist's merge and alive delegates
//	coordinates.go         network-coordinate accessors and cache
//	dedup_ring.go          dedupRing: recognising seen user events and queries
//	limits.go              bounds on what gossip from others makes us keep
//	user_event.go          sending and receiving user events
//	query.go               query API: QueryParam, QueryResponse, Query
//	query_handle.go        sending, receiving, filtering and answering queries
//	internal_query.go      the _serf_ queries Serf answers itself (a stage)
//	conflict.go            name-conflict resolution
//	keymanager.go          cluster-wide keyring changes
//	keyring_file.go        the keyring file format, read and written
//	memberlist_errors.go   restoring memberlist v0.5.2's wording in errors and logs, and watching its log lines
//	net_transport.go       the UDP/TCP transport given to memberlist: its own, minus a 64 KiB buffer per packet
//	udp_socket.go          how that transport reads and writes datagrams (udp_socket_linux.go: raw system calls)
//	wire_compression.go    memberlist's compression, done in that transport with one reused LZW coder
//	wire_encryption.go     memberlist's encryption, done in that transport with one AEAD per key
//	wire_conn.go           a stream as memberlist sees it through that transport
//	packet_frame.go        memberlist's framing of a packet (label, CRC, compound), read and written
//	metrics.go             the serf.* metrics: Serf's names, one emit helper each
//	pipeline.go            the event pipeline: its stages, their order and shutdown
//	stage.go               stage: one pipeline step's loop, flush and drain
//	coalesce.go            the coalescing stage and the coalescer interface
//	coalesce_member.go     merge policy for member events
//	coalesce_user.go       merge policy for user events
//	snapshot.go            snapshot format, Snapshotter, opening, public API
//	snapshot_replay.go     reading a snapshot back at start-up
//	snapshot_record.go     the snapshot's stage and the recorder goroutine
//	snapshot_compact.go    rewriting an overgrown snapshot
//
// The Vivaldi arithmetic is in the coordinate sub-package.
package serf
