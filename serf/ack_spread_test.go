package serf_test

import (
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
)

// Up to 128 members ack at once, as in Serf; above, the window grows with
// the cluster so that about 512 acks reach the asker per gossip interval.
func TestAckSpreadWindowGrowsWithTheCluster(t *testing.T) {
	const gossip = 200 * time.Millisecond
	for _, c := range []struct {
		n    int
		want time.Duration
	}{
		{1, 0}, {64, 0}, {128, 0},
		{129, gossip * 129 / 512}, {512, gossip}, {513, gossip * 513 / 512}, {1024, 2 * gossip}, {2000, gossip * 2000 / 512}, {10000, gossip * 10000 / 512},
	} {
		if got := serf.AckSpreadWindow(gossip, c.n); got != c.want {
			t.Errorf("%d members: %v, want %v", c.n, got, c.want)
		}
	}
}
