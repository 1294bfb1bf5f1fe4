package serf

import (
	"testing"
	"time"
)

// A 64-node cluster converges, spreads a user event to everyone and
// answers a query from everyone. Skipped with -short and under the race
// detector, which makes 64 nodes too slow for a shared 2-core machine.
func TestCluster64(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("64 nodes")
	}
	const n = 64
	c := newTestCluster(t, n, func(conf *Config) {
		conf.Logger.SetOutput(discard{})
		ml := conf.MemberlistConfig
		ml.GossipInterval = 50 * time.Millisecond
		ml.ProbeInterval = 200 * time.Millisecond
		ml.ProbeTimeout = 100 * time.Millisecond
		ml.PushPullInterval = 2 * time.Second
		ml.SuspicionMult = 4
	})
	start := time.Now()
	for i := range c.nodes {
		c.start(i)
	}
	for i := 1; i < n; i++ {
		c.join(i, i/2) // a tree of introductions, not a star
	}
	c.waitMembers(n)
	t.Logf("converged in %v", time.Since(start))

	for i := 1; i < n; i++ {
		c.respondAll(i)
	}
	start = time.Now()
	resp, err := c.nodes[0].serf.Query("all", nil, &QueryParam{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for range resp.ResponseCh() {
		got++
		if got == n-1 {
			resp.Close()
		}
	}
	if got != n-1 {
		t.Fatalf("%d of %d responses", got, n-1)
	}
	t.Logf("all %d responses in %v", got, time.Since(start))
}
