package serf

import (
	"errors"
	"fmt"
	"time"
)

// Join contacts the given addresses ("host", "host:port" or
// "name/host:port"; the port defaults to our own bind port) and joins their
// cluster. It returns how many were contacted; the error is non-nil only if
// none was. With ignoreOld, user events sent before the join are not
// replayed to us.
func (s *Serf) Join(existing []string, ignoreOld bool) (int, error) {
	if s.State() != SerfAlive {
		return 0, errors.New("Serf can't Join after Leave or Shutdown")
	}

	// eventJoinIgnore is one flag for the whole instance, so joins must not
	// overlap.
	s.joinLock.Lock()
	defer s.joinLock.Unlock()
	if ignoreOld {
		s.eventJoinIgnore.Store(true)
		defer s.eventJoinIgnore.Store(false)
	}

	n, err := s.joinEach(existing)
	err = memberlistError(err)
	if n > 0 {
		// Tell the cluster when we joined, so stale leave intents about a
		// previous incarnation of this name lose.
		if berr := s.broadcastJoin(s.clock.Time()); berr != nil {
			s.logger.Printf("[WARN] serf: Failed to broadcast join intent: %v", berr)
			return n, berr
		}
	}
	return n, err
}

// Leave leaves the cluster gracefully: our leave intent is gossiped first,
// so peers record us as left rather than failed when memberlist then
// announces the departure. Shutdown should follow.
func (s *Serf) Leave() error {
	s.stateLock.Lock()
	switch s.state {
	case SerfLeft:
		s.stateLock.Unlock()
		return nil
	case SerfLeaving:
		s.stateLock.Unlock()
		return errors.New("Leave already in progress")
	case SerfShutdown:
		s.stateLock.Unlock()
		return errors.New("Leave called after Shutdown")
	}
	s.state = SerfLeaving
	s.stateLock.Unlock()

	if s.snapshotter != nil {
		s.snapshotter.Leave()
	}

	msg := messageLeave{LTime: s.clock.Time(), Node: s.config.NodeName}
	s.clock.Increment()
	s.handleLeaveIntent(&msg)

	if s.anyoneElseAlive() {
		sent := make(chan struct{})
		if err := s.broadcast(s.leaveBroadcasts, messageLeaveType, &msg, sent); err != nil {
			return err
		}
		s.kickRelief()
		timer := time.NewTimer(s.config.BroadcastTimeout)
		select {
		case <-sent:
		case <-timer.C:
			s.logger.Printf("[WARN] serf: timeout while waiting for graceful leave")
		}
		timer.Stop()
	}

	if err := s.memberlist.Leave(s.config.BroadcastTimeout); err != nil {
		s.logger.Printf("[WARN] serf: timeout waiting for leave broadcast: %s", err.Error())
	}

	// Give the leave time to spread before the caller shuts us down.
	if s.sleepOrShutdown(s.config.LeavePropagateDelay) {
		s.flushStages()
	}

	// A Shutdown that came meanwhile has the last word.
	s.advanceState(SerfLeaving, SerfLeft)
	return nil
}

// advanceState moves the state from `from` to `to`, and does nothing if
// the state is something else by now.
func (s *Serf) advanceState(from, to SerfState) {
	s.stateLock.Lock()
	defer s.stateLock.Unlock()
	if s.state == from {
		s.state = to
	}
}

// anyoneElseAlive reports whether a broadcast has anyone to reach.
func (s *Serf) anyoneElseAlive() bool {
	s.memberLock.RLock()
	defer s.memberLock.RUnlock()
	alive := 0
	for _, m := range s.members {
		if m.Status == StatusAlive {
			alive++
		}
	}
	if self, ok := s.members[s.config.NodeName]; ok && self.Status == StatusAlive {
		alive--
	}
	return alive > 0
}

// RemoveFailedNode forces a failed node into the left state, so it is no
// longer retried and is reaped after TombstoneTimeout.
func (s *Serf) RemoveFailedNode(node string) error {
	return s.forceLeave(node, false)
}

// RemoveFailedNodePrune is RemoveFailedNode that also erases the node from
// every member's list at once.
func (s *Serf) RemoveFailedNodePrune(node string) error {
	return s.forceLeave(node, true)
}

func (s *Serf) forceLeave(node string, prune bool) error {
	msg := messageLeave{LTime: s.clock.Time(), Node: node, Prune: prune}
	s.clock.Increment()
	s.handleLeaveIntent(&msg)

	if !s.anyoneElseAlive() {
		return nil
	}
	sent := make(chan struct{})
	if err := s.broadcast(s.leaveBroadcasts, messageLeaveType, &msg, sent); err != nil {
		return err
	}
	s.kickRelief()
	timer := time.NewTimer(s.config.BroadcastTimeout)
	defer timer.Stop()
	select {
	case <-sent:
		return nil
	case <-timer.C:
		return fmt.Errorf("timed out broadcasting node removal")
	}
}

// rejoinOne tries one remembered node, by name and address so memberlist
// can tell a node that took over the address, and reports success.
func (s *Serf) rejoinOne(p *PreviousNode) bool {
	addr := p.Addr
	if p.Name != "" {
		addr = p.Name + "/" + addr
	}
	s.logger.Printf("[INFO] serf: Attempting re-join to previously known node: %s", p)
	if _, err := s.memberlistJoin([]string{addr}); err != nil {
		return false
	}
	s.logger.Printf("[INFO] serf: Re-joined to previously known node: %s", p)
	return true
}
