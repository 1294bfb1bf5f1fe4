package serf

import (
	"fmt"
	"log"
	"maps"
	"os"
	"time"

	"github.com/hashicorp/memberlist"
)

// Serf protocol versions this implementation speaks. Every one of them runs
// on memberlist protocol 2.
const (
	ProtocolVersionMin uint8 = 2
	ProtocolVersionMax uint8 = 5

	memberlistProtocolVersion uint8 = 2
)

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
	// NodeName must be unique in the cluster. Default: the hostname.
	NodeName string

	// Tags are the initial tags, gossiped in memberlist's node metadata
	// (Serf.SetTags changes them later). Encoded, they must fit in 512 bytes.
	Tags map[string]string

	// ProtocolVersion is the Serf protocol spoken, between ProtocolVersionMin
	// and ProtocolVersionMax. Default 4 (the agent uses 5). Below 3 tags
	// shrink to the "role" tag; below 4 queries are unavailable.
	ProtocolVersion uint8

	// BroadcastTimeout bounds how long Leave and RemoveFailedNode wait for
	// their intent to be gossiped. Default 5s.
	BroadcastTimeout time.Duration

	// LeavePropagateDelay is slept after memberlist's leave so the news can
	// spread before the process goes away. Default 1s.
	LeavePropagateDelay time.Duration

	// CoalescePeriod and QuiescentPeriod enable member-event coalescing when
	// both are non-zero: events are held until QuiescentPeriod passes with
	// no new event, or CoalescePeriod passes in total. Default off.
	CoalescePeriod  time.Duration
	QuiescentPeriod time.Duration

	// UserCoalescePeriod and UserQuiescentPeriod do the same for user
	// events that allow coalescing. Default off.
	UserCoalescePeriod  time.Duration
	UserQuiescentPeriod time.Duration

	// ReapInterval is how often failed and left members past their timeout
	// are erased. Default 15s.
	ReapInterval time.Duration

	// ReconnectInterval is how often a reconnect to a failed member is
	// considered. Default 30s.
	ReconnectInterval time.Duration

	// ReconnectTimeout is how long a failed member is kept (and retried)
	// before it is reaped. Default 24h.
	ReconnectTimeout time.Duration

	// TombstoneTimeout is how long a member that left is remembered before
	// it is reaped. Default 24h.
	TombstoneTimeout time.Duration

	// RecentIntentTimeout is how long an intent about a not-yet-known node is
	// kept. Default 5m.
	RecentIntentTimeout time.Duration

	// QueueCheckInterval is how often the broadcast queues are inspected.
	// A queue at QueueDepthWarning messages logs a warning; one above
	// MaxQueueDepth is pruned. If MinQueueDepth > 0 the limit becomes
	// max(MinQueueDepth, 2 × members). Defaults 30s, 128, 4096, 0.
	QueueCheckInterval time.Duration
	QueueDepthWarning  int
	MaxQueueDepth      int
	MinQueueDepth      int

	// EventBuffer and QueryBuffer are the sizes of the rings used to drop
	// duplicate user events and queries. EventBuffer is also the number of
	// event slots in push-pull messages, so keep it at 512 to interoperate.
	EventBuffer int
	QueryBuffer int

	// QueryTimeoutMult sets the default query timeout:
	// GossipInterval × QueryTimeoutMult × ceil(log10(N+1)). Default 16.
	QueryTimeoutMult int

	// Encoded size limits, type byte included. Defaults 1024, 1024, 512.
	QueryResponseSizeLimit int
	QuerySizeLimit         int
	UserEventSizeLimit     int

	// EnableNameConflictResolution makes this node ask the cluster, when
	// another node claims its name, which of the two should survive; the
	// loser shuts down. Default true.
	EnableNameConflictResolution bool

	// DisableCoordinates turns off Vivaldi network coordinates and the
	// ping-ack payload that carries them. Default false.
	DisableCoordinates bool

	// SnapshotPath, when set, persists membership and clocks so a restart
	// can rejoin. RejoinAfterLeave allows that rejoin after a graceful leave.
	SnapshotPath     string
	RejoinAfterLeave bool

	// KeyringFile, when set, is rewritten after every successful key change.
	KeyringFile string

	// EventCh receives member events, user events and queries, in order. It
	// belongs to the caller; Serf never closes it. May be nil.
	EventCh chan<- Event

	// MemberlistConfig configures the memberlist underneath. Serf's copy of
	// it gets its own Name, delegates, delegate protocol versions and
	// ProtocolVersion; the caller's is left as it is.
	MemberlistConfig *memberlist.Config

	// Logger receives every log line of Serf and, unless the memberlist
	// config has its own, of memberlist. Default: stderr with timestamps.
	Logger *log.Logger
}

// DefaultConfig returns the library defaults, on top of memberlist's LAN
// profile.
func DefaultConfig() *Config {
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "localhost"
	}
	return &Config{
		NodeName:                     hostname,
		Tags:                         make(map[string]string),
		ProtocolVersion:              4,
		BroadcastTimeout:             5 * time.Second,
		LeavePropagateDelay:          1 * time.Second,
		ReapInterval:                 15 * time.Second,
		ReconnectInterval:            30 * time.Second,
		ReconnectTimeout:             24 * time.Hour,
		TombstoneTimeout:             24 * time.Hour,
		RecentIntentTimeout:          5 * time.Minute,
		QueueCheckInterval:           30 * time.Second,
		QueueDepthWarning:            128,
		MaxQueueDepth:                4096,
		EventBuffer:                  512,
		QueryBuffer:                  512,
		QueryTimeoutMult:             16,
		QueryResponseSizeLimit:       1024,
		QuerySizeLimit:               1024,
		UserEventSizeLimit:           512,
		EnableNameConflictResolution: true,
		MemberlistConfig:             memberlist.DefaultLANConfig(),
	}
}

// MemberlistProfile returns memberlist's defaults for the agent's -profile
// names "lan", "wan" and "local".
func MemberlistProfile(name string) (*memberlist.Config, error) {
	switch name {
	case "lan":
		return memberlist.DefaultLANConfig(), nil
	case "wan":
		return memberlist.DefaultWANConfig(), nil
	case "local":
		return memberlist.DefaultLocalConfig(), nil
	default:
		return nil, fmt.Errorf("Unknown profile: %s", name)
	}
}

// private returns the copy of c that a Serf instance keeps: the struct,
// the memberlist config and the tags are its own. (The keyring stays
// shared: it is an object Serf changes on purpose, not a setting.)
func (c *Config) private() *Config {
	cp := *c
	cp.Tags = maps.Clone(c.Tags)
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
