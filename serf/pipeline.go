package serf

import (
	"fmt"
	"time"
)

// snapshotHooks is what Serf needs from the snapshotter; an interface so
// the rest of the package does not care how snapshots are kept.
type snapshotHooks interface {
	LastClock() LamportTime
	LastEventClock() LamportTime
	LastQueryClock() LamportTime
	Leave()
	Wait()
}

// previousNode is a node remembered by the snapshot, to rejoin at start.
type previousNode struct {
	name, addr string
}

// buildEventPipeline connects, from the application backwards:
//
//	snapshotter → internal queries → user coalescer → member coalescer → Config.EventCh
//
// and points s.eventCh at its head. It returns the nodes to rejoin.
func (s *Serf) buildEventPipeline() ([]previousNode, error) {
	c := s.config
	out := c.EventCh
	if out != nil && c.CoalescePeriod > 0 && c.QuiescentPeriod > 0 {
		out = s.memberCoalescer(out)
	}
	if out != nil && c.UserCoalescePeriod > 0 && c.UserQuiescentPeriod > 0 {
		out = s.userCoalescer(out)
	}
	out = s.startInternalQueries(out)

	if c.SnapshotPath == "" {
		s.eventCh = out
		return nil, nil
	}
	in, prev, err := s.startSnapshotter(out)
	if err != nil {
		return nil, fmt.Errorf("Failed to setup snapshot: %v", err)
	}
	s.eventCh = in
	return prev, nil
}

// pipelineStage is a stage between the snapshotter and Config.EventCh
// (internal queries, coalescers). Each has its own stop channel rather than
// watching shutdownCh: at shutdown a stage hands what it still holds to the
// next one, so the next must stop only after that, or those events would be
// left in its input and lost.
type pipelineStage struct {
	stop  chan struct{}
	done  <-chan struct{}
	flush chan chan struct{} // coalescers only: see flushCoalescers
}

// memberCoalescer and userCoalescer start a coalescing stage in front of
// out; stopStages stops them at shutdown.
func (s *Serf) memberCoalescer(out chan<- Event) chan<- Event {
	return s.addCoalescer(out, s.config.CoalescePeriod, s.config.QuiescentPeriod, newMemberEventCoalescer())
}

func (s *Serf) userCoalescer(out chan<- Event) chan<- Event {
	return s.addCoalescer(out, s.config.UserCoalescePeriod, s.config.UserQuiescentPeriod, newUserEventCoalescer())
}

func (s *Serf) addCoalescer(out chan<- Event, cPeriod, qPeriod time.Duration, c coalescer) chan<- Event {
	st := pipelineStage{stop: make(chan struct{}), flush: make(chan chan struct{})}
	l := &coalesceLoop{out: out, shutdown: st.stop, flushReq: st.flush, cPeriod: cPeriod, qPeriod: qPeriod, c: c}
	var in chan<- Event
	in, st.done = l.start()
	s.stages = append(s.stages, st)
	return in
}

// leaveFlushTimeout bounds how long Leave waits for the coalescers to hand
// over what they hold, for an application that is not reading EventCh.
const leaveFlushTimeout = time.Second

// flushCoalescers has every coalescer, head first, deliver what it holds
// now instead of when its periods end. Leave uses it: nothing held back
// should wait for the shutdown that follows a leave, where the application
// is already stopping (Serf v0.10.2 delivers the leave's own member-leave
// event to the agent before shutdown, in the usual case where its quiescent
// period ends first).
func (s *Serf) flushCoalescers() {
	timeout := time.NewTimer(leaveFlushTimeout)
	defer timeout.Stop()
	for i := len(s.stages) - 1; i >= 0; i-- {
		st := s.stages[i]
		if st.flush == nil {
			continue
		}
		reply := make(chan struct{})
		select {
		case st.flush <- reply:
		case <-st.done:
			continue
		case <-timeout.C:
			return
		}
		select {
		case <-reply:
		case <-timeout.C:
			return
		}
	}
}

// stopStages stops the stages one after the other, from the head of the
// pipeline towards the application, each after the stage feeding it has
// finished. Called once everything that feeds the pipeline has stopped.
func (s *Serf) stopStages() {
	for i := len(s.stages) - 1; i >= 0; i-- {
		close(s.stages[i].stop)
		<-s.stages[i].done
	}
}

// startSnapshotter puts the snapshotter at the head of the pipeline and
// reads back what it remembers: clocks (applied by Create) and the nodes
// that were alive, to rejoin.
func (s *Serf) startSnapshotter(out chan<- Event) (chan<- Event, []previousNode, error) {
	in, snap, err := NewSnapshotter(s.config.SnapshotPath, snapshotMinCompactSize, s.config.RejoinAfterLeave,
		s.logger, &s.clock, out, s.shutdownCh)
	if err != nil {
		return nil, nil, err
	}
	s.snapshotter = snap
	// Events and queries at or before the remembered clocks were already
	// handled by our previous incarnation.
	s.events.raiseMinTime(snap.LastEventClock() + 1)
	s.queries.lock.Lock()
	s.queries.seen.raiseMinTime(snap.LastQueryClock() + 1)
	s.queries.lock.Unlock()

	var prev []previousNode
	for _, p := range snap.AliveNodes() {
		prev = append(prev, previousNode{name: p.Name, addr: p.Addr})
	}
	return in, prev, nil
}
