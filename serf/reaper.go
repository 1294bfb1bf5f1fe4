package serf

import (
	"math/rand"
	"net"
	"time"
)

// reapLoop erases members that stayed failed or left past their timeouts
// and expires buffered intents.
func (s *Serf) reapLoop() {
	if s.config.ReapInterval <= 0 {
		return
	}
	ticker := time.NewTicker(s.config.ReapInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			now := time.Now()
			s.reap(now)
			s.expireIntents(now)
		case <-s.shutdownCh:
			return
		}
	}
}

// reap erases expired failed and left members and reports each one.
func (s *Serf) reap(now time.Time) {
	s.emitLock.Lock()
	defer s.emitLock.Unlock()

	s.memberLock.Lock()
	var reaped []Member
	for _, m := range s.failed {
		if now.Sub(m.leaveTime) > s.reconnectTimeout(&m.Member) {
			gone := s.eraseLocked(m)
			s.rememberReaped(gone)
			reaped = append(reaped, gone)
		}
	}
	for _, m := range s.left {
		if now.Sub(m.leaveTime) > s.config.TombstoneTimeout {
			reaped = append(reaped, s.eraseLocked(m))
		}
	}
	s.memberLock.Unlock()

	for _, m := range reaped {
		s.logger.Printf("[INFO] serf: EventMemberReap: %s", m.Name)
		s.emitMember(EventMemberReap, m)
	}
}

// ReconnectTimeoutOverrider decides a failed member's reconnect timeout
// (Config.ReconnectTimeoutOverride). ReconnectTimeout gets the member and
// the configured Config.ReconnectTimeout and returns the one to apply.
type ReconnectTimeoutOverrider interface {
	ReconnectTimeout(member *Member, timeout time.Duration) time.Duration
}

// reconnectTimeout is how long the failed member m is kept before it is
// reaped: Config.ReconnectTimeout unless the override says otherwise.
// Called with memberLock held.
func (s *Serf) reconnectTimeout(m *Member) time.Duration {
	timeout := s.config.ReconnectTimeout
	if o := s.config.ReconnectTimeoutOverride; o != nil {
		timeout = o.ReconnectTimeout(m, timeout)
	}
	return timeout
}

// reconnectLoop now and then tries to reach a failed member again, so a
// healed network partition merges back.
func (s *Serf) reconnectLoop() {
	if s.config.ReconnectInterval <= 0 {
		return
	}
	ticker := time.NewTicker(s.config.ReconnectInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			s.reconnect()
		case <-s.shutdownCh:
			return
		}
	}
}

// reconnect picks a random failed member, with probability failed/alive so
// a big outage does not turn every node into a reconnect storm.
func (s *Serf) reconnect() {
	s.memberLock.RLock()
	failed := len(s.failed)
	if failed == 0 {
		s.memberLock.RUnlock()
		return
	}
	alive := len(s.members) - failed - len(s.left)
	if alive < 1 {
		alive = 1
	}
	if rand.Float32() > float32(failed)/float32(alive) {
		s.memberLock.RUnlock()
		s.logger.Printf("[DEBUG] serf: forgoing reconnect for random throttling")
		return
	}
	pick := rand.Intn(failed)
	var target *memberState
	for _, m := range s.failed {
		if pick == 0 {
			target = m
			break
		}
		pick--
	}
	name := target.Name
	addr := (&net.UDPAddr{IP: target.Addr, Port: int(target.Port)}).String()
	s.memberLock.RUnlock()

	s.logger.Printf("[INFO] serf: attempting reconnect to %v %s", name, addr)
	// Failure is normal here: the node may really be gone.
	_, _ = s.memberlistJoin([]string{name + "/" + addr})
}
