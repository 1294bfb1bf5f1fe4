package serf

import (
	"math/rand/v2"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
)

// memberState is what Serf remembers about one node.
type memberState struct {
	Member
	// statusLTime is the member-clock time of the last intent accepted for
	// this node; older intents are ignored.
	statusLTime LamportTime
	// leaveTime is when the node entered the failed or left state; the
	// reaper measures the reconnect and tombstone timeouts from it.
	leaveTime time.Time
}

// Members returns a copy of every known member, in any state.
func (s *Serf) Members() []Member {
	s.memberLock.RLock()
	defer s.memberLock.RUnlock()
	out := make([]Member, 0, len(s.members))
	for _, m := range s.members {
		out = append(out, m.Member)
	}
	return out
}

// randomPeers picks up to k distinct members other than this node that
// accept approves, uniformly (reservoir sampling over the member table),
// as addresses for memberlist's direct sends.
func (s *Serf) randomPeers(k int, accept func(*memberState) bool) []memberlist.Address {
	s.memberLock.RLock()
	defer s.memberLock.RUnlock()
	picks := make([]*memberState, 0, k)
	seen := 0
	for name, m := range s.members {
		if name == s.config.NodeName || !accept(m) {
			continue
		}
		seen++
		if len(picks) < k {
			picks = append(picks, m)
		} else if j := rand.N(seen); j < k {
			picks[j] = m
		}
	}
	out := make([]memberlist.Address, len(picks))
	for i, m := range picks {
		out[i] = memberlist.Address{Name: m.Name, Addr: udpAddr(m.Addr, m.Port)}
	}
	return out
}

// isAlive accepts members gossip and direct sends can reach.
func isAlive(m *memberState) bool { return m.Status == StatusAlive }

// numMembers is the size of the member table, in every state.
func (s *Serf) numMembers() int {
	s.memberLock.RLock()
	defer s.memberLock.RUnlock()
	return len(s.members)
}

// LocalMember returns this node as the cluster sees it.
func (s *Serf) LocalMember() Member {
	s.memberLock.RLock()
	defer s.memberLock.RUnlock()
	if m, ok := s.members[s.config.NodeName]; ok {
		return m.Member
	}
	// Before memberlist has announced us (or after we were pruned) there is
	// no entry yet; describe ourselves from the configuration.
	return Member{Name: s.config.NodeName, Tags: s.localTags(), Status: StatusNone}
}

// emit feeds an event into the pipeline, giving up if Serf shuts down so a
// stalled consumer can never wedge a memberlist callback forever.
func (s *Serf) emit(e Event) {
	select {
	case s.eventCh <- e:
	case <-s.shutdownCh:
	}
}

// emitMember emits a single-member event and logs it the way Serf does.
func (s *Serf) emitMember(t EventType, m Member) {
	s.emit(MemberEvent{Type: t, Members: []Member{m}})
}

// nodeJoined handles memberlist's NotifyJoin: a node became reachable,
// either for the first time or again after failing or leaving.
func (s *Serf) nodeJoined(n *memberlist.Node) {
	s.emitLock.Lock()
	defer s.emitLock.Unlock()

	s.memberLock.Lock()
	m, known := s.members[n.Name]
	if !known {
		m = &memberState{Member: Member{Name: n.Name, Status: StatusAlive}}
		// Intents may have arrived before memberlist told us about the
		// node; they decide its clock and, for a leave, its status.
		if it, ok := s.recentIntents.get(n.Name); ok {
			m.statusLTime = it.LTime
			if it.Type == messageLeaveType {
				m.Status = StatusLeaving
			}
			s.recentIntents.remove(n.Name)
		}
		s.members[n.Name] = m
	} else {
		if m.Status == StatusFailed && time.Since(m.leaveTime) < s.config.FlapTimeout {
			s.metrics.memberFlap()
		}
		m.Status = StatusAlive
		m.leaveTime = time.Time{}
		delete(s.failed, n.Name)
		delete(s.left, n.Name)
	}
	s.refreshFromNode(m, n)
	snapshot := m.Member
	s.memberLock.Unlock()

	s.metrics.memberJoin()
	s.logger.Printf("[INFO] serf: EventMemberJoin: %s %s", snapshot.Name, snapshot.Addr)
	s.emitMember(EventMemberJoin, snapshot)
	s.kickAntiEntropy()
}

// refreshFromNode copies what memberlist knows about n into m.
func (s *Serf) refreshFromNode(m *memberState, n *memberlist.Node) {
	m.Addr = append(net.IP(nil), n.Addr...)
	m.Port = n.Port
	m.Tags = s.decodeTags(n.Meta)
	m.ProtocolMin, m.ProtocolMax, m.ProtocolCur = n.PMin, n.PMax, n.PCur
	m.DelegateMin, m.DelegateMax, m.DelegateCur = n.DMin, n.DMax, n.DCur
}

// nodeLeft handles memberlist's NotifyLeave, which fires both for nodes
// that left and for nodes declared dead. Serf tells the two apart by its
// own state: only a node that announced its leave intent counts as left.
func (s *Serf) nodeLeft(n *memberlist.Node) {
	s.emitLock.Lock()
	defer s.emitLock.Unlock()

	s.memberLock.Lock()
	m, ok := s.members[n.Name]
	if !ok {
		s.memberLock.Unlock()
		return
	}
	var evType EventType
	switch m.Status {
	case StatusLeaving:
		m.Status = StatusLeft
		m.leaveTime = time.Now()
		s.left[m.Name] = m
		evType = EventMemberLeave
	case StatusAlive:
		m.Status = StatusFailed
		m.leaveTime = time.Now()
		s.failed[m.Name] = m
		evType = EventMemberFailed
	default:
		status := m.Status
		s.memberLock.Unlock()
		s.logger.Printf("[WARN] serf: Bad state when leave: %d", status)
		return
	}
	snapshot := m.Member
	s.memberLock.Unlock()

	s.metrics.memberGone(snapshot.Status)
	if evType == EventMemberLeave {
		s.logger.Printf("[INFO] serf: EventMemberLeave: %s %s", snapshot.Name, snapshot.Addr)
	} else {
		s.logger.Printf("[INFO] serf: EventMemberFailed: %s %s", snapshot.Name, snapshot.Addr)
	}
	s.emitMember(evType, snapshot)
	// A leave is worth spreading by exchange: a member that misses the
	// intent would list the node as failed for good. A failure is not.
	// A merged push/pull only makes a dead node suspect, so it would not
	// hurry detection, and false failures from overload would restart
	// every burst.
	if evType == EventMemberLeave {
		s.kickAntiEntropy()
	}
}

// nodeUpdated handles memberlist's NotifyUpdate: new address, tags or
// protocol versions for a node we know.
func (s *Serf) nodeUpdated(n *memberlist.Node) {
	s.emitLock.Lock()
	defer s.emitLock.Unlock()

	s.memberLock.Lock()
	m, ok := s.members[n.Name]
	if !ok {
		s.memberLock.Unlock()
		return
	}
	s.refreshFromNode(m, n)
	snapshot := m.Member
	s.memberLock.Unlock()

	s.metrics.memberUpdate()
	s.logger.Printf("[INFO] serf: EventMemberUpdate: %s", snapshot.Name)
	s.emitMember(EventMemberUpdate, snapshot)
}

// eraseLocked forgets m entirely and returns the member-reap event to emit.
// The caller holds memberLock.
func (s *Serf) eraseLocked(m *memberState) Member {
	delete(s.members, m.Name)
	delete(s.failed, m.Name)
	delete(s.left, m.Name)
	if s.coordClient != nil {
		s.coordClient.ForgetNode(m.Name)
		s.coordCacheLock.Lock()
		delete(s.coordCache, m.Name)
		s.coordCacheLock.Unlock()
	}
	return m.Member
}
