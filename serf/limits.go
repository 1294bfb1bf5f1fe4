package serf

import (
	"log"
	"sync"
	"time"
)

// Receive-side limits. Everything a peer can make us keep is bounded by
// count and by bytes, so one misbehaving (or hostile) member cannot grow
// our memory without limit or make our push/pull state too big for
// memberlist to carry. Well-behaved peers never come near these bounds:
// nothing changes on the wire for them. The send-side limits (Config's
// UserEventSizeLimit, QuerySizeLimit and QueryResponseSizeLimit) are
// applied on receive too, in delegate.go.
const (
	// maxRecentIntents caps the intents kept about nodes memberlist does
	// not know (intents.go). Every name in a peer's push/pull that we do
	// not know leaves one behind for RecentIntentTimeout; when the table is
	// full the oldest is dropped. Real clusters buffer a handful at a time
	// (intents race memberlist's own news of a node by seconds).
	maxRecentIntents = 8192

	// maxIntentNameLen is the longest node name an intent about an unknown
	// node may carry. Longer names, empty ones and names with NUL, CR or LF
	// (which no agent can be started with) are not plausible and are
	// ignored.
	maxIntentNameLen = 512

	// maxEventsPerLTime caps the distinct user events remembered at one
	// event-clock time. Distinct events share a time only when members
	// send concurrently; 256 at once is far beyond that in practice.
	maxEventsPerLTime = 256

	// maxEventBufferBytes caps the names and payloads (plus
	// eventEntryOverhead each) of all user events remembered, which is
	// what our push/pull state carries as its Events: 4 MiB, a fifth of
	// memberlist's 20 MiB limit on a remote state.
	maxEventBufferBytes = 4 << 20

	// eventEntryOverhead is the msgpack framing of one remembered event in
	// push/pull (map header, the two keys, string and byte headers).
	eventEntryOverhead = 24

	// maxQueriesPerLTime caps the query IDs remembered at one query-clock
	// time (4 bytes each, so the query ring holds at most 2 MiB of IDs at the
	// default QueryBuffer).
	maxQueriesPerLTime = 1024

	// maxRelayFactor caps the relay factor of a query received from the
	// network: each of our acks and responses to it goes to at most this
	// many relays besides the origin. The query is still re-gossiped as
	// it came. Upstream's CLI default is 0; 5 is plenty to route around a
	// few broken paths.
	maxRelayFactor = 5

	// minQueryTimeoutCap and queryTimeoutCapMult bound how long a query
	// received from the network may be answered: its timeout is capped at
	// the larger of minQueryTimeoutCap and queryTimeoutCapMult times our
	// own DefaultQueryTimeout (which is about 13 s for 1,000 members on a
	// LAN), so a sender cannot keep our responders' state alive for hours.
	minQueryTimeoutCap  = 5 * time.Minute
	queryTimeoutCapMult = 10
)

// plausibleNodeName reports whether name could be a member's name.
func plausibleNodeName(name string) bool {
	if name == "" || len(name) > maxIntentNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case 0, '\r', '\n':
			return false
		}
	}
	return true
}

// maxRemoteQueryTimeout is the longest timeout honoured for a query that
// came from the network.
func (s *Serf) maxRemoteQueryTimeout() time.Duration {
	return max(minQueryTimeoutCap, queryTimeoutCapMult*s.DefaultQueryTimeout())
}

// boundRemoteQuery applies the relay-factor and timeout caps to a query
// received from the network. Only our decoded copy changes: the query is
// re-gossiped byte for byte as it arrived.
func (s *Serf) boundRemoteQuery(msg *messageQuery) {
	if msg.RelayFactor > maxRelayFactor {
		msg.RelayFactor = maxRelayFactor
	}
	if limit := s.maxRemoteQueryTimeout(); msg.Timeout > limit {
		msg.Timeout = limit
	}
}

// dropEpisodeGap is how long drops of one kind must pause before the
// next drop counts as a new episode and is warned about again.
const dropEpisodeGap = time.Minute

// dropEpisode rate-limits the warning about one kind of dropped input to
// once per episode: the first drop logs, later ones only count, until drops
// have paused for dropEpisodeGap. A flood costs one log line a minute at
// most, not one per message.
type dropEpisode struct {
	mu    sync.Mutex
	last  time.Time // of the latest drop
	total uint64    // over the instance's life
}

// drop counts one dropped input and, if it starts an episode, logs
// warning (a complete log line, "[WARN] serf: ...") with args.
func (d *dropEpisode) drop(logger *log.Logger, warning string, args ...any) {
	now := time.Now()
	d.mu.Lock()
	first := d.last.IsZero() || now.Sub(d.last) > dropEpisodeGap
	d.last = now
	d.total++
	d.mu.Unlock()
	if first {
		logger.Printf(warning, args...)
	}
}

// count is the number of inputs dropped over the instance's life.
func (d *dropEpisode) count() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.total
}

// receiveLimits holds one drop episode per kind of bounded input.
type receiveLimits struct {
	bigUserEvents     dropEpisode // over UserEventSizeLimit
	bigQueries        dropEpisode // over QuerySizeLimit
	bigResponses      dropEpisode // over QueryResponseSizeLimit (responses and relays)
	crowdedEvents     dropEpisode // maxEventsPerLTime reached
	fullEventBuffer   dropEpisode // maxEventBufferBytes reached
	crowdedQueries    dropEpisode // maxQueriesPerLTime reached
	intentOverflow    dropEpisode // maxRecentIntents reached
	implausibleIntent dropEpisode // names failing plausibleNodeName
}
