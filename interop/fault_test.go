package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
	"github.com/serf-clone/serf/testutil/netns"
)

// TestFaultMixedPartitionHeal: three real Serf v0.10.2 agents and three of
// ours, each in a network namespace of its own (testutil/netns), are split
// 3|3 with both kinds on each side until each side has marked the other
// failed. A user event sent on each side (through a real agent on one, ours
// on the other) stays on its side; after the heal all six are alive again
// on every agent and both events have been handled once on all six.
// Without root, `ip` or `nft` it skips (fails under SERF_REQUIRE_NETNS).
func TestFaultMixedPartitionHeal(t *testing.T) {
	t.Parallel()
	netns.Require(t)
	our := ours(t)
	names := []string{"real-1", "ours-1", "real-2", "ours-2", "real-3", "ours-3"}
	bins := []string{realBin, our, realBin, our, realBin, our}
	n := netns.New(t, names...)

	// Failed members are retried every second instead of every 30 s, so
	// the healed halves merge within the deadlines.
	cfg := filepath.Join(t.TempDir(), "fault.json")
	if err := os.WriteFile(cfg, []byte(`{"reconnect_interval": "1s"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var as []*cluster.Agent
	var dirs []string
	for i, nd := range n.Nodes {
		script, dir := cluster.RecordingHandler(t)
		dirs = append(dirs, dir)
		as = append(as, nd.StartAgent(t, bins[i], cluster.Options{
			Args: []string{"-profile", "local", "-config-file", cfg, "-event-handler", script},
		}))
	}
	cluster.JoinAll(t, converge, as...)

	sides := [][]int{{0, 1, 2}, {3, 4, 5}}
	group := func(idx []int) []*netns.Node {
		var g []*netns.Node
		for _, i := range idx {
			g = append(g, n.Nodes[i])
		}
		return g
	}
	n.Partition(group(sides[0]), group(sides[1]))
	for s, side := range sides {
		for _, i := range side {
			for _, j := range sides[1-s] {
				as[i].WaitStatus(t, failDetect, names[j], "failed")
			}
		}
	}

	handled := func(i int, ev string) int {
		recs, err := cluster.HandlerRecords(dirs[i], "user", ev)
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	waitHandled := func(ev string, idx ...int) {
		t.Helper()
		deadline := time.Now().Add(converge)
		for _, i := range idx {
			cluster.Eventually(t, time.Until(deadline), func() error {
				if handled(i, ev) == 0 {
					return fmt.Errorf("%s has not handled %q", names[i], ev)
				}
				return nil
			})
		}
	}
	// real-1 sends on the first side, ours-2 on the second.
	for _, e := range []struct {
		from int
		name string
	}{{0, "during-real-side"}, {3, "during-ours-side"}} {
		if res := as[e.from].CLI(t, "event", e.name, "payload"); res.Code != 0 {
			t.Fatalf("event %s via %s: %s", e.name, names[e.from], res)
		}
	}
	waitHandled("during-real-side", sides[0]...)
	waitHandled("during-ours-side", sides[1]...)
	for _, i := range sides[1] {
		if handled(i, "during-real-side") != 0 {
			t.Fatalf("%s handled the other side's event through the partition", names[i])
		}
	}

	n.Heal()
	cluster.WaitConverged(t, converge, as...)
	all := []int{0, 1, 2, 3, 4, 5}
	waitHandled("during-real-side", all...)
	waitHandled("during-ours-side", all...)
	for _, i := range all {
		for _, ev := range []string{"during-real-side", "during-ours-side"} {
			if c := handled(i, ev); c != 1 {
				t.Errorf("%s handled %q %d times, want once", names[i], ev, c)
			}
		}
	}
}
