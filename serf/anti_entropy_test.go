package serf_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// The network of these tests loses every UDP packet and memberlist's
// periodic push/pull is off, so gossip carries nothing: whatever a member
// learns beyond its own join it learns from an anti-entropy exchange.
// With the mechanism off the same cluster can never converge, whatever
// the timing, which is what makes the comparison deterministic.

const aeMembers = 6

// aeCluster starts aeMembers members on a network without UDP. rounds 0
// turns anti-entropy off.
func aeCluster(t *testing.T, rounds int) *serftest.Cluster {
	t.Helper()
	c := serftest.NewCluster(t, aeMembers, func(_ int, conf *serf.Config) {
		conf.MemberlistConfig.PushPullInterval = 0
		conf.AntiEntropyInterval = 20 * time.Millisecond
		conf.AntiEntropyRounds = rounds
	})
	c.Net.SetDefaultLink(serftest.LinkConfig{Loss: 1})
	return c
}

// joinStorm joins every member to n0, all at the same moment.
func joinStorm(t *testing.T, c *serftest.Cluster) {
	t.Helper()
	errs := make(chan error, len(c.Members))
	seed := c.Members[0].Addr()
	for _, m := range c.Members[1:] {
		go func() {
			_, err := m.Serf.Join([]string{seed}, false)
			errs <- err
		}()
	}
	for range c.Members[1:] {
		if err := <-errs; err != nil {
			t.Fatalf("join: %v", err)
		}
	}
}

// converged is nil once every member sees every member alive.
func converged(c *serftest.Cluster) error {
	for _, m := range c.Members {
		if got := serftest.CountStatus(m.Serf, serf.StatusAlive); got != len(c.Members) {
			return fmt.Errorf("%s sees %d of %d alive", m.Name, got, len(c.Members))
		}
	}
	return nil
}

// quiet waits until no member has started an exchange for longer than a
// whole burst lasts, and returns the members' exchange counts then.
func quiet(t *testing.T, c *serftest.Cluster, burst time.Duration) []uint64 {
	t.Helper()
	counts := func() []uint64 {
		out := make([]uint64, len(c.Members))
		for i, m := range c.Members {
			out[i] = serf.AntiEntropyExchanges(m.Serf)
		}
		return out
	}
	last := counts()
	serftest.Eventually(t, serftest.MembersTimeout, func() error {
		time.Sleep(burst)
		now := counts()
		defer func() { last = now }()
		if fmt.Sprint(now) != fmt.Sprint(last) {
			return fmt.Errorf("exchanges still going: %v -> %v", last, now)
		}
		return nil
	})
	return last
}

func TestAntiEntropyConvergesWithoutGossip(t *testing.T) {
	c := aeCluster(t, 6)
	joinStorm(t, c)
	serftest.Eventually(t, serftest.MembersTimeout, func() error { return converged(c) })
}

func TestWithoutAntiEntropyTheClusterDoesNotConverge(t *testing.T) {
	c := aeCluster(t, 0)
	joinStorm(t, c)
	// n0 hears of everybody through their joins ...
	serftest.Eventually(t, serftest.MembersTimeout, func() error {
		if got := serftest.CountStatus(c.Members[0].Serf, serf.StatusAlive); got != aeMembers {
			return fmt.Errorf("n0 sees %d alive", got)
		}
		return nil
	})
	// ... but the first joiner has nobody to tell it of the later ones.
	// This holds forever here; the wait only gives it a fair chance.
	if err := serftest.Poll(time.Second, func() error { return converged(c) }); err == nil {
		t.Fatal("converged without gossip, push/pull or anti-entropy")
	}
	for _, m := range c.Members {
		if n := serf.AntiEntropyExchanges(m.Serf); n != 0 {
			t.Fatalf("%s made %d anti-entropy exchanges while off", m.Name, n)
		}
	}
}

// A user event that gossip loses reaches every member through the
// exchanges its first receivers start.
func TestAntiEntropyDeliversALostUserEvent(t *testing.T) {
	for _, rounds := range []int{10, 0} {
		t.Run(fmt.Sprintf("rounds=%d", rounds), func(t *testing.T) {
			c := aeCluster(t, rounds)
			// Everybody joins everybody: membership needs no gossip.
			for i := range c.Members {
				for j := 0; j < i; j++ {
					c.Join(i, j)
				}
			}
			serftest.Eventually(t, serftest.MembersTimeout, func() error { return converged(c) })

			if err := c.Members[2].Serf.UserEvent("deploy", []byte("v1"), false); err != nil {
				t.Fatal(err)
			}
			got := func() error {
				for _, m := range c.Members {
					if len(m.Events.UserEvents()) != 1 {
						return fmt.Errorf("%s has %d user events", m.Name, len(m.Events.UserEvents()))
					}
				}
				return nil
			}
			if rounds > 0 {
				serftest.Eventually(t, serftest.MembersTimeout, got)
				return
			}
			if err := serftest.Poll(time.Second, got); err == nil {
				t.Fatal("the event spread without gossip, push/pull or anti-entropy")
			}
		})
	}
}

// Once the cluster is quiet the mechanism does nothing at all: no timer
// runs and no exchange is made, so idle costs stay those of Serf.
func TestAntiEntropyStopsWhenQuiet(t *testing.T) {
	c := aeCluster(t, 3)
	joinStorm(t, c)
	serftest.Eventually(t, serftest.MembersTimeout, func() error { return converged(c) })
	before := quiet(t, c, 300*time.Millisecond)
	total := uint64(0)
	for _, n := range before {
		total += n
	}
	if total == 0 {
		t.Fatal("no exchanges were made at all")
	}
	time.Sleep(500 * time.Millisecond) // a hold, not a wait: nothing may happen in it
	for i, m := range c.Members {
		if n := serf.AntiEntropyExchanges(m.Serf); n != before[i] {
			t.Fatalf("%s exchanged %d times in a quiet cluster", m.Name, n-before[i])
		}
	}
}

func TestAntiEntropyDelayBacksOff(t *testing.T) {
	const d = 100 * time.Millisecond
	for round := 0; round < 4; round++ {
		base := d << round
		for i := 0; i < 100; i++ {
			got := serf.AntiEntropyDelay(d, round)
			if got < base || got > base+base/4 {
				t.Fatalf("round %d: delay %v outside [%v, %v]", round, got, base, base+base/4)
			}
		}
	}
}

// Up to 64 members the interval is the configured one; above, it grows
// with the size, so the cluster's total rate of exchanges stays put.
func TestAntiEntropyIntervalScalesWithClusterSize(t *testing.T) {
	for _, c := range []struct {
		n    int
		want time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {64, time.Second},
		{65, 2 * time.Second}, {128, 2 * time.Second}, {129, 3 * time.Second}, {256, 3 * time.Second},
		{2000, 6 * time.Second}, {10000, 9 * time.Second},
	} {
		if got := serf.AntiEntropyScaled(time.Second, c.n); got != c.want {
			t.Errorf("%d members: %v, want %v", c.n, got, c.want)
		}
	}
}

func TestAntiEntropyDefaults(t *testing.T) {
	c := serf.DefaultConfig()
	if c.AntiEntropyInterval != time.Second || c.AntiEntropyRounds != 4 {
		t.Fatalf("defaults %v × %d, want 1s × 4", c.AntiEntropyInterval, c.AntiEntropyRounds)
	}
}

// The shape of the real tail: a join storm on a lossy network, where some
// members miss an alive message for good. Periodic push/pull is off, so
// only the mechanism can repair it once the network is healthy again.
func TestAntiEntropyClosesTheTailOfALossyJoinStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("16 members")
	}
	c := serftest.NewCluster(t, 16, func(_ int, conf *serf.Config) {
		ml := conf.MemberlistConfig
		ml.GossipInterval = 20 * time.Millisecond
		ml.ProbeInterval = 200 * time.Millisecond
		ml.ProbeTimeout = 100 * time.Millisecond
		ml.PushPullInterval = 0
		ml.SuspicionMult = 6
		conf.AntiEntropyInterval = 100 * time.Millisecond
	})
	c.Net.SetDefaultLink(serftest.LinkConfig{Loss: 0.4})
	joinStorm(t, c)
	c.Net.SetDefaultLink(serftest.LinkConfig{})
	serftest.Eventually(t, serftest.MembersTimeout, func() error { return converged(c) })
}

// While a member's Lifeguard health score is above zero its exchanges
// wait; once the score is back to zero the same burst goes ahead. The
// score is raised the way an overloaded member earns it: its packets to
// its peer are lost, so its probes go unanswered and it must refute the
// peer's suspicion of it. TCP fallback pings would answer the probes, and
// a short suspicion would declare the peer dead, so both are off here.
func TestAntiEntropyWaitsWhileUnhealthy(t *testing.T) {
	c := serftest.NewCluster(t, 2, func(_ int, conf *serf.Config) {
		conf.MemberlistConfig.PushPullInterval = 0
		conf.MemberlistConfig.DisableTcpPings = true
		conf.MemberlistConfig.SuspicionMult = 1000
		conf.AntiEntropyInterval = 20 * time.Millisecond
		conf.AntiEntropyRounds = 2
	})
	c.Join(1, 0)
	c.WaitMembers(2)
	slow := c.Members[0].Serf
	quiet(t, c, 200*time.Millisecond)

	c.Net.SetLink("n0", "n1", serftest.LinkConfig{Loss: 1})
	serftest.Eventually(t, serftest.MembersTimeout, func() error {
		if score := serf.HealthScore(slow); score < 2 {
			return fmt.Errorf("health score %d", score)
		}
		return nil
	})
	exchanges, braked := serf.AntiEntropyExchanges(slow), serf.AntiEntropyBraked(slow)
	serf.KickAntiEntropy(slow)
	serftest.Eventually(t, serftest.MembersTimeout, func() error {
		if n := serf.AntiEntropyBraked(slow) - braked; n < 3 {
			return fmt.Errorf("%d rounds put off", n)
		}
		return nil
	})
	if n := serf.AntiEntropyExchanges(slow) - exchanges; n != 0 {
		t.Fatalf("%d exchanges with health score %d", n, serf.HealthScore(slow))
	}

	// Healed, the score falls with every answered probe, and the burst
	// that waited runs without another change to start it.
	c.Net.Heal()
	serftest.Eventually(t, serftest.MembersTimeout, func() error {
		if n := serf.AntiEntropyExchanges(slow) - exchanges; n < 2 {
			return fmt.Errorf("%d exchanges, health score %d", n, serf.HealthScore(slow))
		}
		return nil
	})
}
