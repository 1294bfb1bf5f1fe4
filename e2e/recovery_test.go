package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// Recovery after outages and long partitions (issue 10: serf#333 and
// serf#605), on real agents in network namespaces.

// partitionUntil cuts the agents into left and right and waits until
// every agent sees each agent of the other side as status.
func partitionUntil(t *testing.T, timeout time.Duration, left, right []*faultAgent, status string,
	partition func()) {
	t.Helper()
	partition()
	for _, side := range [][]*faultAgent{left, right} {
		other := right
		if side[0] == right[0] {
			other = left
		}
		for _, a := range side {
			for _, o := range other {
				a.WaitStatus(t, timeout, o.Name, status)
			}
		}
	}
}

// snapshotArgs gives each name a -snapshot file of its own in dir.
func snapshotArgs(dir string, names []string) map[string][]string {
	only := make(map[string][]string, len(names))
	for _, n := range names {
		only[n] = []string{"-snapshot", filepath.Join(dir, n+".snap")}
	}
	return only
}

// TestFaultRecoveryFullOutage (serf#333): a 3|3 partition lasts until each
// side sees the other failed, then all six agents are killed with SIGKILL
// and restarted with their snapshots and no -join. They form one cluster of
// six again: each remembers the other side as failed and keeps trying it.
func TestFaultRecoveryFullOutage(t *testing.T) {
	t.Parallel()
	names := []string{"l1", "l2", "l3", "r1", "r2", "r3"}
	dir := t.TempDir()
	// The address book (serf#605) would merge the halves too, a minute
	// later: off here, so only the start-up rejoin can.
	cfg := filepath.Join(dir, "no-book.json")
	if err := os.WriteFile(cfg, []byte(`{"rejoin_reaped_interval": "-1s"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	n, agents := startFaultCluster(t, names, snapshotArgs(dir, names), "-profile", "local", "-config-file", cfg)
	left, right := agents[:3], agents[3:]
	partitionUntil(t, failDetect, left, right, "failed", func() { n.Partition(nodes(left), nodes(right)) })

	// Every snapshot records the other side as failed.
	for i, a := range agents {
		other := right
		if i >= 3 {
			other = left
		}
		path := filepath.Join(dir, a.Name+".snap")
		cluster.Eventually(t, converge, func() error {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, o := range other {
				if !strings.Contains(string(data), "failed: "+o.Name+" "+o.BindAddr+"\n") {
					return fmt.Errorf("%s's snapshot lacks failed %s:\n%s", a.Name, o.Name, data)
				}
			}
			return nil
		})
	}

	for _, a := range agents {
		a.Kill()
	}
	n.Heal()
	restarted := make([]*faultAgent, len(agents))
	for i, a := range agents {
		restarted[i] = &faultAgent{Agent: a.node.StartAgent(t, bin(t), a.opts), node: a.node, events: a.events, opts: a.opts}
	}
	cluster.WaitConverged(t, converge, plain(restarted)...)
}

// recoveryConfig makes failed members reaped within seconds and the
// address book tried every second.
const recoveryConfig = `{"reconnect_timeout": "2s", "tombstone_timeout": "2s", "rejoin_reaped_interval": "1s"}`

// TestFaultRecoveryLongPartition (serf#605): a 2|2 partition lasts until
// each side has reaped the other (past reconnect_timeout); once healed the
// halves merge by themselves, through the address book of reaped members.
func TestFaultRecoveryLongPartition(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "recovery.json")
	if err := os.WriteFile(cfg, []byte(recoveryConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	n, agents := startFaultCluster(t, []string{"a1", "a2", "b1", "b2"}, nil,
		"-profile", "local", "-config-file", cfg)
	left, right := agents[:2], agents[2:]
	n.Partition(nodes(left), nodes(right))
	for _, a := range agents {
		cluster.Eventually(t, failDetect, func() error {
			ms, err := a.Members(t)
			if err != nil {
				return err
			}
			if len(ms) != 2 {
				return fmt.Errorf("%s lists %d members, want its own side's 2: %v", a.Name, len(ms), ms)
			}
			return nil
		})
		a.WaitOutput(t, "EventMemberReap", converge)
	}
	// Every agent tries its address book while the partition lasts. The
	// check is made before the heal: after it, the first agent whose try
	// gets through merges the halves, and the others, finding nobody
	// reaped any more, need not try at all.
	for _, a := range agents {
		a.WaitOutput(t, "attempting join to reaped member", converge)
	}
	n.Heal()
	cluster.WaitConverged(t, converge, plain(agents)...)
}
