package serf

import (
	"testing"
)

func flushed(c coalescer, events ...Event) []Event {
	for _, e := range events {
		if !c.handles(e) {
			panic("test sent an event the coalescer does not handle")
		}
		c.add(e)
	}
	return c.flush()
}

type wantMember struct {
	typ   EventType
	names []string
}

func checkMemberFlush(t *testing.T, got []Event, want ...wantMember) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events %v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if names := memberNames(t, got[i], w.typ); !sameStrings(names, w.names) {
			t.Errorf("event %d (%v): members %v, want %v", i, w.typ, names, w.names)
		}
	}
}

func TestMemberCoalescerHandles(t *testing.T) {
	c := newMemberEventCoalescer()
	for typ := EventMemberJoin; typ <= EventMemberReap; typ++ {
		if !c.handles(memberEv(typ, "a")) {
			t.Errorf("%v not handled", typ)
		}
	}
	if c.handles(UserEvent{Name: "x", Coalesce: true}) {
		t.Error("user event handled")
	}
	if c.handles((*MemberEvent)(nil)) {
		t.Error("nil member event handled")
	}
	if c.handles(MemberEvent{Type: EventQuery}) {
		t.Error("member event with a non-member type handled")
	}
}

func TestMemberCoalescerLatestTypeWins(t *testing.T) {
	c := newMemberEventCoalescer()
	got := flushed(c,
		joinOf("a", "b"),
		memberEv(EventMemberLeave, "a"),
		memberEv(EventMemberReap, "r"),
		memberEv(EventMemberFailed, "c"),
		memberEv(EventMemberUpdate, "d"),
		memberEv(EventMemberUpdate, "d"),
		joinOf("e"),
	)
	checkMemberFlush(t, got,
		wantMember{EventMemberJoin, []string{"b", "e"}},
		wantMember{EventMemberLeave, []string{"a"}},
		wantMember{EventMemberFailed, []string{"c"}},
		wantMember{EventMemberUpdate, []string{"d"}},
		wantMember{EventMemberReap, []string{"r"}},
	)
	if more := c.flush(); len(more) != 0 {
		t.Fatalf("second flush without input returned %v", more)
	}
}

func TestMemberCoalescerSkipsRepeatOfLastDelivered(t *testing.T) {
	c := newMemberEventCoalescer()
	checkMemberFlush(t, flushed(c, joinOf("a", "b")), wantMember{EventMemberJoin, []string{"a", "b"}})

	// a flapped (failed then back) inside one batch: nothing to report.
	// b is reported joined again: nothing new either.
	got := flushed(c, memberEv(EventMemberFailed, "a"), joinOf("a"), joinOf("b"))
	if len(got) != 0 {
		t.Fatalf("repeat joins delivered: %v", got)
	}

	checkMemberFlush(t, flushed(c, memberEv(EventMemberFailed, "a")), wantMember{EventMemberFailed, []string{"a"}})
	checkMemberFlush(t, flushed(c, joinOf("a")), wantMember{EventMemberJoin, []string{"a"}})
}

func TestMemberCoalescerUpdateNeverSkipped(t *testing.T) {
	c := newMemberEventCoalescer()
	for i := range 3 {
		ev := memberEv(EventMemberUpdate, "a")
		ev.Members[0].Tags = map[string]string{"round": string(rune('0' + i))}
		got := flushed(c, ev)
		checkMemberFlush(t, got, wantMember{EventMemberUpdate, []string{"a"}})
		if tag := got[0].(MemberEvent).Members[0].Tags["round"]; tag != string(rune('0'+i)) {
			t.Fatalf("round %d delivered tags of round %s", i, tag)
		}
	}
}

func TestMemberCoalescerKeepsLatestMemberData(t *testing.T) {
	c := newMemberEventCoalescer()
	old := memberEv(EventMemberUpdate, "a")
	old.Members[0].Port = 1
	newer := memberEv(EventMemberUpdate, "a")
	newer.Members[0].Port = 2
	got := flushed(c, old, newer)
	if p := got[0].(MemberEvent).Members[0].Port; p != 2 {
		t.Fatalf("delivered port %d, want the latest (2)", p)
	}
}

func TestMemberCoalescerReapForgetsMember(t *testing.T) {
	c := newMemberEventCoalescer()
	flushed(c, joinOf("a"))
	flushed(c, memberEv(EventMemberLeave, "a"))
	checkMemberFlush(t, flushed(c, memberEv(EventMemberReap, "a")), wantMember{EventMemberReap, []string{"a"}})
	if n := len(c.(*memberEventCoalescer).delivered); n != 0 {
		t.Fatalf("%d members still remembered after reap", n)
	}
	checkMemberFlush(t, flushed(c, joinOf("a")), wantMember{EventMemberJoin, []string{"a"}})
}
