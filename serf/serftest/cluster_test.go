package serftest

import (
	"fmt"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
)

func TestClusterPartitionAndHeal(t *testing.T) {
	c := NewCluster(t, 3, func(_ int, conf *serf.Config) {
		conf.ReconnectInterval = 100 * time.Millisecond
	})
	c.JoinAll()

	c.Net.Partition([]string{"n0", "n1"}, []string{"n2"})
	c.WaitStatus("n2", serf.StatusFailed)
	n2 := c.Members[2].Serf
	Eventually(t, StatusTimeout, func() error {
		if got := CountStatus(n2, serf.StatusFailed); got != 2 {
			return fmt.Errorf("n2 sees %d failed members, want 2", got)
		}
		return nil
	})

	c.Net.Heal()
	c.WaitMembers(3) // the reconnect loop finds the other side again
}

func TestClusterRestartKeepsTheAddress(t *testing.T) {
	c := NewCluster(t, 2, nil)
	c.JoinAll()
	addr := c.Members[1].Addr()
	old := c.Members[1].Events

	m := c.Restart(1)
	if m.Addr() != addr || m.Events == old || m.Serf.State() != serf.SerfAlive {
		t.Fatalf("restarted at %s (was %s), state %v", m.Addr(), addr, m.Serf.State())
	}
	c.Join(1, 0)
	c.WaitMembers(2)
	Eventually(t, StatusTimeout, func() error {
		if !Contains(m.Events.MemberEvents(serf.EventMemberJoin), "n0") {
			return fmt.Errorf("restarted n1 saw no join of n0")
		}
		return nil
	})
}

func TestClusterTestOwnedEventCh(t *testing.T) {
	events := make(chan serf.Event, 16)
	c := NewCluster(t, 1, func(_ int, conf *serf.Config) { conf.EventCh = events })
	if c.Members[0].Events != nil {
		t.Fatal("collector on a channel the test owns")
	}
	select {
	case e := <-events:
		if e.String() != "member-join" {
			t.Fatalf("first event %v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no join event on the test's channel")
	}
}
