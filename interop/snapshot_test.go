package interop

import (
	"path/filepath"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

// TestSnapshotRestartAcrossKinds: an agent with -snapshot crashes and is
// restarted in place by the other implementation, which reads the snapshot
// the first one wrote and rejoins the cluster on its own (no -join).
func TestSnapshotRestartAcrossKinds(t *testing.T) {
	cases := []struct {
		name        string
		first, then func(t *testing.T) string
	}{
		{"real-then-real", func(*testing.T) string { return realBin }, func(*testing.T) string { return realBin }},
		{"real-then-ours", func(*testing.T) string { return realBin }, func(t *testing.T) string { return ours(t) }},
		{"ours-then-real", func(t *testing.T) string { return ours(t) }, func(*testing.T) string { return realBin }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			first, then := tc.first(t), tc.then(t)
			snap := filepath.Join(t.TempDir(), "snap")
			a := cluster.StartAgent(t, realBin, cluster.Options{Name: "snap-a"})
			c := cluster.StartAgent(t, then, cluster.Options{Name: "snap-c"})
			b := cluster.StartAgent(t, first, cluster.Options{Name: "snap-b", Args: []string{"-snapshot", snap}})
			cluster.JoinAll(t, converge, b, a, c)
			// Crash only once the file names both peers, or the restart has
			// nobody to rejoin.
			cluster.WaitSnapshotAlive(t, converge, b, snap, a, c)

			b.Kill()
			a.WaitStatus(t, failDetect, "snap-b", "failed")

			b2 := cluster.StartAgent(t, then, cluster.Options{
				Name: "snap-b", Args: []string{"-snapshot", snap}, BindAddr: b.BindAddr, RPCAddr: b.RPCAddr,
			})
			want := map[string]string{"snap-a": "alive", "snap-b": "alive", "snap-c": "alive"}
			b2.WaitMembers(t, converge, want)
			a.WaitMembers(t, converge, want)
			c.WaitMembers(t, converge, want)
		})
	}
}
