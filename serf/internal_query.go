package serf

import "strings"

// InternalQueryPrefix marks queries Serf answers itself. They never reach
// Config.EventCh.
const InternalQueryPrefix = "_serf_"

// Names of the internal queries, without the prefix.
const (
	pingQuery       = "ping"
	conflictQuery   = "conflict"
	installKeyQuery = "install-key"
	useKeyQuery     = "use-key"
	removeKeyQuery  = "remove-key"
	listKeysQuery   = "list-keys"
)

// startInternalQueries inserts the internal-query interceptor in front of
// out and returns its input channel.
func (s *Serf) startInternalQueries(out chan<- Event) chan<- Event {
	// Buffered so gossip handlers rarely wait on a slow application.
	in := make(chan Event, 1024)
	s.startBackground(func() {
		for {
			select {
			case e := <-in:
				if q, ok := e.(*Query); ok && strings.HasPrefix(q.Name, InternalQueryPrefix) {
					// Answering may block on the network; keep the stream moving.
					s.startBackground(func() { s.answerInternalQuery(q) })
					continue
				}
				if out == nil {
					continue
				}
				select {
				case out <- e:
				case <-s.shutdownCh:
					return
				}
			case <-s.shutdownCh:
				return
			}
		}
	})
	return in
}

// answerInternalQuery dispatches one _serf_ query. The ack, if asked for,
// was already sent when the query was received.
func (s *Serf) answerInternalQuery(q *Query) {
	name := q.Name[len(InternalQueryPrefix):]
	switch name {
	case pingQuery:
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
