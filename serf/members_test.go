package serf_test

import (
	"testing"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

func TestFailureIsSeenAsFailed(t *testing.T) {
	c := serftest.NewCluster(t, 3, nil)
	c.JoinAll()

	c.Kill(2)
	if !c.Members[2].Logs.Contains("[WARN] serf: Shutdown without a Leave") {
		t.Fatal("missing shutdown warning")
	}
	c.WaitStatus("n2", serf.StatusFailed)
	serftest.Eventually(t, waitFor, hasAll("failed events", memberEvents(c.Members[0], serf.EventMemberFailed), "n2"))
	if st := c.Members[0].Serf.Stats(); st["failed"] != "1" || st["members"] != "3" {
		t.Fatalf("stats %v", st)
	}
}
