package serf

import "strings"

// InternalQueryPrefix marks queries Serf answers itself. They never reach
// Config.EventCh.
const InternalQueryPrefix = "_serf_"

// Names of the internal queries, without the prefix.
const (
	PingQuery       = "ping" // acknowledged by every member; the agent lets users send it
	conflictQuery   = "conflict"
	installKeyQuery = "install-key"
	useKeyQuery     = "use-key"
	removeKeyQuery  = "remove-key"
	listKeysQuery   = "list-keys"
)

// startInternalQueries inserts the internal-query interceptor in front of
// out and returns its input channel. It is a pipeline stage (pipeline.go):
// at shutdown it hands on, without blocking, what is still queued, so
// events accepted before Shutdown reach the coalescers' final flush.
func (s *Serf) startInternalQueries(out chan<- Event) chan<- Event {
	// Buffered so gossip handlers rarely wait on a slow application.
	in := make(chan Event, 1024)
	stop := make(chan struct{})
	done := make(chan struct{})
	s.stages = append(s.stages, pipelineStage{stop: stop, done: done})
	go func() {
		defer close(done)
		for {
			select {
			case e := <-in:
				if !s.interceptInternal(e) && out != nil {
					select {
					case out <- e:
					case <-stop:
						s.drainInternalStage(in, out)
						return
					}
				}
			case <-stop:
				s.drainInternalStage(in, out)
				return
			}
		}
	}()
	return in
}

// interceptInternal starts answering e if it is an internal query, and
// reports whether it was one.
func (s *Serf) interceptInternal(e Event) bool {
	q, ok := e.(*Query)
	if !ok || !strings.HasPrefix(q.Name, InternalQueryPrefix) {
		return false
	}
	// Answering may block on the network; keep the stream moving. During
	// shutdown startBackground does nothing: the query goes unanswered.
	s.startBackground(func() { s.answerInternalQuery(q) })
	return true
}

// drainInternalStage passes on what is queued at shutdown, dropping what
// the next stage has no room for.
func (s *Serf) drainInternalStage(in <-chan Event, out chan<- Event) {
	for {
		select {
		case e := <-in:
			if s.interceptInternal(e) || out == nil {
				continue
			}
			select {
			case out <- e:
			default:
			}
		default:
			return
		}
	}
}

// answerInternalQuery dispatches one _serf_ query. The ack, if asked for,
// was already sent when the query was received.
func (s *Serf) answerInternalQuery(q *Query) {
	name := q.Name[len(InternalQueryPrefix):]
	switch name {
	case PingQuery:
		// The ack is the answer.
	case conflictQuery:
		s.answerConflict(q)
	case installKeyQuery, useKeyQuery, removeKeyQuery, listKeysQuery:
		s.answerKeyQuery(name, q)
	default:
		s.logger.Printf("[WARN] serf: Unhandled internal query '%s'", name)
	}
}

// answerConflict tells the asker which node we know under the disputed
// name (nil if none). The node itself stays silent: it is a party.
func (s *Serf) answerConflict(q *Query) {
	node := string(q.Payload)
	if node == s.config.NodeName {
		return
	}
	s.logger.Printf("[DEBUG] serf: Got conflict resolution query for '%s'", node)

	var out *Member
	s.memberLock.RLock()
	if m, ok := s.members[node]; ok {
		cp := m.Member
		out = &cp
	}
	s.memberLock.RUnlock()

	buf, err := s.codec.encodeMessage(messageConflictResponseType, out)
	if err != nil {
		s.logger.Printf("[ERR] serf: Failed to encode conflict query response: %v", err)
		return
	}
	if err := q.Respond(buf); err != nil {
		s.logger.Printf("[ERR] serf: Failed to respond to conflict query: %v", err)
	}
}
