package serf

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf/serftest"
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
	// The event clock moves before the event enters n1's pipeline, so wait
	// for the event itself: the snapshotter queues an event for recording
	// before passing it on, and shutdown records what is queued.
	waitUserEvent(t, first.events, "before")
	c.kill(1)

	// Same name, address and snapshot; new process.
	events := make(chan Event, 1024)
	logs := &serftest.SyncBuffer{}
	conf := testConfig("n1", c.net.restart("n1", first.transport), logs, events)
	conf.SnapshotPath = path
	s, err := Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown() })

	waitUntil(t, 10*time.Second, "rejoin from snapshot", func() bool {
		return countStatus(s, StatusAlive) == 2 && logs.Contains("[INFO] serf: Re-joined to previously known node: n0: ")
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

// waitUserEvent reads events until the user event called name arrives.
func waitUserEvent(t *testing.T, events <-chan Event, name string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-events:
			if ue, ok := e.(UserEvent); ok && ue.Name == name {
				return
			}
		case <-deadline:
			t.Fatalf("user event %q never delivered", name)
		}
	}
}
