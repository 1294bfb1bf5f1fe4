package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
	"github.com/serf-clone/serf/testutil/netns"
)

// TestBenchLoss is `make bench-loss`: false failures under packet loss, A/B
// in one run. A cluster of our agents and one of real Serf v0.10.2 agents,
// each in network namespaces of its own (testutil/netns) with default LAN
// timings, lose the same share of every packet for the same time, side by
// side; the test counts, in every agent's log, memberlist's verdicts that
// a member failed (every member is alive throughout, so each is false)
// and the refutations. It runs only with SERF_BENCH_LOSS=1, as root; the
// knobs are
//
//	LOSS_PCT=30      percent of packets lost on every link
//	LOSS_HOLD=10m    how long the loss lasts
//	LOSS_MEMBERS=5   agents per cluster
//
// The last line is the summary. It asserts nothing about the counts: loss
// makes them random, and a rate needs long runs (BENCHMARKS.md).
func TestBenchLoss(t *testing.T) {
	if os.Getenv("SERF_BENCH_LOSS") != "1" {
		t.Skip("set SERF_BENCH_LOSS=1 (make bench-loss)")
	}
	netns.Require(t)
	pct := envInt(t, "LOSS_PCT", 30)
	members := envInt(t, "LOSS_MEMBERS", 5)
	hold := envDuration(t, "LOSS_HOLD", 10*time.Minute)
	clusters := []*lossCluster{
		startLossCluster(t, "ours", ours(t), members),
		startLossCluster(t, "real", realBin, members),
	}
	for _, c := range clusters {
		c.lose(pct)
	}
	time.Sleep(hold)
	var res []lossResult
	for _, c := range clusters {
		c.lose(0)
		r := c.count()
		res = append(res, r)
		t.Logf("LOSS %s members=%d loss=%d%% hold=%s false_failures=%d refutations=%d suspicions=%d",
			c.kind, members, pct, hold, r.failures, r.refutations, r.suspicions)
	}
	t.Logf("SUMMARY ours:real members=%d loss=%d%% hold=%s false_failures=%d:%d refutations=%d:%d suspicions=%d:%d",
		members, pct, hold, res[0].failures, res[1].failures,
		res[0].refutations, res[1].refutations, res[0].suspicions, res[1].suspicions)
}

// lossResult is what one cluster's logs said during the loss.
type lossResult struct {
	failures    int // "Marking X as failed": a member declared failed
	refutations int // "Refuting a suspect message": a member refuted a suspicion
	suspicions  int // "Suspect X has failed": a member's own probe failed
}

// lossCluster is one cluster of agents of one binary on a private
// network, with how much of each agent's log came before the loss.
type lossCluster struct {
	kind   string
	net    *netns.Net
	agents []*cluster.Agent
	before []int
}

// startLossCluster starts n agents of bin, each in a namespace of its own,
// and joins them.
func startLossCluster(t *testing.T, kind, bin string, n int) *lossCluster {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", kind, i)
	}
	c := &lossCluster{kind: kind, net: netns.New(t, names...)}
	cfg := filepath.Join(t.TempDir(), "loss.json")
	if err := os.WriteFile(cfg, []byte(`{"reconnect_interval": "1s"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, nd := range c.net.Nodes {
		c.agents = append(c.agents, nd.StartAgent(t, bin, cluster.Options{Args: []string{"-config-file", cfg}}))
	}
	cluster.JoinAll(t, converge, c.agents...)
	return c
}

// lose sets the loss on every link; the first call marks where the
// counted part of the logs begins.
func (c *lossCluster) lose(pct int) {
	if c.before == nil {
		for _, a := range c.agents {
			c.before = append(c.before, len(a.Output()))
		}
	}
	c.net.Loss(pct)
}

// count reads what the agents logged since the loss began.
func (c *lossCluster) count() lossResult {
	var r lossResult
	for i, a := range c.agents {
		during := a.Output()[c.before[i]:]
		r.failures += strings.Count(during, " as failed, suspect timeout reached")
		r.refutations += strings.Count(during, "Refuting a suspect message")
		r.suspicions += strings.Count(during, "has failed, no acks received")
	}
	return r
}
