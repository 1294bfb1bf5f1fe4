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
