package serf

import "testing"

func TestEventTypeNamesRoundTrip(t *testing.T) {
	want := map[EventType]string{
		EventMemberJoin: "member-join", EventMemberLeave: "member-leave",
		EventMemberFailed: "member-failed", EventMemberUpdate: "member-update",
		EventMemberReap: "member-reap", EventUser: "user", EventQuery: "query",
	}
	for typ, name := range want {
		if got := typ.String(); got != name {
			t.Errorf("%d.String() = %q, want %q", int(typ), got, name)
		}
		if got, ok := ParseEventType(name); !ok || got != typ {
			t.Errorf("ParseEventType(%q) = %v, %v", name, got, ok)
		}
	}
	for _, bad := range []string{"", "*", "User", "member", "unknown-event-9"} {
		if _, ok := ParseEventType(bad); ok {
			t.Errorf("ParseEventType(%q) accepted", bad)
		}
	}
	if got := EventType(9).String(); got != "unknown-event-9" {
		t.Errorf("EventType(9) = %q", got)
	}
	if got := EventType(-1).String(); got != "unknown-event--1" {
		t.Errorf("EventType(-1) = %q", got)
	}
}

func TestStateAndStatusNames(t *testing.T) {
	if SerfLeft.String() != "left" || SerfState(7).String() != "unknown" {
		t.Errorf("SerfState names: %q %q", SerfLeft, SerfState(7))
	}
	if StatusFailed.String() != "failed" || StatusNone.String() != "none" {
		t.Errorf("MemberStatus names: %q %q", StatusFailed, StatusNone)
	}
}
