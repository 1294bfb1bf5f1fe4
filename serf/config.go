package serf

import (
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"slices"
	"time"

	metrics "github.com/hashicorp/go-metrics"
	"github.com/hashicorp/memberlist"
)

// ProtocolVersionMin is the lowest Serf protocol version spoken. Every
// version runs on memberlist protocol memberlistProtocolVersion.
const ProtocolVersionMin uint8 = 2

// ProtocolVersionMax is the highest Serf protocol version spoken; untyped,
// as upstream declares it.
const ProtocolVersionMax = 5

const memberlistProtocolVersion uint8 = 2

// ProtocolVersionMap gives, for each Serf protocol version, the memberlist
// protocol version it runs on. It exists for programs written against
// upstream's package, which exports it as a variable; Serf itself never
// reads it (memberlistProtocolVersion is the constant in use), so changing
// it changes nothing.
var ProtocolVersionMap = map[uint8]uint8{
	5: memberlistProtocolVersion,
	4: memberlistProtocolVersion,
	3: memberlistProtocolVersion,
	2: memberlistProtocolVersion,
}

// MaxNodeNameLength is the longest node name Config.ValidateNodeNames
// accepts.
const MaxNodeNameLength int = 128

// UserEventSizeLimit is the hard ceiling for Config.UserEventSizeLimit:
// a user event's name plus payload may never exceed 9 KiB.
const UserEventSizeLimit = 9 * 1024

// snapshotMinCompactSize is the snapshot size below which the snapshotter
// never bothers compacting.
const snapshotMinCompactSize = 128 * 1024

// Config is the configuration of a Serf instance. Create copies what it
// keeps, so the caller's Config is never changed by Serf. Zero durations disable the
// feature where noted; DefaultConfig fills in sensible values.
type Config struct {
	// ---- Who this node is ----

	// NodeName must be unique in the cluster. Default: the hostname.
	NodeName string

	// Tags are the initial tags, gossiped in memberlist's node metadata
	// (Serf.SetTags changes them later). Encoded, they must fit in 512 bytes.
	Tags map[string]string

	// ProtocolVersion is the Serf protocol spoken, between ProtocolVersionMin
	// and ProtocolVersionMax. Default 4 (the agent uses 5). Below 3 tags
	// shrink to the "role" tag; below 4 queries are unavailable.
	ProtocolVersion uint8

	// ---- What the application receives ----

	// EventCh receives member events, user events and queries, in order. It
	// belongs to the caller; Serf never closes it. May be nil.
	EventCh chan<- Event

	// Member events are coalesced when both CoalescePeriod and
	// QuiescentPeriod are set: a batch goes out once QuiescentPeriod passes
	// without a new event, or CoalescePeriod after its first one. The User
	// pair does the same for user events sent with coalescing allowed.
	// All default to 0: off.
	CoalescePeriod      time.Duration
	QuiescentPeriod     time.Duration
	UserCoalescePeriod  time.Duration
	UserQuiescentPeriod time.Duration

	// EventBuffer and QueryBuffer are how many Lamport times back duplicate
	// user events and queries are recognised (512 each). EventBuffer is
	// also the number of event slots in push-pull, so keep 512 to
	// interoperate.
	EventBuffer int
	QueryBuffer int

	// ---- Limits on user events and queries ----

	// Encoded sizes, type byte included: UserEventSizeLimit (512, at most
	// the package's UserEventSizeLimit), QuerySizeLimit (1024) and
	// QueryResponseSizeLimit (1024). They bound what we send and also what
	// we accept: a received user event, query, response or relayed
	// response over its limit is dropped, not delivered or gossiped on
	// (so keep them equal across the cluster, as their defaults are).
	// Other receive-side bounds are fixed; see limits.go.
	UserEventSizeLimit     int
	QuerySizeLimit         int
	QueryResponseSizeLimit int

	// QueryTimeoutMult scales the default query timeout (see
	// Serf.DefaultQueryTimeout). Default 16.
	QueryTimeoutMult int

	// ---- Leaving and forgetting ----

	// BroadcastTimeout bounds how long Leave and RemoveFailedNode wait for
	// their intent to be gossiped (5s); Leave then sleeps
	// LeavePropagateDelay (1s) so the news can spread before the process
	// goes away.
	BroadcastTimeout    time.Duration
	LeavePropagateDelay time.Duration

	// A failed member is retried every ReconnectInterval (30s) for
	// ReconnectTimeout (24h); a member that left is remembered for
	// TombstoneTimeout (24h). Every ReapInterval (15s) members past their
	// time are erased.
	ReconnectInterval time.Duration
	ReconnectTimeout  time.Duration
	TombstoneTimeout  time.Duration
	ReapInterval      time.Duration

	// Recovery after outages (address_book.go). At start every member the
	// snapshot remembers, alive or failed, is tried; those not reached are
	// retried after RejoinRetryInterval (1s), doubling up to RejoinRetryMax
	// (30s), until Serf knows them again or ReconnectTimeout passes
	// (serf#333). Members reaped after failing are kept in an address book
	// of AddressBookSize entries (256; 0 turns it off), saved in the
	// snapshot, and every RejoinReapedInterval (60s; 0 turns it off) up to
	// RejoinReapedCount (3) of them are joined, so a partition that outlived
	// ReconnectTimeout heals by itself (serf#605).
	RejoinRetryInterval  time.Duration
	RejoinRetryMax       time.Duration
	AddressBookSize      int
	RejoinReapedInterval time.Duration
	RejoinReapedCount    int

	// ReconnectTimeoutOverride, when set, is asked for each failed member
	// at every reap what its reconnect timeout is (it gets ReconnectTimeout
	// and may return it or another value). Default nil.
	ReconnectTimeoutOverride ReconnectTimeoutOverrider

	// RecentIntentTimeout is how long an intent about a not-yet-known node
	// is kept, in case the node shows up (5m).
	RecentIntentTimeout time.Duration

	// FlapTimeout: a failed member that comes back within this time of
	// failing counts as a flap (the serf.member.flap metric). Default 60s.
	FlapTimeout time.Duration

	// ---- Outgoing queues ----

	// Every QueueCheckInterval (30s) the broadcast queues are inspected: one
	// at QueueDepthWarning (128) messages logs a warning, one above
	// MaxQueueDepth (4096) is pruned. If MinQueueDepth is above 0 (default
	// 0), the limit becomes max(MinQueueDepth, 2 × members) instead.
	QueueCheckInterval time.Duration
	QueueDepthWarning  int
	MaxQueueDepth      int
	MinQueueDepth      int

	// ---- Convergence ----

	// AntiEntropyInterval and AntiEntropyRounds shape the burst of extra
	// push/pulls with random live members that follows every membership
	// change and every new user event: the first AntiEntropyInterval (1s)
	// after the change, then after 2×, 4×, ... that interval, until
	// AntiEntropyRounds (4) exchanges passed without a new change. A quiet
	// cluster does none. Above 64 members the interval is multiplied by
	// 1 + the number of doublings past 64 (3× at 256, 6× at 2,000), so
	// a member's rate of exchanges, each of which grows with the
	// cluster, falls with the log of its size. It uses only memberlist's
	// push/pull, so peers of any kind cannot tell; 0 for either turns it
	// off. See doc.go,
	// "Convergence without a tail".
	AntiEntropyInterval time.Duration
	AntiEntropyRounds   int

	// JoinBusyRetries and JoinBusyBackoff: Join tries an address again, up
	// to JoinBusyRetries (2) more times, when its peer took the connection
	// and then closed it or did not answer in time, which is how a seed
	// busy with a join storm turns joiners away. Before try k it waits
	// JoinBusyBackoff (1s) × 2^(k-1), plus up to as much again at random.
	// Addresses that refuse or cannot be reached fail at once, as in Serf.
	// 0 retries turns it off. See join_retry.go.
	JoinBusyRetries int
	JoinBusyBackoff time.Duration

	// GossipRelief sends leave intents, user events and queries directly,
	// each to GossipNodes random live members, as memberlist user
	// messages: one round as soon as one is queued, so they spread at the
	// speed of the network rather than one gossip interval per hop, and a
	// round every gossip interval while memberlist's own queue leaves
	// Serf's gossip no room (no half packet offered for two gossip
	// intervals), as after a join storm of thousands. Each message sent
	// counts as one of its gossip transmissions. Peers receive them as
	// they do gossip. Default true. See gossip_relief.go.
	GossipRelief bool

	// PushRefutations: when memberlist refutes a suspicion or a death of
	// this node, Serf also pushes its state in TCP push/pulls to the
	// accuser and to GossipNodes-1 other random live members, so that the
	// refutation reaches them even where the few gossip transmissions of
	// memberlist's alive message are lost; on a lossy network that is what
	// turns a live node into a failed one. At most one round per probe
	// interval, none while memberlist's health score is high. Peers see
	// push/pulls like a join's. Default true. See refutation.go.
	PushRefutations bool

	// DropGossipCopies drops, in Serf's own transport, each received
	// gossip message (memberlist's alive, suspect and dead messages and
	// Serf's user messages) that repeats, byte for byte, one memberlist
	// was handed in the last seconds, before memberlist decodes it: it
	// would change nothing, and in a join storm the copies delay this
	// node's refutations of suspicions (gossip_copies.go says how). It
	// applies only where Serf brings the transport and the transport sees
	// the messages: gossip not encrypted, or encrypted by the transport
	// (TransportEncryption), and compressed by it (TransportCompression)
	// or not at all. Invisible on the wire. Default true.
	DropGossipCopies bool

	// TellAccused sends each suspicion this node raises (its probe of a
	// member failed) straight to the accused, as memberlist's suspect
	// message in a packet of its own, besides gossiping it, so that the
	// accused can refute it before the suspicion timeout; memberlist
	// itself tells the accused only by chance or at its next probe of it.
	// It applies where DropGossipCopies does, and where memberlist does
	// not compress what it sends itself (TransportCompression on, as the
	// agent sets it, or EnableCompression off). One packet per suspicion
	// this node raises. Default true. See direct_notice.go.
	TellAccused bool

	// TellLeave sends this node's leave (memberlist's dead message about
	// itself) straight to every other member Serf holds as alive or
	// leaving, once, besides gossiping it, so that a graceful leave is
	// seen everywhere at once instead of after several gossip rounds. It
	// applies where TellAccused does. One packet per member per leave.
	// Default true. See direct_notice.go.
	TellLeave bool

	// DropSecondHandGossip keeps a node that joins a cluster while it
	// holds no other member alive from gossiping the members the join
	// told it of: memberlist would gossip an alive message for each,
	// news to nobody, since the cluster it could tell is the one they came
	// from. A node that knew others before still spreads what a join
	// brought, and a seed still spreads its joiners. It applies where
	// TellAccused does. Invisible on the wire. Default true. See
	// second_hand.go.
	DropSecondHandGossip bool

	// MembershipRetransmitMult, when above 0, is the RetransmitMult of
	// membership gossip only: memberlist's own alive, suspect and dead
	// messages and Serf's join intents, each gossiped
	// MembershipRetransmitMult × ceil(log10(N+1)) times by each member.
	// Leave intents, user events and queries keep
	// MemberlistConfig.RetransmitMult (4), as in Serf. 0 means
	// RetransmitMult. Default 2. Where FullRetransmitBelow is set, it
	// applies only where Serf's transport can top small clusters up (it
	// brings the transport and sees the messages, as for TellAccused);
	// elsewhere membership gossip keeps RetransmitMult. See doc.go,
	// "Membership gossip is sent less often, but not in small clusters".
	MembershipRetransmitMult int

	// FullRetransmitBelow: while Serf knows fewer members than this, each
	// membership message still goes out RetransmitMult ×
	// ceil(log10(N+1)) times from each member, as in Serf: the
	// MembershipRetransmitMult share by memberlist's gossip and the rest
	// by Serf's transport, which sends the message alone to that many more
	// random live members the first time memberlist sends it. Small
	// clusters have few transmissions to spare on a lossy network. 0
	// turns the top-up off, and MembershipRetransmitMult then applies
	// everywhere. Default 32. See membership_topup.go.
	FullRetransmitBelow int

	// ---- Optional behaviour ----

	// EnableNameConflictResolution makes this node ask the cluster, when
	// another node claims its name, which of the two should survive; the
	// loser shuts down. Default true.
	EnableNameConflictResolution bool

	// DisableCoordinates turns off Vivaldi network coordinates and the
	// ping-ack payload that carries them. Default false.
	DisableCoordinates bool

	// ---- Files ----

	// SnapshotPath, when set, persists membership and clocks so a restart
	// can rejoin. RejoinAfterLeave allows that rejoin after a graceful leave.
	SnapshotPath     string
	RejoinAfterLeave bool

	// KeyringFile, when set, is rewritten after every successful key change
	// (format: keyring_file.go).
	KeyringFile string

	// ---- Underneath ----

	// MemberlistConfig configures the memberlist underneath. Serf's copy of
	// it gets its own Name, delegates, delegate protocol versions and
	// ProtocolVersion; the caller's is left as it is.
	MemberlistConfig *memberlist.Config

	// TransportCompression moves memberlist's compression of what it sends
	// into Serf's own transport, the same bytes on the wire at a fraction
	// of the cost (wire_compression.go says why). It applies only where
	// Serf brings the transport (MemberlistConfig.Transport nil), with
	// MemberlistConfig.EnableCompression on and gossip not encrypted, or
	// encrypted by the transport as well (TransportEncryption). With
	// it set, that transport is what counts memberlist.udp.sent and
	// memberlist.tcp.sent, into Metrics, compressing or not: memberlist
	// counts a message before the transport compresses it, so the caller
	// keeps memberlist's own two counts out of its sinks (the agent's
	// telemetry filters them from go-metrics' global registry). Default
	// false: memberlist compresses and counts, as in Serf.
	TransportCompression bool

	// TransportEncryption moves memberlist's encryption of gossip into
	// Serf's own transport as well, the same bytes on the wire, so that an
	// encrypted agent's transport can also take compression over
	// (wire_encryption.go says why). It applies only where Serf brings the
	// transport, with a keyring or SecretKey and no Label in
	// MemberlistConfig; Serf then keeps the keyring (SecretKey folded into
	// it as memberlist would) and hands memberlist a copy of
	// MemberlistConfig without it. Default false: memberlist encrypts, as
	// in Serf.
	TransportEncryption bool

	// Logger receives every log line of Serf and, unless the memberlist
	// config has its own, of memberlist. When it is nil, a logger with
	// timestamps on LogOutput is used, and on stderr when that is nil too.
	// DefaultConfig sets LogOutput to os.Stderr; Logger wins when both are set.
	Logger    *log.Logger
	LogOutput io.Writer

	// ---- Telemetry ----

	// Metrics receives the serf.* metrics (metrics.go lists them). Nil
	// means go-metrics' global registry, as in Serf; memberlist always
	// reports to that global registry.
	Metrics *metrics.Metrics

	// MetricLabels are put on every serf.* metric and handed to memberlist
	// for its own (replacing MemberlistConfig.MetricLabels).
	MetricLabels []metrics.Label

	// ---- For programs written against upstream ----

	// Merge, when set, is asked before this node merges with another
	// cluster, on join and on every push/pull that brings new members and
	// for each newly alive node; an error aborts that merge. Default nil.
	Merge MergeDelegate

	// ValidateNodeNames makes Create, and the Merge delegate's checks,
	// reject node names with characters other than letters, digits, '-'
	// and '.', or longer than MaxNodeNameLength. Default false.
	ValidateNodeNames bool

	// MsgpackUseNewTimeFormat makes the encoder write time.Time values in
	// msgpack's timestamp extension instead of the old binary format.
	// No message Serf sends holds a time.Time, so this changes no byte on
	// the wire today; decoding understands both formats. Default false.
	MsgpackUseNewTimeFormat bool
}

// Init fills in the maps a zero Config needs (Tags). Create does not
// need it; it is here for programs written against upstream's package.
func (c *Config) Init() {
	if c.Tags == nil {
		c.Tags = make(map[string]string)
	}
}

// DefaultConfig returns the library defaults, on top of memberlist's LAN
// profile.
func DefaultConfig() *Config {
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "localhost"
	}
	c := &Config{
		NodeName:         hostname,
		Tags:             make(map[string]string),
		ProtocolVersion:  4,
		MemberlistConfig: withDeepHandoffQueue(memberlist.DefaultLANConfig()),
		LogOutput:        os.Stderr,

		EnableNameConflictResolution: true,
	}
	c.EventBuffer, c.QueryBuffer = 512, 512
	c.UserEventSizeLimit, c.QuerySizeLimit, c.QueryResponseSizeLimit = 512, 1024, 1024
	c.QueryTimeoutMult = 16
	c.BroadcastTimeout, c.LeavePropagateDelay = 5*time.Second, time.Second
	c.ReconnectInterval, c.ReconnectTimeout = 30*time.Second, 24*time.Hour
	c.TombstoneTimeout, c.ReapInterval = 24*time.Hour, 15*time.Second
	c.RecentIntentTimeout, c.FlapTimeout = 5*time.Minute, 60*time.Second
	c.RejoinRetryInterval, c.RejoinRetryMax = time.Second, 30*time.Second
	c.AddressBookSize, c.RejoinReapedInterval, c.RejoinReapedCount = 256, time.Minute, 3
	c.QueueCheckInterval, c.QueueDepthWarning, c.MaxQueueDepth = 30*time.Second, 128, 4096
	c.AntiEntropyInterval, c.AntiEntropyRounds = time.Second, 4
	c.GossipRelief, c.PushRefutations, c.DropGossipCopies, c.TellAccused = true, true, true, true
	c.TellLeave, c.DropSecondHandGossip = true, true
	c.MembershipRetransmitMult, c.FullRetransmitBelow = 2, 32
	c.JoinBusyRetries, c.JoinBusyBackoff = 2, time.Second
	return c
}

// membershipRetransmitMult is the RetransmitMult of membership gossip:
// MembershipRetransmitMult (RetransmitMult where it is 0), but never below
// RetransmitMult where FullRetransmitBelow asks for a top-up that Serf's
// transport cannot give (toppedUp false).
func (c *Config) membershipRetransmitMult(toppedUp bool) int {
	full, mult := c.MemberlistConfig.RetransmitMult, c.MembershipRetransmitMult
	if mult <= 0 || (mult < full && c.FullRetransmitBelow > 0 && !toppedUp) {
		return full
	}
	return mult
}

// withRetransmitMult is c, or a copy of it with RetransmitMult mult: the
// configuration memberlist gets, while Serf's own queues of leave intents,
// user events and queries keep c's.
func withRetransmitMult(c *memberlist.Config, mult int) *memberlist.Config {
	if c.RetransmitMult == mult {
		return c
	}
	cp := *c
	cp.RetransmitMult = mult
	return &cp
}

// MemberlistProfile returns memberlist's defaults for the agent's -profile
// names "lan", "wan" and "local", with a deeper handoff queue.
func MemberlistProfile(name string) (*memberlist.Config, error) {
	var c *memberlist.Config
	switch name {
	case "lan":
		c = memberlist.DefaultLANConfig()
	case "wan":
		c = memberlist.DefaultWANConfig()
	case "local":
		c = memberlist.DefaultLocalConfig()
	default:
		return nil, fmt.Errorf("Unknown profile: %s", name)
	}
	return withDeepHandoffQueue(c), nil
}

// handoffQueueDepth replaces memberlist's 1,024 as the depth of each of
// its two queues of received gossip (alive messages; suspect, dead and
// user messages) waiting for its one handler goroutine.
//
// A member that the machine did not schedule for a moment finds its
// socket buffer full of packets, and its reader queues their messages
// faster than the handler, on the same thread, takes them off. Past the
// depth memberlist drops them, alive messages too: in a storm of 160
// joins on two cores about a thousand alive messages were dropped within
// three seconds, each a member that some agent then missed until the next
// push/pull, and in worse runs suspicions of the very member that would
// have refuted them. 8,192 dropped none (BENCHMARKS.md, "session 14").
// The queues hold slices of received packets (at most 1,400 bytes of
// which a packet's several messages share) and are empty except in such
// bursts; nothing of it shows on the wire.
const handoffQueueDepth = 8192

// withDeepHandoffQueue sets memberlist's handoff queue depth to
// handoffQueueDepth and returns c.
func withDeepHandoffQueue(c *memberlist.Config) *memberlist.Config {
	c.HandoffQueueDepth = handoffQueueDepth
	return c
}

// private returns the copy of c that a Serf instance keeps: the struct,
// the memberlist config and the tags are its own. (The keyring stays
// shared: it is an object Serf changes on purpose, not a setting.)
func (c *Config) private() *Config {
	cp := *c
	cp.Tags = maps.Clone(c.Tags)
	cp.MetricLabels = slices.Clone(c.MetricLabels)
	if cp.Tags == nil {
		cp.Tags = make(map[string]string)
	}
	if c.MemberlistConfig != nil {
		ml := *c.MemberlistConfig
		cp.MemberlistConfig = &ml
	}
	return &cp
}

// validate checks the settings Create cannot work with. The messages are
// those of real Serf, because the agent shows them to users.
func (c *Config) validate() error {
	if c.ProtocolVersion < ProtocolVersionMin {
		return fmt.Errorf("Protocol version '%d' too low. Must be in range: [%d, %d]",
			c.ProtocolVersion, ProtocolVersionMin, ProtocolVersionMax)
	}
	if c.ProtocolVersion > ProtocolVersionMax {
		return fmt.Errorf("Protocol version '%d' too high. Must be in range: [%d, %d]",
			c.ProtocolVersion, ProtocolVersionMin, ProtocolVersionMax)
	}
	if c.UserEventSizeLimit > UserEventSizeLimit {
		return fmt.Errorf("user event size limit exceeds limit of %d bytes", UserEventSizeLimit)
	}
	if c.MemberlistConfig == nil {
		return fmt.Errorf("memberlist config is required")
	}
	if c.EventBuffer <= 0 || c.QueryBuffer <= 0 {
		return fmt.Errorf("EventBuffer and QueryBuffer must be positive")
	}
	return nil
}
