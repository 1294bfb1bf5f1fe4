package serf

import "time"

// Coalescing merges bursts of events into fewer, denser ones before they
// reach the application: many member joins after a partition heals become
// one member-join event listing every node, and a storm of identical user
// events shrinks to the newest one. The stage work below owns the timing;
// a coalescer owns the merge policy for the events it claims.

// coalescer is a merge policy. Its methods are only ever called from the
// goroutine of the stage it belongs to, so implementations need no locking.
type coalescer interface {
	// handles reports whether e is held for merging. Events it does not
	// handle are forwarded immediately.
	handles(e Event) bool
	// add merges e, for which handles returned true, into the pending set.
	add(e Event)
	// flush returns the events to deliver for the pending set, in delivery
	// order, and empties the pending set.
	flush() []Event
}

// coalescing is the work of a coalescing pipeline stage (stage.go): it
// holds the events its coalescer claims and releases the merged batch once
// qPeriod passes without a new event to merge, or cPeriod since the first
// event of the batch, whichever comes first. Events the coalescer does not
// claim are passed on at once, so they may overtake held ones (real Serf
// behaves the same way).
type coalescing struct {
	c                coalescer
	cPeriod, qPeriod time.Duration

	// timer fires at the batch's deadline; it runs only while holding.
	// With Go 1.23+ timer semantics a stopped or reset timer never
	// delivers a stale tick, so no draining is needed.
	timer      *time.Timer
	holding    bool
	batchStart time.Time
}

func newCoalescing(cPeriod, qPeriod time.Duration, c coalescer) *coalescing {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &coalescing{c: c, cPeriod: cPeriod, qPeriod: qPeriod, timer: t}
}

func (w *coalescing) take(e Event, pass func(Event)) {
	if !w.c.handles(e) {
		pass(e)
		return
	}
	w.c.add(e)
	now := time.Now()
	if !w.holding {
		w.holding = true
		w.batchStart = now
	}
	w.timer.Reset(w.nextDeadline(now).Sub(now))
}

// nextDeadline is when the held batch is due: the earlier of the end of
// the coalescing period and the end of the quiet period that starts now.
func (w *coalescing) nextDeadline(now time.Time) time.Time {
	end := w.batchStart.Add(w.cPeriod)
	if quiet := now.Add(w.qPeriod); quiet.Before(end) {
		end = quiet
	}
	return end
}

func (w *coalescing) due() <-chan time.Time {
	if !w.holding {
		return nil
	}
	return w.timer.C
}

func (w *coalescing) release(pass func(Event)) {
	w.timer.Stop()
	w.holding = false
	for _, e := range w.c.flush() {
		pass(e)
	}
}

func (w *coalescing) stopped() { w.timer.Stop() }

// coalescedEventCh starts a coalescing stage that feeds outCh and stops
// when shutdownCh closes, and returns its input. outCh is never closed.
func coalescedEventCh(outCh chan<- Event, shutdownCh <-chan struct{}, cPeriod, qPeriod time.Duration, c coalescer) chan<- Event {
	in, _ := startCoalescer(outCh, shutdownCh, cPeriod, qPeriod, c)
	return in
}

// startCoalescer is coalescedEventCh that also returns a channel closed when
// the stage has ended, for tests.
func startCoalescer(outCh chan<- Event, shutdownCh <-chan struct{}, cPeriod, qPeriod time.Duration, c coalescer) (chan<- Event, <-chan struct{}) {
	st := startStage(newCoalescing(cPeriod, qPeriod, c), stageInBuffer, outCh, shutdownCh)
	return st.in, st.done
}
