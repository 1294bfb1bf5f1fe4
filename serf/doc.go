// Package serf is a wire-compatible implementation of HashiCorp Serf's
// gossip layer (protocol versions 2 to 5) on top of hashicorp/memberlist.
//
// memberlist decides who is reachable; Serf adds what the cluster agrees
// on about its members (tags, and whether a missing node left or failed),
// user events, queries with responses, network coordinates and cluster-wide
// encryption key changes. Everything reaches the application, in order, on
// Config.EventCh.
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
//	join_leave.go          Join, Leave, RemoveFailedNode, rejoin at start-up
//	reaper.go              reaping and reconnecting failed/left members
//	broadcast.go           outgoing gossip queues and their depth checks
//	delegate.go            memberlist.Delegate: messages, push/pull, meta
//	event_delegate.go      memberlist.EventDelegate: membership callbacks
//	conflict_delegate.go   memberlist.ConflictDelegate: name-conflict callback
//	ping_delegate.go       memberlist.PingDelegate: coordinates on probe acks
//	coordinates.go         network-coordinate accessors and cache
//	dedup_ring.go          dedupRing: recognising seen user events and queries
//	user_event.go          sending and receiving user events
//	query.go               query API: QueryParam, QueryResponse, Query
//	query_handle.go        sending, receiving, filtering and answering queries
//	internal_query.go      the _serf_ queries Serf answers itself (a stage)
//	conflict.go            name-conflict resolution
//	keymanager.go          cluster-wide keyring changes
//	keyring_file.go        the keyring file format, read and written
//	memberlist_errors.go   restoring memberlist v0.5.2's wording in errors and logs
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
