package serf

import (
	"testing"
	"time"
)

// testWait bounds every wait in these tests; generous because the test
// machine is shared.
const testWait = 5 * time.Second

func recvEvent(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(testWait):
		t.Fatal("timed out waiting for an event")
		return nil
	}
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testWait):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func joinOf(names ...string) MemberEvent {
	return memberEv(EventMemberJoin, names...)
}

func memberEv(typ EventType, names ...string) MemberEvent {
	ev := MemberEvent{Type: typ}
	for _, n := range names {
		ev.Members = append(ev.Members, Member{Name: n})
	}
	return ev
}

func memberNames(t *testing.T, e Event, typ EventType) []string {
	t.Helper()
	me, ok := e.(MemberEvent)
	if !ok {
		t.Fatalf("got %T %v, want MemberEvent", e, e)
	}
	if me.Type != typ {
		t.Fatalf("got %v event, want %v", me.Type, typ)
	}
	var names []string
	for _, m := range me.Members {
		names = append(names, m.Name)
	}
	return names
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCoalesceLoopQuiescentFlushAndPassThrough(t *testing.T) {
	out := make(chan Event, 16)
	shutdown := make(chan struct{})
	defer close(shutdown)
	in := coalescedEventCh(out, shutdown, time.Hour, 200*time.Millisecond, newMemberEventCoalescer())

	in <- joinOf("a")
	in <- joinOf("b")
	in <- UserEvent{Name: "marker"}

	// The user event is not coalesced by this coalescer and overtakes the
	// held joins.
	if e := recvEvent(t, out); e.EventType() != EventUser {
		t.Fatalf("first event %v, want the pass-through user event", e)
	}
	// Only quiescence can release the joins (the period is an hour).
	if got := memberNames(t, recvEvent(t, out), EventMemberJoin); !sameStrings(got, []string{"a", "b"}) {
		t.Fatalf("joined members %v, want [a b]", got)
	}
}

func TestCoalesceLoopPeriodFlushesBusyStream(t *testing.T) {
	out := make(chan Event, 16)
	shutdown := make(chan struct{})
	defer close(shutdown)
	// Quiescence never comes (an hour); only the period can flush, and it
	// must do so for every batch, not just the first.
	in := coalescedEventCh(out, shutdown, 30*time.Millisecond, time.Hour, newMemberEventCoalescer())

	flushes := 0
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(testWait)
	for flushes < 2 {
		select {
		case <-tick.C:
			// Updates are never suppressed, so every batch yields output.
			in <- memberEv(EventMemberUpdate, "n")
		case <-out:
			flushes++
		case <-deadline:
			t.Fatalf("only %d flushes while events kept arriving", flushes)
		}
	}
}

func TestCoalesceLoopFlushesAtShutdown(t *testing.T) {
	out := make(chan Event, 16)
	shutdown := make(chan struct{})
	in, done := startCoalescer(out, shutdown, time.Hour, time.Hour, newMemberEventCoalescer())

	in <- joinOf("a")
	in <- memberEv(EventMemberUpdate, "b")
	// The loop handles its input in order, so once the marker is out the
	// two member events are held.
	in <- UserEvent{Name: "marker"}
	recvEvent(t, out)

	close(shutdown)
	waitClosed(t, done, "coalescer goroutine")
	if got := memberNames(t, recvEvent(t, out), EventMemberJoin); !sameStrings(got, []string{"a"}) {
		t.Fatalf("join members %v", got)
	}
	if got := memberNames(t, recvEvent(t, out), EventMemberUpdate); !sameStrings(got, []string{"b"}) {
		t.Fatalf("update members %v", got)
	}
}

func TestCoalesceLoopShutdownTakesQueuedInput(t *testing.T) {
	out := make(chan Event, 16)
	shutdown := make(chan struct{})
	close(shutdown) // already shut down: the loop can only drain
	in := make(chan Event, 4)
	in <- joinOf("a")
	in <- UserEvent{Name: "pass"}
	in <- joinOf("b")
	newStage(newCoalescing(time.Hour, time.Hour, newMemberEventCoalescer()), in, out, shutdown).run()
	if e := recvEvent(t, out); e.EventType() != EventUser {
		t.Fatalf("first %v, want the pass-through event", e)
	}
	if got := memberNames(t, recvEvent(t, out), EventMemberJoin); !sameStrings(got, []string{"a", "b"}) {
		t.Fatalf("join members %v", got)
	}
}

func TestCoalesceLoopStopsWithStuckConsumer(t *testing.T) {
	for _, name := range []string{"held", "pass-through"} {
		t.Run(name, func(t *testing.T) {
			out := make(chan Event) // nobody reads
			shutdown := make(chan struct{})
			in, done := startCoalescer(out, shutdown, time.Hour, time.Hour, newMemberEventCoalescer())
			if name == "held" {
				in <- joinOf("a")
			} else {
				in <- UserEvent{Name: "x"}
			}
			close(shutdown)
			waitClosed(t, done, "coalescer goroutine")
		})
	}
}

func TestCoalesceLoopUserEventOrdering(t *testing.T) {
	// Mirrors what real Serf does: a coalesced event is held while a later
	// non-coalesced one of the same name goes straight through.
	out := make(chan Event, 16)
	shutdown := make(chan struct{})
	defer close(shutdown)
	in := coalescedEventCh(out, shutdown, time.Hour, 200*time.Millisecond, newUserEventCoalescer())

	in <- UserEvent{LTime: 1, Name: "deploy", Payload: []byte("v1.2"), Coalesce: true}
	in <- UserEvent{LTime: 2, Name: "deploy"}
	in <- joinOf("a") // member events are not this coalescer's business

	first, second, third := recvEvent(t, out), recvEvent(t, out), recvEvent(t, out)
	if u, ok := first.(UserEvent); !ok || u.LTime != 2 {
		t.Fatalf("first %v, want the non-coalesced LTime 2", first)
	}
	if second.EventType() != EventMemberJoin {
		t.Fatalf("second %v, want the member join", second)
	}
	if u, ok := third.(UserEvent); !ok || u.LTime != 1 {
		t.Fatalf("third %v, want the coalesced LTime 1", third)
	}
}
