package cluster

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// WaitSnapshotAlive waits until the snapshot file that owner writes (its
// -snapshot path) records every peer as alive. Serf's snapshotter flushes
// only when it appends a line more than 500 ms after its last flush, so in a
// quiet cluster recent lines can sit in its buffer indefinitely; a user event
// sent through owner now and then makes it append, and so flush.
func WaitSnapshotAlive(t testing.TB, timeout time.Duration, owner *Agent, path string, peers ...*Agent) {
	t.Helper()
	var nudged time.Time
	Eventually(t, timeout, func() error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if time.Since(nudged) > time.Second {
			nudged = time.Now()
			owner.CLI(t, "event", "-coalesce=false", "snapshot-nudge")
		}
		for _, p := range peers {
			if !strings.Contains(string(data), "alive: "+p.Name+" "+p.BindAddr+"\n") {
				return fmt.Errorf("snapshot lacks %s:\n%s", p.Name, data)
			}
		}
		return nil
	})
}
