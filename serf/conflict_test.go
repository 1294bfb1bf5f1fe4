package serf

import (
	"testing"
	"time"

	"github.com/serf-clone/serf/serf/serftest"
)

// A second node claiming an existing name loses the vote and shuts down.
func TestNameConflictImpostorShutsDown(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.startAll()

	logs := &serftest.SyncBuffer{}
	conf := testConfig("n1", c.net.newTransport("n1-impostor"), logs, make(chan Event, 1024))
	impostor, err := Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { impostor.Shutdown() })
	// The join may fail or succeed depending on who wins the race; what
	// matters is the outcome.
	_, _ = impostor.Join([]string{c.nodes[0].addr()}, false)

	select {
	case <-impostor.ShutdownCh():
	case <-time.After(10 * time.Second):
		t.Fatalf("impostor still running:\n%s", logs)
	}
	if !logs.Contains("[WARN] serf: minority in name conflict resolution, quiting [") {
		t.Fatalf("no minority log:\n%s", logs)
	}
	if c.nodes[1].serf.State() != SerfAlive {
		t.Fatal("the original n1 went down")
	}
	waitUntil(t, 5*time.Second, "conflict warning on n0", func() bool {
		return c.nodes[0].logs.Contains("[WARN] serf: Name conflict for 'n1' both ")
	})
}
