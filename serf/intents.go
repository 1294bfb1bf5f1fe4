package serf

import (
	"container/list"
	"time"
)

// nodeIntent is a join or leave intent about a node that memberlist has not
// told us about yet. Only the newest intent per node is kept.
type nodeIntent struct {
	Type     messageType // messageJoinType or messageLeaveType
	WallTime time.Time   // when it was stored, for expiry
	LTime    LamportTime
}

// intentTable holds the intents about unknown nodes, at most a given
// number, in the order they were stored (an update counts as storing
// anew), so that both dropping the oldest when full and expiry are cheap.
// The zero value is an empty table. Its owner locks it.
type intentTable struct {
	byName map[string]*list.Element // of *namedIntent
	order  list.List                // oldest first
}

type namedIntent struct {
	name string
	nodeIntent
}

func (t *intentTable) len() int { return len(t.byName) }

func (t *intentTable) get(name string) (nodeIntent, bool) {
	if el, ok := t.byName[name]; ok {
		return el.Value.(*namedIntent).nodeIntent, true
	}
	return nodeIntent{}, false
}

// put stores it for name as the newest intent, dropping the oldest one if
// that makes more than limit. It reports whether one was dropped.
func (t *intentTable) put(name string, it nodeIntent, limit int) bool {
	if t.byName == nil {
		t.byName = make(map[string]*list.Element)
	}
	if el, ok := t.byName[name]; ok {
		el.Value.(*namedIntent).nodeIntent = it
		t.order.MoveToBack(el)
		return false
	}
	t.byName[name] = t.order.PushBack(&namedIntent{name: name, nodeIntent: it})
	if len(t.byName) <= limit {
		return false
	}
	t.remove(t.order.Front().Value.(*namedIntent).name)
	return true
}

func (t *intentTable) remove(name string) {
	if el, ok := t.byName[name]; ok {
		t.order.Remove(el)
		delete(t.byName, name)
	}
}

// expire drops the intents stored more than ttl before now.
func (t *intentTable) expire(now time.Time, ttl time.Duration) {
	for el := t.order.Front(); el != nil; el = t.order.Front() {
		it := el.Value.(*namedIntent)
		if now.Sub(it.WallTime) <= ttl {
			return
		}
		t.remove(it.name)
	}
}

// bufferIntentLocked remembers an intent for an unknown node and reports
// whether it was news (and so worth rebroadcasting). Names no member could
// have are ignored, and the table keeps at most maxRecentIntents (the
// oldest go first). Caller holds memberLock.
func (s *Serf) bufferIntentLocked(node string, t messageType, lt LamportTime) bool {
	if !plausibleNodeName(node) {
		s.limits.implausibleIntent.drop(s.logger, "[WARN] serf: Ignoring intent about a node with an implausible name (%d bytes)", len(node))
		return false
	}
	if cur, ok := s.recentIntents.get(node); ok && lt <= cur.LTime {
		return false
	}
	it := nodeIntent{Type: t, WallTime: time.Now(), LTime: lt}
	if s.recentIntents.put(node, it, maxRecentIntents) {
		s.limits.intentOverflow.drop(s.logger, "[WARN] serf: Too many intents about unknown nodes, dropping the oldest (limit %d)", maxRecentIntents)
	}
	return true
}

// handleJoinIntent applies a join intent and reports whether to rebroadcast.
func (s *Serf) handleJoinIntent(msg *messageJoin) bool {
	s.clock.Witness(msg.LTime)

	s.memberLock.Lock()
	defer s.memberLock.Unlock()
	m, ok := s.members[msg.Node]
	if !ok {
		return s.bufferIntentLocked(msg.Node, messageJoinType, msg.LTime)
	}
	if msg.LTime <= m.statusLTime {
		return false
	}
	m.statusLTime = msg.LTime
	// A newer join cancels a leave in progress (the node changed its mind
	// or refuted a stale leave intent).
	if m.Status == StatusLeaving {
		m.Status = StatusAlive
	}
	return true
}

// handleLeaveIntent applies a leave intent (graceful or forced) and reports
// whether to rebroadcast it.
func (s *Serf) handleLeaveIntent(msg *messageLeave) bool {
	localState := s.State()
	s.clock.Witness(msg.LTime)

	s.emitLock.Lock()
	defer s.emitLock.Unlock()

	s.memberLock.Lock()
	m, ok := s.members[msg.Node]
	if !ok {
		news := s.bufferIntentLocked(msg.Node, messageLeaveType, msg.LTime)
		s.memberLock.Unlock()
		return news
	}
	if msg.LTime <= m.statusLTime {
		s.memberLock.Unlock()
		return false
	}

	// Someone says we are leaving, but we are not: an intent from a
	// previous life of this node name. Answer with a fresh join intent,
	// from another goroutine because we hold memberLock.
	if msg.Node == s.config.NodeName && localState == SerfAlive {
		s.memberLock.Unlock()
		s.logger.Printf("[DEBUG] serf: Refuting an older leave intent")
		s.startBackground(func() {
			if err := s.broadcastJoin(s.clock.Time()); err != nil {
				s.logger.Printf("[ERR] serf: Failed to refute a leave intent: %v", err)
			}
		})
		return false
	}

	// Record the time even when the status stays put, so the same intent
	// arriving again is recognised as old and not gossiped forever.
	m.statusLTime = msg.LTime

	switch m.Status {
	case StatusAlive:
		m.Status = StatusLeaving
		if msg.Prune {
			s.schedulePruneLocked(m)
		}
		s.memberLock.Unlock()
		return true

	case StatusFailed:
		m.Status = StatusLeft
		delete(s.failed, m.Name)
		s.left[m.Name] = m
		snapshot := m.Member
		var reaped *Member
		if msg.Prune {
			r := s.eraseLocked(m)
			reaped = &r
		}
		s.memberLock.Unlock()

		s.logger.Printf("[INFO] serf: EventMemberLeave (forced): %s %s", snapshot.Name, snapshot.Addr)
		s.emitMember(EventMemberLeave, snapshot)
		if reaped != nil {
			s.logger.Printf("[INFO] serf: EventMemberReap (forced): %s %s", reaped.Name, reaped.Addr)
			s.emitMember(EventMemberReap, *reaped)
		}
		return true

	case StatusLeaving, StatusLeft:
		if msg.Prune {
			s.schedulePruneLocked(m)
		}
		s.memberLock.Unlock()
		return true

	default:
		s.memberLock.Unlock()
		return false
	}
}

// schedulePruneLocked erases m for a force-leave with prune. A node that is
// still leaving gets time to finish its own leave broadcast first; the wait
// happens in a goroutine so no lock is held while sleeping. Caller holds
// memberLock.
func (s *Serf) schedulePruneLocked(m *memberState) {
	var delay time.Duration
	if m.Status == StatusLeaving {
		delay = s.config.BroadcastTimeout + s.config.LeavePropagateDelay
	}
	if delay == 0 {
		r := s.eraseLocked(m)
		// Emit after the caller releases the lock; emitLock is held by the
		// caller, so ordering is preserved.
		s.startBackground(func() { s.reportPrune(r) })
		return
	}
	name := m.Name
	s.startBackground(func() {
		if !s.sleepOrShutdown(delay) {
			return
		}
		s.emitLock.Lock()
		defer s.emitLock.Unlock()
		s.memberLock.Lock()
		cur, ok := s.members[name]
		if !ok || cur != m || (cur.Status != StatusLeaving && cur.Status != StatusLeft) {
			// Rejoined or already gone meanwhile.
			s.memberLock.Unlock()
			return
		}
		r := s.eraseLocked(cur)
		s.memberLock.Unlock()
		s.logger.Printf("[INFO] serf: EventMemberReap (forced): %s %s", r.Name, r.Addr)
		s.emitMember(EventMemberReap, r)
	})
}

func (s *Serf) reportPrune(r Member) {
	s.emitLock.Lock()
	defer s.emitLock.Unlock()
	s.logger.Printf("[INFO] serf: EventMemberReap (forced): %s %s", r.Name, r.Addr)
	s.emitMember(EventMemberReap, r)
}

// broadcastJoin announces our join at lt, applying it locally first.
func (s *Serf) broadcastJoin(lt LamportTime) error {
	msg := messageJoin{LTime: lt, Node: s.config.NodeName}
	s.clock.Witness(lt)
	s.handleJoinIntent(&msg)
	return s.broadcast(s.joinBroadcasts, messageJoinType, &msg, nil)
}

// expireIntents drops buffered intents older than RecentIntentTimeout.
func (s *Serf) expireIntents(now time.Time) {
	s.memberLock.Lock()
	defer s.memberLock.Unlock()
	s.recentIntents.expire(now, s.config.RecentIntentTimeout)
}
