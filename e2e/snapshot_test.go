package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

// TestSnapshotRejoin: an agent with -snapshot that crashes rejoins its
// cluster by itself when restarted in place; after a graceful leave it does
// not, unless started with -rejoin.
func TestSnapshotRejoin(t *testing.T) {
	t.Parallel()
	snap := filepath.Join(t.TempDir(), "snap")
	a, c := start(t, "sn-a"), start(t, "sn-c")
	b := start(t, "sn-b", "-snapshot", snap)
	cluster.JoinAll(t, converge, b, a, c)
	// Crash only once the file names both peers, or the restart has
	// nobody to rejoin.
	cluster.WaitSnapshotAlive(t, converge, b, snap, a, c)
	all := map[string]string{"sn-a": "alive", "sn-b": "alive", "sn-c": "alive"}
	restart := func(args ...string) *cluster.Agent {
		t.Helper()
		return cluster.StartAgent(t, bin(t), cluster.Options{
			Name: "sn-b", Args: append([]string{"-snapshot", snap}, args...), BindAddr: b.BindAddr, RPCAddr: b.RPCAddr,
		})
	}

	// Crash, restart: back in the cluster without -join.
	b.Kill()
	a.WaitStatus(t, failDetect, "sn-b", "failed")
	b = restart()
	b.WaitMembers(t, converge, all)
	a.WaitMembers(t, converge, all)

	// Graceful leave, restart: alone, and the snapshot says it left.
	b.Interrupt()
	b.Wait(t, exitWait)
	a.WaitStatus(t, converge, "sn-b", "left")
	data, _ := os.ReadFile(snap)
	if !strings.Contains(string(data), "\nleave\n") {
		t.Errorf("snapshot after a graceful leave has no leave line:\n%s", data)
	}
	b = restart()
	b.WaitMembers(t, converge, map[string]string{"sn-b": "alive"})
	b.Kill()

	// With -rejoin it rejoins even after the leave.
	b = restart("-rejoin")
	b.WaitMembers(t, converge, all)
	a.WaitMembers(t, converge, all)
}
