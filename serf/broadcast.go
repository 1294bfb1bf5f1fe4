package serf

import (
	"math"
	"time"

	"github.com/hashicorp/memberlist"
)

// broadcast is one Serf message waiting in a transmit-limited queue.
// Serf broadcasts never replace each other: every intent, event and query
// is gossiped its full number of times.
type broadcast struct {
	msg    []byte
	notify chan<- struct{} // closed once the message leaves the queue, if set
}

func (b *broadcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b *broadcast) Message() []byte                       { return b.msg }
func (b *broadcast) Finished() {
	if b.notify != nil {
		close(b.notify)
	}
}

// broadcast encodes body and queues it on q. notify, if not nil, is closed
// when memberlist is done with the message.
func (s *Serf) broadcast(q *memberlist.TransmitLimitedQueue, t messageType, body interface{}, notify chan<- struct{}) error {
	raw, err := s.codec.encodeMessage(t, body)
	if err != nil {
		return err
	}
	q.QueueBroadcast(&broadcast{msg: raw, notify: notify})
	return nil
}

// rebroadcast queues bytes received from a peer, unchanged.
func rebroadcast(q *memberlist.TransmitLimitedQueue, raw []byte) {
	// The receive buffer may be reused by memberlist; keep our own copy.
	q.QueueBroadcast(&broadcast{msg: append([]byte(nil), raw...)})
}

// queueCheckLoop periodically warns about, and trims, queues that grow
// faster than gossip can drain them.
func (s *Serf) queueCheckLoop() {
	if s.config.QueueCheckInterval <= 0 {
		return
	}
	ticker := time.NewTicker(s.config.QueueCheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			s.checkQueue("Intent", s.leaveBroadcasts, s.joinBroadcasts)
			s.checkQueue("Event", s.eventBroadcasts)
			s.checkQueue("Query", s.queryBroadcasts)
		case <-s.shutdownCh:
			return
		}
	}
}

// checkQueue reports the depth of the named queue, made of qs (the intents
// are two), and trims it to the limit, keeping the newest messages of the
// earlier queues first.
func (s *Serf) checkQueue(name string, qs ...*memberlist.TransmitLimitedQueue) {
	depth := 0
	for _, q := range qs {
		depth += q.NumQueued()
	}
	s.metrics.queueDepth(name, depth)
	if depth >= s.config.QueueDepthWarning {
		s.logger.Printf("[WARN] serf: %s queue depth: %d", name, depth)
	}
	if limit := s.maxQueueDepth(); depth > limit {
		s.logger.Printf("[WARN] serf: %s queue depth (%d) exceeds limit (%d), dropping messages!",
			name, depth, limit)
		room := limit
		for _, q := range qs {
			q.Prune(room)
			room = max(room-q.NumQueued(), 0)
		}
	}
}

// maxQueueDepth is MaxQueueDepth, or with MinQueueDepth set, a limit that
// scales with the cluster: max(MinQueueDepth, 2 × members).
func (s *Serf) maxQueueDepth() int {
	if s.config.MinQueueDepth <= 0 {
		return s.config.MaxQueueDepth
	}
	limit := 2 * s.NumNodes()
	if limit < s.config.MinQueueDepth {
		limit = s.config.MinQueueDepth
	}
	return limit
}

// clusterScale is ceil(log10(n+1)) for a cluster of n members (at least
// 1): memberlist's factor of RetransmitMult, and the rounds gossip needs
// to reach everyone.
func clusterScale(n int) int {
	return max(1, int(math.Ceil(math.Log10(float64(n+1)))))
}
