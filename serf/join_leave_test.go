package serf_test

import (
	"fmt"
	"testing"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

func TestJoinSeesEveryone(t *testing.T) {
	c := serftest.NewCluster(t, 3, nil)
	c.JoinAll()

	serftest.Eventually(t, waitFor, hasAll("joins on n0", memberEvents(c.Members[0], serf.EventMemberJoin), "n0", "n1", "n2"))
	if !c.Members[0].Logs.Contains("[INFO] serf: EventMemberJoin: n1 127.0.0.1") {
		t.Fatalf("missing join log line:\n%s", c.Members[0].Logs)
	}
	m := c.Members[0].Serf.LocalMember()
	if m.Name != "n0" || m.Status != serf.StatusAlive || m.DelegateCur != 5 || m.DelegateMin != 2 || m.DelegateMax != 5 || m.ProtocolCur != 2 {
		t.Fatalf("local member %+v", m)
	}
}

func TestGracefulLeaveIsSeenAsLeft(t *testing.T) {
	c := serftest.NewCluster(t, 3, nil)
	c.JoinAll()
	n2 := c.Members[2]

	if err := n2.Serf.Leave(); err != nil {
		t.Fatal(err)
	}
	if st := n2.Serf.State(); st != serf.SerfLeft {
		t.Fatalf("state %v", st)
	}
	c.WaitStatus("n2", serf.StatusLeft)
	serftest.Eventually(t, waitFor, hasAll("leave events", memberEvents(c.Members[0], serf.EventMemberLeave), "n2"))
	if err := n2.Serf.Leave(); err != nil {
		t.Fatalf("second leave: %v", err)
	}
	c.Kill(2)
	if err := n2.Serf.Leave(); err == nil || err.Error() != "Leave called after Shutdown" {
		t.Fatalf("leave after shutdown: %v", err)
	}
	if n2.Logs.Contains("Shutdown without a Leave") {
		t.Fatal("warned about shutdown after a leave")
	}
}

func TestForceLeaveMovesFailedToLeft(t *testing.T) {
	c := serftest.NewCluster(t, 3, nil)
	c.JoinAll()
	c.Kill(2)
	c.WaitStatus("n2", serf.StatusFailed)

	if err := c.Members[0].Serf.RemoveFailedNode("n2"); err != nil {
		t.Fatal(err)
	}
	c.WaitStatus("n2", serf.StatusLeft)
	serftest.Eventually(t, waitFor, hasAll("forced leave events on n1", memberEvents(c.Members[1], serf.EventMemberLeave), "n2"))
	if !c.Members[1].Logs.Contains("[INFO] serf: EventMemberLeave (forced): n2 127.0.0.1") {
		t.Fatalf("missing forced leave log")
	}
}

func TestForceLeavePruneErases(t *testing.T) {
	c := serftest.NewCluster(t, 3, nil)
	c.JoinAll()
	c.Kill(2)
	c.WaitStatus("n2", serf.StatusFailed)

	if err := c.Members[0].Serf.RemoveFailedNodePrune("n2"); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Members[:2] {
		s, name := m.Serf, m.Name
		serftest.Eventually(t, waitFor, func() error {
			if _, ok := serftest.FindMember(s, "n2"); ok {
				return fmt.Errorf("%s still knows n2", name)
			}
			return nil
		})
	}
	serftest.Eventually(t, waitFor, hasAll("reap events", memberEvents(c.Members[1], serf.EventMemberReap), "n2"))
	if _, ok := c.Members[0].Serf.GetCachedCoordinate("n2"); ok {
		t.Fatal("coordinate of pruned node still cached")
	}
}

func TestForceLeaveUnknownNodeSucceeds(t *testing.T) {
	c := serftest.NewCluster(t, 2, nil)
	c.JoinAll()
	if err := c.Members[0].Serf.RemoveFailedNode("nobody"); err != nil {
		t.Fatal(err)
	}
}
