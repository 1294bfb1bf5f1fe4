package serf

import (
	"fmt"
	"net"
)

// EventType tells the kind of an Event delivered on Config.EventCh.
type EventType int

const (
	EventMemberJoin EventType = iota
	EventMemberLeave
	EventMemberFailed
	EventMemberUpdate
	EventMemberReap
	EventUser
	EventQuery
)

// String returns the name the agent, the RPC stream and handler scripts use
// for the event type (SERF_EVENT, stream "Event" field, handler filters).
func (t EventType) String() string {
	switch t {
	case EventMemberJoin:
		return "member-join"
	case EventMemberLeave:
		return "member-leave"
	case EventMemberFailed:
		return "member-failed"
	case EventMemberUpdate:
		return "member-update"
	case EventMemberReap:
		return "member-reap"
	case EventUser:
		return "user"
	case EventQuery:
		return "query"
	default:
		return fmt.Sprintf("unknown-event-%d", int(t))
	}
}

// Event is anything Serf delivers to the application: a *MemberEvent, a
// UserEvent or a *Query.
type Event interface {
	EventType() EventType
	String() string
}

// MemberStatus is a member's Serf-level state. The numeric values are the
// ones Serf puts on the wire (conflict responses).
type MemberStatus int

const (
	StatusNone MemberStatus = iota
	StatusAlive
	StatusLeaving
	StatusLeft
	StatusFailed
)

// String returns the lower-case status name used by RPC and the CLI.
func (s MemberStatus) String() string {
	switch s {
	case StatusNone:
		return "none"
	case StatusAlive:
		return "alive"
	case StatusLeaving:
		return "leaving"
	case StatusLeft:
		return "left"
	case StatusFailed:
		return "failed"
	default:
		panic(fmt.Sprintf("unknown MemberStatus: %d", int(s)))
	}
}

// Member is one node of the cluster as Serf sees it. The field names are
// also the msgpack keys of the conflict-response payload (message type 6).
type Member struct {
	Name   string
	Addr   net.IP
	Port   uint16
	Tags   map[string]string
	Status MemberStatus

	// memberlist protocol versions (min, max, current).
	ProtocolMin uint8
	ProtocolMax uint8
	ProtocolCur uint8

	// Serf ("delegate") protocol versions (min, max, current).
	DelegateMin uint8
	DelegateMax uint8
	DelegateCur uint8
}

// MemberEvent reports that one or more members joined, left, failed, were
// updated or were reaped.
type MemberEvent struct {
	Type    EventType
	Members []Member
}

func (m *MemberEvent) EventType() EventType { return m.Type }
func (m *MemberEvent) String() string       { return m.Type.String() }

// UserEvent is a custom event broadcast with Serf.UserEvent.
type UserEvent struct {
	LTime    LamportTime
	Name     string
	Payload  []byte
	Coalesce bool
}

func (u UserEvent) EventType() EventType { return EventUser }
func (u UserEvent) String() string       { return fmt.Sprintf("user-event: %s", u.Name) }
