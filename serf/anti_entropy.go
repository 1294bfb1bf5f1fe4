package serf

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Anti-entropy after change (see "Convergence without a tail" in doc.go).
//
// Memberlist spreads an alive message to only RetransmitMult·log10(N+1)
// random peers, so in a join storm a member now and then never hears of
// another by gossip and waits for the periodic push/pull, which memberlist
// stretches to a minute at 64 members. Here every membership change (and
// every user event seen for the first time) arms a short burst of extra
// push/pulls with random live members, at AntiEntropyInterval, then 2×,
// 4×, ... for AntiEntropyRounds exchanges after the last change. Above 64
// members the interval grows with the log of the cluster's size
// (antiEntropyScaled). A quiet
// cluster arms nothing: the loop sleeps on a channel and costs neither CPU
// nor a byte.
//
// The exchange is memberlist's own Join to one address: one TCP push/pull
// with its join flag set, exactly what `serf join` sends. On the far side
// (memberlist v0.7.0, and a real Serf v0.10.2 as much as ours) that flag
// only checks protocol versions, which a member of the cluster passes
// anyway, and makes Serf raise its event floor if that peer is itself in
// the middle of a Join that ignores old events, which it would do with
// any push/pull it got then. No intent is broadcast, unlike Serf.Join.
//
// The brake: while memberlist's Lifeguard health score is above zero, an
// exchange that falls due is put off by one more wait of the same length
// and does not count as a round of the burst. A score above zero means
// this member's own probes went unanswered by peers that should have
// nacked, or it had to refute a suspicion of itself: it is slow to run
// or to be heard, most often because its machine is overloaded, and a
// full-state exchange then only adds to the load that makes members miss
// probes. The burst is put off, not dropped, so it still closes the tail
// once the member has recovered.

// antiEntropyState is what the loop and the kickers share: the wake-up
// channel, buffered by one so a kick never blocks (nil when off), and the
// number of exchanges attempted and of rounds the brake put off, for tests.
type antiEntropyState struct {
	kickCh    chan struct{}
	exchanges atomic.Uint64
	braked    atomic.Uint64
}

// kickAntiEntropy tells the loop that something changed. It never blocks
// and does nothing when the mechanism is off.
func (s *Serf) kickAntiEntropy() {
	kick(s.antiEntropy.kickCh)
}

// kick wakes the loop that sleeps on ch, a channel buffered by one,
// without blocking: a kick already pending is enough. A nil ch (the
// mechanism is off) is ignored.
func kick(ch chan struct{}) {
	if ch == nil {
		return
	}
	select {
	case ch <- struct{}{}:
	default:
	}
}

// antiEntropyClusterStep is the cluster size up to which every member
// uses AntiEntropyInterval as it is. Above it the interval grows by one
// step for every doubling of the cluster (antiEntropyScaled).
const antiEntropyClusterStep = 64

// antiEntropyScaled is base stretched for a cluster of n members: base up
// to antiEntropyClusterStep members, and above that base × (1 + the
// number of doublings past it): 2× up to 128, 3× up to 256, 6× at 2,000,
// 9× at 10,000. Each exchange carries state that grows with n, so a
// member's rate must fall as the cluster grows; but a member that missed
// a few of thousands of joins needs an exchange within tens of intervals,
// not hundreds, so it falls only with log n. (An interval in proportion
// to n, tried first, kept the cluster's total rate constant and left a
// 2,000-member join storm in the simulator unconverged after 100 rounds,
// with most members still missing a handful of others.) Per member the
// cost is at most one full-state exchange per interval, during a burst
// only.
func antiEntropyScaled(base time.Duration, n int) time.Duration {
	steps := 0
	for size := antiEntropyClusterStep; size < n; size *= 2 {
		steps++
	}
	return base * time.Duration(1+steps)
}

// antiEntropyDelay is the wait before exchange number round (0-based)
// after the last change: interval << round, plus up to a quarter more at
// random, so members that saw the same change do not all dial at once.
// The back-off stops doubling after 2^10 intervals.
func antiEntropyDelay(interval time.Duration, round int) time.Duration {
	d := interval << min(round, 10)
	return d + rand.N(d/4+1)
}

// antiEntropyLoop runs the bursts until shutdown. round counts the
// exchanges since the last change; the timer runs only inside a burst.
func (s *Serf) antiEntropyLoop() {
	base, rounds := s.config.AntiEntropyInterval, s.config.AntiEntropyRounds
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var due time.Time // zero: no exchange pending
	round := 0
	schedule := func() {
		interval := antiEntropyScaled(base, s.memberlist.NumMembers())
		due = time.Now().Add(antiEntropyDelay(interval, round))
		timer.Reset(time.Until(due))
	}
	for {
		select {
		case <-s.shutdownCh:
			return
		case <-s.antiEntropy.kickCh:
			round = 0
			interval := antiEntropyScaled(base, s.memberlist.NumMembers())
			// A change starts the burst over: the next exchange comes
			// within one interval, not after a long back-off wait.
			next := time.Now().Add(antiEntropyDelay(interval, 0))
			if due.IsZero() || next.Before(due) {
				due = next
				timer.Reset(time.Until(due))
			}
		case <-timer.C:
			due = time.Time{}
			if s.antiEntropyBraked() {
				// Not a round: the burst waits for this member to be
				// healthy again, so it still closes the tail afterwards.
				schedule()
				continue
			}
			s.antiEntropyExchange()
			round++
			if round < rounds {
				schedule()
			}
		}
	}
}

// antiEntropyBraked reports whether the brake holds: memberlist's health
// score is above zero. It counts the rounds it holds back, for tests.
func (s *Serf) antiEntropyBraked() bool {
	score := s.memberlist.GetHealthScore()
	if score == 0 {
		return false
	}
	s.antiEntropy.braked.Add(1)
	s.logger.Printf("[DEBUG] serf: anti-entropy push/pull deferred: health score %d", score)
	return true
}

// antiEntropyExchange does one push/pull with a random live member. It
// skips the round while a Join runs (that is a push/pull already, and its
// event floor must come from its own peer) or once this node is leaving.
func (s *Serf) antiEntropyExchange() {
	if s.State() != SerfAlive {
		return
	}
	peer, ok := s.randomLivePeer()
	if !ok {
		return
	}
	if !s.joinLock.TryLock() {
		return
	}
	defer s.joinLock.Unlock()
	s.antiEntropy.exchanges.Add(1)
	if _, err := s.memberlistJoin([]string{peer}); err != nil {
		s.logger.Printf("[DEBUG] serf: anti-entropy push/pull failed: %v", err)
	}
}

// randomLivePeer picks an alive member other than this node, as
// "name/ip:port" for memberlist.Join.
func (s *Serf) randomLivePeer() (string, bool) {
	peers := s.randomPeers(1, isAlive)
	if len(peers) == 0 {
		return "", false
	}
	return peers[0].Name + "/" + peers[0].Addr, true
}
