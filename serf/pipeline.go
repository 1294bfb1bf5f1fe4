package serf

import (
	"fmt"
	"time"
)

// The event pipeline carries every event Serf produces (emit) to the
// application's Config.EventCh, through up to four stages (stage.go), each
// on its own goroutine:
//
//	emit ─▶ snapshot ─▶ internal queries ─▶ user coalescer ─▶ member coalescer ─▶ Config.EventCh
//	        (records;   (answers _serf_     (merges user      (merges member
//	         optional)   queries, drops      events; optional) events; optional)
//	                     them)
//
// Shutdown stops them in the same order, each only after the one feeding
// it has ended, so that every stage's final drain (stage.finish) lands in a
// stage that still runs:
//
//	1. memberlist shuts down; shutdownCh closes (nothing new is emitted)
//	2. background goroutines end (s.wg)
//	3. snapshot stage stops; its recorder, now given everything, writes
//	   it and closes the file on its own goroutine
//	4. internal-query stage stops
//	5. user coalescer stops, then member coalescer stops
//	6. the snapshot file is closed (Snapshotter.Wait)
//
// (1 and 2 are Serf.shutdown and stopBackground; 3 to 6 are stopStages.)
//
// Leave, before that, asks every stage in the same order to pass on what
// it holds (flushStages), so coalesced events are delivered while the
// application is still listening.

// snapshotHooks is what Serf needs from the snapshotter; an interface so
// the rest of the package does not care how snapshots are kept.
type snapshotHooks interface {
	LastClock() LamportTime
	LastEventClock() LamportTime
	LastQueryClock() LamportTime
	Leave()
	Wait()
}

// buildEventPipeline starts the stages, from the application backwards,
// keeps them in s.stages head first and points s.eventCh at the head's
// input. It returns the nodes the snapshot remembers, alive ones first, to rejoin.
func (s *Serf) buildEventPipeline() ([]*PreviousNode, error) {
	c := s.config
	var stages []pipelineStage // built tail first
	out := c.EventCh
	add := func(w stageWork) {
		stop := make(chan struct{})
		st := startStage(w, stageInBuffer, out, stop)
		stages = append(stages, pipelineStage{st, stop})
		out = st.in
	}
	if out != nil && c.CoalescePeriod > 0 && c.QuiescentPeriod > 0 {
		add(newCoalescing(c.CoalescePeriod, c.QuiescentPeriod, newMemberEventCoalescer()))
	}
	if out != nil && c.UserCoalescePeriod > 0 && c.UserQuiescentPeriod > 0 {
		add(newCoalescing(c.UserCoalescePeriod, c.UserQuiescentPeriod, newUserEventCoalescer()))
	}
	add(internalQueries{s})

	var prev []*PreviousNode
	if c.SnapshotPath != "" {
		snap, err := openSnapshot(c.SnapshotPath, snapshotMinCompactSize, c.RejoinAfterLeave, s.logger, &s.clock)
		if err != nil {
			s.stages = reversed(stages)
			return nil, fmt.Errorf("Failed to setup snapshot: %v", err)
		}
		snap.metrics = s.metrics
		stop := make(chan struct{})
		st := snap.start(out, stop, s.shutdownCh)
		stages = append(stages, pipelineStage{st, stop})
		out = st.in
		s.snapshotter = snap
		// Events and queries at or before the remembered clocks were
		// already handled by our previous incarnation.
		s.events.raiseMinTime(snap.LastEventClock() + 1)
		s.queries.lock.Lock()
		s.queries.seen.raiseMinTime(snap.LastQueryClock() + 1)
		s.queries.lock.Unlock()
		snap.setBookSize(c.AddressBookSize)
		prev = append(snap.AliveNodes(), snap.FailedNodes()...)
		if c.AddressBookSize > 0 {
			for _, p := range snap.ReapedNodes() {
				s.book.add(p.Name, p.Addr)
			}
		}
	}
	s.stages = reversed(stages)
	s.eventCh = out
	return prev, nil
}

// pipelineStage is a running stage and the channel that stops it; each
// stage has its own, so that stages stop one after the other.
type pipelineStage struct {
	*stage
	stopCh chan struct{}
}

func reversed(stages []pipelineStage) []pipelineStage {
	out := make([]pipelineStage, len(stages))
	for i, st := range stages {
		out[len(stages)-1-i] = st
	}
	return out
}

// leaveFlushTimeout bounds how long Leave waits for the stages to hand
// over what they hold, for an application that is not reading EventCh.
const leaveFlushTimeout = time.Second

// flushStages has every stage, head first, pass on what it holds now
// instead of when its periods end. Leave uses it: nothing held back should
// wait for the shutdown that follows a leave, where the application is
// already stopping (Serf v0.10.2 delivers the leave's own member-leave
// event to the agent before shutdown, in the usual case where its quiescent
// period ends first).
func (s *Serf) flushStages() {
	timeout := time.NewTimer(leaveFlushTimeout)
	defer timeout.Stop()
	for _, st := range s.stages {
		if !st.flushNow(timeout.C) {
			return
		}
	}
}

// stopStages stops the stages head first, each after the one feeding it
// has ended (see the shutdown order above), then waits for the snapshot
// file to be closed. Called once nothing feeds the pipeline any more.
func (s *Serf) stopStages() {
	for _, st := range s.stages {
		close(st.stopCh)
		<-st.done
	}
	if s.snapshotter != nil {
		s.snapshotter.Wait()
	}
}
