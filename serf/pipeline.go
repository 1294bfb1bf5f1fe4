package serf

import "fmt"

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

// memberCoalescer and userCoalescer start a coalescing stage in front of
// out; Shutdown waits for the stage to flush and stop.
func (s *Serf) memberCoalescer(out chan<- Event) chan<- Event {
	in, done := startCoalescer(out, s.shutdownCh, s.config.CoalescePeriod, s.config.QuiescentPeriod, newMemberEventCoalescer())
	s.stagesDone = append(s.stagesDone, done)
	return in
}

func (s *Serf) userCoalescer(out chan<- Event) chan<- Event {
	in, done := startCoalescer(out, s.shutdownCh, s.config.UserCoalescePeriod, s.config.UserQuiescentPeriod, newUserEventCoalescer())
	s.stagesDone = append(s.stagesDone, done)
	return in
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
	s.queries.minTime = snap.LastQueryClock() + 1

	var prev []previousNode
	for _, p := range snap.AliveNodes() {
		prev = append(prev, previousNode{name: p.Name, addr: p.Addr})
	}
	return in, prev, nil
}
