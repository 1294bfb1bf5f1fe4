package serf

import (
	"fmt"
	"net"
)

// EventType tells the kind of an Event delivered on Config.EventCh. The
// values count up from EventMemberJoin in the order below; eventTypeNames
// holds their names.
type EventType int

const (
	EventMemberJoin   EventType = iota // MemberEvent: members joined
	EventMemberLeave                   // MemberEvent: members left gracefully
	EventMemberFailed                  // MemberEvent: members stopped answering
	EventMemberUpdate                  // MemberEvent: members changed tags
	EventMemberReap                    // MemberEvent: failed or left members forgotten
	EventUser                          // UserEvent
	EventQuery                         // *Query
)

// eventTypeNames is the one list of event-type names: what String returns,
// what the agent puts in SERF_EVENT and the RPC stream, and what handler
// filters and ParseEventType accept. Indexed by EventType; never written.
var eventTypeNames = [...]string{
	EventMemberJoin:   "member-join",
	EventMemberLeave:  "member-leave",
	EventMemberFailed: "member-failed",
	EventMemberUpdate: "member-update",
	EventMemberReap:   "member-reap",
	EventUser:         "user",
	EventQuery:        "query",
}

// String returns the event type's name (see eventTypeNames), or
// "unknown-event-N" for a value outside the list.
func (t EventType) String() string {
	if t >= 0 && int(t) < len(eventTypeNames) {
		return eventTypeNames[t]
	}
	return fmt.Sprintf("unknown-event-%d", int(t))
}

// ParseEventType is the inverse of EventType.String for the known types.
func ParseEventType(name string) (EventType, bool) {
	for t, n := range eventTypeNames {
		if n == name {
			return EventType(t), true
		}
	}
	return 0, false
}

// Event is anything Serf delivers to the application: a MemberEvent, a
// UserEvent (always by value) or a *Query.
type Event interface {
	EventType() EventType
	String() string
}

// MemberStatus is a member's Serf-level state. The numeric values are the
// ones Serf puts on the wire (conflict responses), so the order is fixed.
type MemberStatus int

const (
	StatusNone MemberStatus = iota
	StatusAlive
	StatusLeaving
	StatusLeft
	StatusFailed
)

// memberStatusNames are the lower-case names RPC and the CLI show,
// indexed by MemberStatus; never written.
var memberStatusNames = [...]string{
	StatusNone:    "none",
	StatusAlive:   "alive",
	StatusLeaving: "leaving",
	StatusLeft:    "left",
	StatusFailed:  "failed",
}

// String returns the status name. A value outside the list is a
// programming error and panics.
func (s MemberStatus) String() string {
	if s < 0 || int(s) >= len(memberStatusNames) {
		panic(fmt.Sprintf("unknown MemberStatus: %d", int(s)))
	}
	return memberStatusNames[s]
}

// Member is one node of the cluster as Serf sees it. The field names are
// also the msgpack keys of the conflict-response payload (message type 6),
// in this order, so neither may change.
type Member struct {
	Name string
	Addr net.IP
	Port uint16
	Tags map[string]string

	Status MemberStatus

	// What the node speaks: memberlist's protocol range and version in
	// use, then the same for Serf's own (memberlist "delegate") protocol.
	ProtocolMin, ProtocolMax, ProtocolCur uint8
	DelegateMin, DelegateMax, DelegateCur uint8
}

// MemberEvent reports that one or more members joined, left, failed, were
// updated or were reaped.
type MemberEvent struct {
	Type    EventType
	Members []Member
}

func (m MemberEvent) EventType() EventType { return m.Type }
func (m MemberEvent) String() string       { return m.Type.String() }

// UserEvent is a custom event broadcast with Serf.UserEvent.
type UserEvent struct {
	LTime    LamportTime
	Name     string
	Payload  []byte
	Coalesce bool
}

func (u UserEvent) EventType() EventType { return EventUser }
func (u UserEvent) String() string       { return fmt.Sprintf("user-event: %s", u.Name) }
