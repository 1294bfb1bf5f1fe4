package serf

import (
	"testing"
	"time"
)

// passAll is stage work that holds nothing.
type passAll struct{ stoppedCh chan struct{} }

func (passAll) take(e Event, pass func(Event)) { pass(e) }
func (passAll) due() <-chan time.Time          { return nil }
func (passAll) release(func(Event))            {}
func (p passAll) stopped()                     { close(p.stoppedCh) }

// Two chained stages stopped head first lose nothing that was queued: the
// head's drain (50 events into a 4-slot input) lands in a tail that still
// runs, and order is kept.
func TestStagesStoppedInOrderDeliverEverything(t *testing.T) {
	out := make(chan Event, 100)
	tailStop, headStop := make(chan struct{}), make(chan struct{})
	tail := startStage(passAll{make(chan struct{})}, 4, out, tailStop)
	head := newStage(passAll{make(chan struct{})}, make(chan Event, 50), tail.in, headStop)
	for i := range 50 {
		head.in <- UserEvent{LTime: LamportTime(i)}
	}
	go head.run()
	close(headStop)
	waitClosed(t, head.done, "head stage")
	close(tailStop)
	waitClosed(t, tail.done, "tail stage")
	if len(out) != 50 {
		t.Fatalf("%d events delivered, want 50", len(out))
	}
	for i := range 50 {
		if u := (<-out).(UserEvent); u.LTime != LamportTime(i) {
			t.Fatalf("event %d has LTime %d: out of order", i, u.LTime)
		}
	}
}

// stopped runs once the stage has made its last delivery.
func TestStageStoppedHookRunsAtEnd(t *testing.T) {
	w := passAll{make(chan struct{})}
	stop := make(chan struct{})
	st := startStage(w, 1, nil, stop)
	st.in <- UserEvent{}
	close(stop)
	waitClosed(t, w.stoppedCh, "stopped hook")
	waitClosed(t, st.done, "stage")
}

// flushNow returns once the work released what it held, and reports a
// timeout for a stage that cannot make progress.
func TestStageFlushNow(t *testing.T) {
	out := make(chan Event, 4)
	stop := make(chan struct{})
	defer close(stop)
	st := startStage(newCoalescing(time.Hour, time.Hour, newMemberEventCoalescer()), 4, out, stop)
	st.in <- joinOf("a")
	if !st.flushNow(time.After(10 * time.Second)) {
		t.Fatal("flush timed out")
	}
	if got := memberNames(t, recvEvent(t, out), EventMemberJoin); !sameStrings(got, []string{"a"}) {
		t.Fatalf("join members %v", got)
	}

	stuck := startStage(passAll{make(chan struct{})}, 4, make(chan Event), stop)
	stuck.in <- UserEvent{} // the stage blocks handing this on
	expired := make(chan time.Time)
	close(expired)
	if stuck.flushNow(expired) {
		t.Fatal("flush of a stuck stage reported success")
	}
}
