package serf_test

import (
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

func TestReapAfterTimeouts(t *testing.T) {
	c := serftest.NewCluster(t, 3, func(_ int, conf *serf.Config) {
		conf.ReapInterval = 20 * time.Millisecond
		conf.ReconnectTimeout = 300 * time.Millisecond
		conf.TombstoneTimeout = 300 * time.Millisecond
	})
	c.JoinAll()
	c.Kill(2)
	serftest.Eventually(t, waitFor, hasAll("reap events", memberEvents(c.Members[0], serf.EventMemberReap), "n2"))
	if _, ok := serftest.FindMember(c.Members[0].Serf, "n2"); ok {
		t.Fatal("n2 still a member after reap")
	}
	if !c.Members[0].Logs.Contains("[INFO] serf: EventMemberReap: n2") {
		t.Fatal("missing reap log")
	}
}

// shortFor is a ReconnectTimeoutOverride giving one member a short timeout.
type shortFor string

func (s shortFor) ReconnectTimeout(m *serf.Member, timeout time.Duration) time.Duration {
	if m.Name == string(s) {
		return 100 * time.Millisecond
	}
	return timeout
}

func TestReconnectTimeoutOverride(t *testing.T) {
	c := serftest.NewCluster(t, 3, func(_ int, conf *serf.Config) {
		conf.ReapInterval = 20 * time.Millisecond
		conf.ReconnectTimeout = time.Hour
		conf.ReconnectTimeoutOverride = shortFor("n2")
	})
	c.JoinAll()
	c.Kill(1)
	c.Kill(2)
	serftest.Eventually(t, waitFor, hasAll("failed events", memberEvents(c.Members[0], serf.EventMemberFailed), "n1", "n2"))
	serftest.Eventually(t, waitFor, hasAll("reap events", memberEvents(c.Members[0], serf.EventMemberReap), "n2"))
	if m, ok := serftest.FindMember(c.Members[0].Serf, "n1"); !ok || m.Status != serf.StatusFailed {
		t.Fatalf("n1, with the configured hour, should still be failed: %+v %v", m, ok)
	}
}
