package serf

import (
	"path/filepath"
	"testing"
	"time"
)

// A node restarted on its snapshot rejoins the cluster by itself and does
// not see again the user events its previous incarnation handled.
func TestRestartFromSnapshotRejoinsWithoutReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	c := newTestCluster(t, 2, func(conf *Config) {
		if conf.NodeName == "n1" {
			conf.SnapshotPath = path
		}
	})
	c.startAll()
	if err := c.nodes[0].serf.UserEvent("before", nil, false); err != nil {
		t.Fatal(err)
	}
	first := c.nodes[1]
	waitUntil(t, 5*time.Second, "event recorded by n1", func() bool { return first.serf.eventClock.Time() >= 2 })
	c.kill(1)

	// Same name, address and snapshot; new process.
	events := make(chan Event, 1024)
	logs := &logBuffer{}
	conf := testConfig("n1", c.net.restart("n1", first.transport), logs, events)
	conf.SnapshotPath = path
	s, err := Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown() })

	waitUntil(t, 10*time.Second, "rejoin from snapshot", func() bool {
		return countStatus(s, StatusAlive) == 2 && logs.contains("[INFO] serf: Re-joined to previously known node: n0: ")
	})
	if err := c.nodes[0].serf.UserEvent("after", nil, false); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-events:
			ue, ok := e.(UserEvent)
			if !ok {
				continue
			}
			if ue.Name == "before" {
				t.Fatal("old event replayed after restart")
			}
			if ue.Name == "after" {
				return
			}
		case <-deadline:
			t.Fatal("new event never arrived")
		}
	}
}
