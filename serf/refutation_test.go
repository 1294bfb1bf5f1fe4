package serf_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// deafCluster is three members in which n0 hears no UDP packet at all
// (streams still work, as TCP does) and may not fall back to TCP pings:
// every probe n0 makes fails, so it keeps suspecting n1 and n2, and no
// refutation they gossip can ever reach it. memberlist's periodic push/pull
// and Serf's anti-entropy are off, so a push of a refutation is the only
// way n0 can learn that its suspicion was wrong. push sets PushRefutations.
func deafCluster(t *testing.T, push bool) *serftest.Cluster {
	t.Helper()
	c := serftest.NewCluster(t, 3, func(i int, conf *serf.Config) {
		conf.PushRefutations = push
		conf.AntiEntropyRounds = 0
		conf.MemberlistConfig.PushPullInterval = 0
		if i == 0 {
			conf.MemberlistConfig.DisableTcpPings = true
			// A suspicion of n0's runs 600 ms (six probe intervals): time
			// for a refutation, and a push that waits out the gap, on a
			// loaded machine.
			conf.MemberlistConfig.SuspicionMult = 6
		}
	})
	c.JoinAll()
	for _, m := range c.Members[1:] {
		c.Net.SetLink(m.Name, "n0", serftest.LinkConfig{Loss: 1})
	}
	return c
}

// refutations counts the refutations in a member's memberlist log.
func refutations(m *serftest.Member) int {
	return strings.Count(m.Logs.String(), "Refuting a suspect message (from: n0)")
}

func TestRefutationReachesTheAccuserThatHearsNoGossip(t *testing.T) {
	c := deafCluster(t, true)
	n0 := c.Members[0]
	// Watch until both suspects refuted n0 a few times each: every one of
	// those suspicions would have ended in a failure without the push.
	deadline := time.Now().Add(serftest.MembersTimeout)
	for refutations(c.Members[1]) < 3 || refutations(c.Members[2]) < 3 {
		if failed := n0.Events.MemberEvents(serf.EventMemberFailed); len(failed) > 0 {
			t.Fatalf("n0 declared %v failed although they refuted", failed)
		}
		if time.Now().After(deadline) {
			t.Fatalf("n1 and n2 refuted %d and %d times; want 3 each",
				refutations(c.Members[1]), refutations(c.Members[2]))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if failed := n0.Events.MemberEvents(serf.EventMemberFailed); len(failed) > 0 {
		t.Fatalf("n0 declared %v failed although they refuted", failed)
	}
	for _, m := range c.Members[1:] {
		if got := serf.RefutationPushes(m.Serf); got == 0 {
			t.Errorf("%s refuted but pushed nothing", m.Name)
		}
	}
}

// Without the push the same suspicions end as failures: the comparison
// that shows the test above depends on it.
func TestRefutationLostWithoutThePush(t *testing.T) {
	c := deafCluster(t, false)
	serftest.Eventually(t, serftest.MembersTimeout, func() error {
		if failed := c.Members[0].Events.MemberEvents(serf.EventMemberFailed); len(failed) == 0 {
			return fmt.Errorf("n0 declared nobody failed yet")
		}
		return nil
	})
	for _, m := range c.Members[1:] {
		if got := serf.RefutationPushes(m.Serf); got != 0 {
			t.Errorf("%s pushed %d refutations with the push off", m.Name, got)
		}
	}
}

// A member too unhealthy to get its own probes answered leaves its
// refutations to gossip. Everything n1 sends by UDP is lost and TCP pings
// are off (one that got through would count as an answered probe, or
// clear a suspicion), so every probe of n1's fails with no nack and its
// Lifeguard health score only climbs, while n0 and n2, who cannot hear
// n1's acks, keep accusing it. n1's own suspicions of them run out only
// after 100 s, so they stay live members to push to.
func TestRefutationLeftToGossipWhileUnhealthy(t *testing.T) {
	c := serftest.NewCluster(t, 3, func(i int, conf *serf.Config) {
		conf.PushRefutations = true
		conf.AntiEntropyRounds = 0
		conf.MemberlistConfig.PushPullInterval = 0
		conf.MemberlistConfig.DisableTcpPings = true
		if i == 1 {
			conf.MemberlistConfig.SuspicionMult = 1000
		}
	})
	c.JoinAll()
	for _, to := range []string{"n0", "n2"} {
		c.Net.SetLink("n1", to, serftest.LinkConfig{Loss: 1})
	}
	n0, n1 := c.Members[0], c.Members[1]
	serftest.Eventually(t, serftest.MembersTimeout, func() error {
		if serf.RefutationsBraked(n1.Serf) == 0 {
			return fmt.Errorf("n1 braked no refutation yet (health score %d, %d pushes)",
				serf.HealthScore(n1.Serf), serf.RefutationPushes(n1.Serf))
		}
		return nil
	})
	// The push loop is one goroutine, so every push round before the
	// braked refutation is counted by now; the score cannot fall, since
	// nothing n1 sends is answered.
	pushed := serf.RefutationPushes(n1.Serf)
	if score := serf.HealthScore(n1.Serf); score < serf.RefutationBrakeScore {
		t.Fatalf("n1's health score is %d after a braked refutation; want at least %d", score, serf.RefutationBrakeScore)
	}
	// With nothing pushed, n1's refutations no longer reach n0, which ends
	// up holding n1 failed; watch for a second (ten probe intervals) in
	// which a push would have brought n1 back and drawn new accusations.
	watchUntil := time.Now().Add(time.Second)
	serftest.Eventually(t, serftest.MembersTimeout, func() error {
		if m, _ := serftest.FindMember(n0.Serf, "n1"); m.Status != serf.StatusFailed {
			return fmt.Errorf("n0 holds n1 %v, not failed", m.Status)
		}
		if time.Now().Before(watchUntil) {
			return fmt.Errorf("still watching")
		}
		return nil
	})
	if got := serf.RefutationPushes(n1.Serf); got != pushed {
		t.Errorf("n1 started %d push/pulls while its health score was at the brake; want none", got-pushed)
	}
}

func TestRefutationAccuserFromLogLine(t *testing.T) {
	for _, tc := range []struct {
		line, accuser string
		ok            bool
	}{
		{"[WARN] memberlist: Refuting a suspect message (from: c)\n", "c", true},
		{"2026/12/06 18:24:47 [WARN] memberlist: Refuting a dead message (from: node (2))\n", "node (2)", true},
		{"[WARN] memberlist: Refuting a suspect message (from: )\n", "", false},
		{"[WARN] memberlist: Refuting an alive message for 'a' (10.0.0.1:7946) meta:([] VS [])\n", "", false},
		{"[INFO] memberlist: Suspect c has failed, no acks received\n", "", false},
		{"[WARN] memberlist: Refuting a suspect message (from: c", "", false},
	} {
		got, ok := serf.RefutationAccuser(tc.line)
		if got != tc.accuser || ok != tc.ok {
			t.Errorf("RefutationAccuser(%q) = %q, %v; want %q, %v", tc.line, got, ok, tc.accuser, tc.ok)
		}
	}
}
