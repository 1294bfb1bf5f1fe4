package serf

import "time"

// A stage is one step of the event pipeline (pipeline.go): a goroutine
// that reads events from its input channel, does its work on each (record
// it, answer it, hold it back for merging) and passes events on to the next
// stage. What differs between stages is the work; the loop below, which
// owns delivery, flushing on request and the drain at shutdown, is the
// same for all of them.
//
// At shutdown a stage hands on what it still has, so nothing accepted
// before Shutdown is silently left behind: the events waiting in its input
// are taken in too, then whatever the work holds is released, and all of it
// is delivered to a next stage that still runs (each stage is stopped only
// after the one feeding it has ended). Only a consumer that stays full for
// stageShutdownGrace makes the remainder be dropped, so a stuck application
// cannot hold up Shutdown.

// stageWork is what one stage does. Its methods are called from the
// stage's goroutine only, so implementations need no locking. pass delivers
// an event to the next stage, in order; it may block until the next stage
// has room.
type stageWork interface {
	// take handles one event from the input.
	take(e Event, pass func(Event))
	// due is a channel that fires when held events should go out; a nil
	// channel when nothing is held or the work never holds events.
	due() <-chan time.Time
	// release passes on everything held, in delivery order, and forgets
	// it. The stage calls it when due fires, on a flush request and at
	// shutdown.
	release(pass func(Event))
	// stopped runs once, after the stage's last delivery.
	stopped()
}

const (
	// stageInBuffer is the usual capacity of a stage's input channel, so
	// that gossip handlers rarely wait on a slow application.
	stageInBuffer = 1024

	// stageShutdownGrace bounds how long the final delivery at shutdown
	// waits for a full consumer before dropping what is left.
	stageShutdownGrace = 250 * time.Millisecond
)

type stage struct {
	work  stageWork
	in    chan Event
	out   chan<- Event // nil: events are consumed here
	stop  <-chan struct{}
	flush chan chan struct{}
	done  chan struct{}

	// stopping is set once stop is seen; from then on pass only collects
	// into leftover, which finish delivers.
	stopping bool
	leftover []Event
}

// newStage makes a stage of work reading in and feeding out; run starts
// it. It stops when stop closes.
func newStage(work stageWork, in chan Event, out chan<- Event, stop <-chan struct{}) *stage {
	return &stage{
		work:  work,
		in:    in,
		out:   out,
		stop:  stop,
		flush: make(chan chan struct{}),
		done:  make(chan struct{}),
	}
}

// startStage runs work as a stage on its own goroutine with a new input
// channel of inBuffer slots, and returns the stage.
func startStage(work stageWork, inBuffer int, out chan<- Event, stop <-chan struct{}) *stage {
	st := newStage(work, make(chan Event, inBuffer), out, stop)
	go st.run()
	return st
}

// run is the stage's goroutine. It closes done when it has ended.
func (st *stage) run() {
	defer close(st.done)
	defer st.work.stopped()
	for !st.stopping {
		select {
		case e := <-st.in:
			st.work.take(e, st.pass)
		case <-st.work.due():
			st.work.release(st.pass)
		case reply := <-st.flush:
			// What is already queued goes first, so a flush covers every
			// event handed to the stage before it was asked.
			st.takeQueued()
			st.work.release(st.pass)
			close(reply)
		case <-st.stop:
			st.stopping = true
		}
	}
	st.finish()
}

// pass delivers e to the next stage, or keeps it for finish once stopping.
func (st *stage) pass(e Event) {
	if st.out == nil {
		return
	}
	if !st.stopping {
		select {
		case st.out <- e:
			return
		case <-st.stop:
			st.stopping = true
		}
	}
	st.leftover = append(st.leftover, e)
}

// takeQueued hands the work what is waiting in the input, without waiting
// for more.
func (st *stage) takeQueued() {
	for {
		select {
		case e := <-st.in:
			st.work.take(e, st.pass)
		default:
			return
		}
	}
}

// finish is the drain at shutdown: the queued input, then what the work
// holds, delivered within stageShutdownGrace in total.
func (st *stage) finish() {
	st.takeQueued()
	st.work.release(st.pass)
	grace := time.NewTimer(stageShutdownGrace)
	defer grace.Stop()
	for _, e := range st.leftover {
		// A consumer with room always gets the event: the grace is for
		// waiting on a full one. (A select on both would pick at random
		// once the timer has fired, and a goroutine held off the CPU for
		// the whole grace would drop events for nothing.)
		select {
		case st.out <- e:
			continue
		default:
		}
		select {
		case st.out <- e:
		case <-grace.C:
			st.leftover = nil
			return
		}
	}
	st.leftover = nil
}

// flushNow asks the stage to pass on what it holds and waits until it
// has, until the stage ends, or until timeout fires. It reports false on
// timeout.
func (st *stage) flushNow(timeout <-chan time.Time) bool {
	reply := make(chan struct{})
	select {
	case st.flush <- reply:
	case <-st.done:
		return true
	case <-timeout:
		return false
	}
	select {
	case <-reply:
		return true
	case <-st.done:
		return true
	case <-timeout:
		return false
	}
}
