package serf_test

import (
	"errors"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// A second node claiming an existing name loses the vote and shuts down.
func TestNameConflictImpostorShutsDown(t *testing.T) {
	c := serftest.NewCluster(t, 3, nil)
	c.JoinAll()

	impostor := c.Add("n1")
	// The join may fail or succeed depending on who wins the race; what
	// matters is the outcome.
	_, _ = impostor.Serf.Join([]string{c.Members[0].Addr()}, false)

	select {
	case <-impostor.Serf.ShutdownCh():
	case <-time.After(10 * time.Second):
		t.Fatalf("impostor still running:\n%s", impostor.Logs)
	}
	if !impostor.Logs.Contains("[WARN] serf: minority in name conflict resolution, quiting [") {
		t.Fatalf("no minority log:\n%s", impostor.Logs)
	}
	if c.Members[1].Serf.State() != serf.SerfAlive {
		t.Fatal("the original n1 went down")
	}
	serftest.Eventually(t, 5*time.Second, func() error {
		if !c.Members[0].Logs.Contains("[WARN] serf: Name conflict for 'n1' both ") {
			return errors.New("no conflict warning on n0")
		}
		return nil
	})
}
