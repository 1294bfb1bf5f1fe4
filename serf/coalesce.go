package serf

import "time"

// Coalescing merges bursts of events into fewer, denser ones before they
// reach the application: many member joins after a partition heals become
// one member-join event listing every node, and a storm of identical user
// events shrinks to the newest one. The loop below owns the timing; a
// coalescer owns the merge policy for the events it claims.

// coalescer is a merge policy. Its methods are only ever called from the
// single goroutine running the loop, so implementations need no locking.
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

const (
	// coalesceInBuffer is the capacity of the channel feeding a coalescer.
	coalesceInBuffer = 1024

	// coalesceShutdownGrace bounds how long the final flush at shutdown
	// waits for a slow consumer before dropping what is left, so that the
	// goroutine always ends soon after shutdown.
	coalesceShutdownGrace = 250 * time.Millisecond
)

// coalescedEventCh starts a goroutine that reads events from the returned
// channel, merges the ones c handles and writes the result to outCh. Held
// events are flushed once qPeriod passes without a new event to merge, once
// cPeriod has passed since the first event of the batch, or when shutdownCh
// closes. Events c does not handle are forwarded at once, so they may
// overtake held events (real Serf behaves the same way). The goroutine stops
// after shutdownCh closes; outCh is never closed.
func coalescedEventCh(outCh chan<- Event, shutdownCh <-chan struct{}, cPeriod, qPeriod time.Duration, c coalescer) chan<- Event {
	in, _ := startCoalescer(outCh, shutdownCh, cPeriod, qPeriod, c)
	return in
}

// startCoalescer is coalescedEventCh that also returns a channel closed when
// the goroutine has ended, for tests.
func startCoalescer(outCh chan<- Event, shutdownCh <-chan struct{}, cPeriod, qPeriod time.Duration, c coalescer) (chan<- Event, <-chan struct{}) {
	l := &coalesceLoop{out: outCh, shutdown: shutdownCh, cPeriod: cPeriod, qPeriod: qPeriod, c: c}
	return l.start()
}

type coalesceLoop struct {
	in               <-chan Event
	out              chan<- Event
	shutdown         <-chan struct{}
	cPeriod, qPeriod time.Duration
	c                coalescer

	// flushReq, if not nil, asks for the pending batch to be delivered now;
	// the loop closes the given channel once it has been (or shutdown came
	// first).
	flushReq <-chan chan struct{}
}

// start runs the loop on its own goroutine, reading a new input channel.
// It returns that channel and one closed when the goroutine has ended.
func (l *coalesceLoop) start() (chan<- Event, <-chan struct{}) {
	in := make(chan Event, coalesceInBuffer)
	l.in = in
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run()
	}()
	return in, done
}

func (l *coalesceLoop) run() {
	// period fires cPeriod after the first held event of a batch; quiet
	// fires qPeriod after the latest one. Both are stopped between batches.
	// With Go 1.23+ timer semantics a stopped or reset timer never delivers
	// a stale tick, so no draining is needed.
	period := time.NewTimer(time.Hour)
	quiet := time.NewTimer(time.Hour)
	period.Stop()
	quiet.Stop()
	defer period.Stop()
	defer quiet.Stop()
	holding := false

	for {
		select {
		case e := <-l.in:
			if !l.c.handles(e) {
				if !l.send(e) {
					l.finish([]Event{e})
					return
				}
				continue
			}
			l.c.add(e)
			if !holding {
				holding = true
				period.Reset(l.cPeriod)
			}
			quiet.Reset(l.qPeriod)

		case <-period.C:
			if !l.flushBatch(period, quiet, &holding) {
				return
			}
		case <-quiet.C:
			if !l.flushBatch(period, quiet, &holding) {
				return
			}
		case reply := <-l.flushReq:
			ok := l.flushBatch(period, quiet, &holding)
			close(reply)
			if !ok {
				return
			}
		case <-l.shutdown:
			l.finish(nil)
			return
		}
	}
}

// flushBatch delivers the pending batch. It returns false if shutdown
// happened meanwhile, in which case the remainder has been handed to finish.
func (l *coalesceLoop) flushBatch(period, quiet *time.Timer, holding *bool) bool {
	period.Stop()
	quiet.Stop()
	*holding = false
	events := l.c.flush()
	for i, e := range events {
		if !l.send(e) {
			l.finish(events[i:])
			return false
		}
	}
	return true
}

// send delivers e unless shutdown comes first.
func (l *coalesceLoop) send(e Event) bool {
	select {
	case l.out <- e:
		return true
	case <-l.shutdown:
		return false
	}
}

// finish runs once at shutdown. Events still waiting in the input are
// taken in too, so nothing accepted before shutdown is silently left
// behind. It delivers the events that pass through (first, plus any from
// the input), then the final batch, giving a slow consumer at most
// coalesceShutdownGrace in total.
func (l *coalesceLoop) finish(first []Event) {
	passing := first
	for drained := false; !drained; {
		select {
		case e := <-l.in:
			if l.c.handles(e) {
				l.c.add(e)
			} else {
				passing = append(passing, e)
			}
		default:
			drained = true
		}
	}
	grace := time.NewTimer(coalesceShutdownGrace)
	defer grace.Stop()
	for _, batch := range [][]Event{passing, l.c.flush()} {
		for _, e := range batch {
			// A consumer with room always gets the event: the grace is
			// for waiting on a full one. (A select on both would pick at
			// random once the timer has fired, and a goroutine held off
			// the CPU for the whole grace would drop events for nothing.)
			select {
			case l.out <- e:
				continue
			default:
			}
			select {
			case l.out <- e:
			case <-grace.C:
				return
			}
		}
	}
}
