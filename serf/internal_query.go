package serf

import (
	"strings"
	"time"
)

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

// internalQueries is the work of the internal-query pipeline stage
// (stage.go): _serf_ queries are answered here and go no further; every
// other event is passed on.
type internalQueries struct{ s *Serf }

func (w internalQueries) take(e Event, pass func(Event)) {
	if !w.s.interceptInternal(e) {
		pass(e)
	}
}

func (internalQueries) due() <-chan time.Time { return nil }
func (internalQueries) release(func(Event))   {}
func (internalQueries) stopped()              {}

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
