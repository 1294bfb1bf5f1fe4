package interop

import (
	"cmp"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/serf/client"
	"github.com/serf-clone/serf/testutil/cluster"
)

// TestBenchStorm is `make bench-storm`: the join storm alone, measured
// without asking the agents anything while it runs. It runs only with
// SERF_BENCH_STORM=1; the knobs are
//
//	STORM_N=256        agents per storm
//	STORM_RUNS=4       storms per binary, ours and the real Serf v0.10.2
//	                   alternately (A/B, then B/A, ...)
//	STORM_SETTLE=15s   quiet time between the last agent's start and the storm
//	STORM_WATCH=60s    how long after the joins the storm is left alone
//	STORM_ONLY=        "ours" or "real" runs that binary alone
//
// bench-cluster polls every agent's stats until the cluster converges,
// which at N=256 is load of its own on a small machine. Here nothing but
// the joins themselves touches an agent until STORM_WATCH is over: when
// each agent converged is read afterwards from its log, as the second of
// the EventMemberJoin line that completed its set of the other N−1
// members (both binaries log the same line). Per storm it reports when
// the joins returned, when the agents converged (median, 90th
// percentile, last; "never" if some did not within the watch), how many
// listed all N alive at the end, how many EventMemberFailed lines were
// logged, the UDP datagrams the machine sent during the watch and the
// CPU the agents used in it. The last line is the summary.
func TestBenchStorm(t *testing.T) {
	if os.Getenv("SERF_BENCH_STORM") == "" {
		t.Skip("the storm benchmark runs with SERF_BENCH_STORM=1 (make bench-storm)")
	}
	if ourBuildErr != nil {
		t.Fatal(ourBuildErr)
	}
	n := envInt(t, "STORM_N", 256)
	if n < 4 {
		t.Fatalf("STORM_N: %d is not a size of at least 4", n)
	}
	runs := envInt(t, "STORM_RUNS", 4)
	settle := envDuration(t, "STORM_SETTLE", 15*time.Second)
	watch := envDuration(t, "STORM_WATCH", 60*time.Second)
	bins := benchBinaries(t, "STORM_ONLY")
	host, _ := os.Hostname()
	out := os.Stdout
	defer quietClientLog()()
	fmt.Fprintf(out, "bench-storm %s on %s: N=%d runs=%d settle=%v watch=%v\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), host, n, runs, settle, watch)
	results := map[string][]stormResult{}
	for r := 0; r < runs; r++ {
		for _, b := range abOrder(bins, r) {
			t.Run(fmt.Sprintf("run=%d/%s", r+1, b.name), func(t *testing.T) {
				res := stormOnce(t, b.path, n, settle, watch)
				results[b.name] = append(results[b.name], res)
				fmt.Fprintf(out, "  run %d %-4s %s\n", r+1, b.name, res)
			})
		}
	}
	fmt.Fprintf(out, "STORM ours:real n=%d %s\n", n, stormSummary(results["ours"], results["real"]))
}

// stormResult is one storm of one binary; times are seconds from the
// joins' start, and a negative one means "not within the watch".
type stormResult struct {
	joinsP50, joinsP90, joinsLast float64
	joinsFailed                   int
	convP50, convP90, convLast    float64
	fullAlive                     int // agents listing all N alive at the end of the watch
	failureLines                  int // EventMemberFailed lines in all logs
	datagrams                     int64
	cpuSeconds                    float64 // the agents' utime+stime during the watch
}

func (r stormResult) String() string {
	return fmt.Sprintf("joins p50/p90/last=%s/%s/%s failed=%d converged p50/p90/last=%s/%s/%s all_alive_at_end=%d failure_lines=%d datagrams=%d cpu=%.1fs",
		stormSec(r.joinsP50), stormSec(r.joinsP90), stormSec(r.joinsLast), r.joinsFailed,
		stormSec(r.convP50), stormSec(r.convP90), stormSec(r.convLast), r.fullAlive, r.failureLines, r.datagrams, r.cpuSeconds)
}

func stormSec(s float64) string {
	if s < 0 {
		return "never"
	}
	return strconv.FormatFloat(s, 'f', 1, 64)
}

func stormOnce(t *testing.T, bin string, n int, settle, watch time.Duration) stormResult {
	opts := make([]cluster.Options, n)
	for i := range opts {
		opts[i] = cluster.Options{Name: fmt.Sprintf("b%03d", i)}
	}
	procs := cluster.StartAgents(t, bin, opts)
	agents := make([]*benchAgent, n)
	for i, p := range procs {
		c, err := client.NewRPCClient(p.RPCAddr)
		if err != nil {
			t.Fatalf("rpc %s: %v", p.Name, err)
		}
		a := &benchAgent{Agent: p, rpc: c}
		agents[i] = a
		t.Cleanup(func() { a.Kill(); _ = c.Close(); a.calls.Wait() })
	}
	// Killed all at once first (see benchOnce).
	t.Cleanup(func() {
		for _, a := range agents {
			_ = a.Signal(syscall.SIGKILL)
		}
	})
	// Unlike bench-cluster, the bench keeps its normal priority: it only
	// collects the agents' output while they storm, and at nice -20 every
	// log line an agent writes would wake it ahead of the agents.
	time.Sleep(settle)

	var res stormResult
	cpu0, sent0 := agentsCPU(t, agents), datagramsSent(t)
	start := time.Now()
	joined := make([]float64, 0, n-1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, a := range agents[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := within(a, watch, func(c *client.RPCClient) (int, error) {
				return c.Join([]string{agents[0].BindAddr}, false)
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.joinsFailed++
				return
			}
			joined = append(joined, time.Since(start).Seconds())
		}()
	}
	wg.Wait()
	res.joinsP50, res.joinsP90, res.joinsLast = quantiles(joined, n-1)
	time.Sleep(time.Until(start.Add(watch)))
	res.cpuSeconds = agentsCPU(t, agents) - cpu0
	res.datagrams = datagramsSent(t) - sent0

	// Asked all at once: one after the other, the agents of a collapsed
	// storm could take their 10 s each.
	var asked sync.WaitGroup
	for _, a := range agents {
		asked.Add(1)
		go func() {
			defer asked.Done()
			if alive, err := within(a, 10*time.Second, aliveCount); err == nil && alive == n {
				mu.Lock()
				res.fullAlive++
				mu.Unlock()
			}
		}()
	}
	asked.Wait()
	var converged []float64
	for _, a := range agents {
		at, failures := convergedAt(a.Output(), a.Name, n, start.Truncate(time.Second))
		res.failureLines += failures
		if at >= 0 {
			converged = append(converged, at)
		}
	}
	res.convP50, res.convP90, res.convLast = quantiles(converged, n)
	return res
}

// memberLogLine matches the member-join and member-failed lines of both
// binaries' logs, with the second they were written.
var memberLogLine = regexp.MustCompile(`(?m)^\s*(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[INFO\] serf: (EventMemberJoin|EventMemberFailed): (\S+)`)

// convergedAt reads an agent's log: the second (from origin) of the join
// line that completed its set of the other n−1 members, or −1 if none
// did, and how many member-failed lines it has.
func convergedAt(output, self string, n int, origin time.Time) (at float64, failures int) {
	at = -1
	seen := map[string]bool{}
	for _, m := range memberLogLine.FindAllStringSubmatch(output, -1) {
		if m[2] == "EventMemberFailed" {
			failures++
			continue
		}
		if at >= 0 || m[3] == self || seen[m[3]] {
			continue
		}
		seen[m[3]] = true
		if len(seen) == n-1 {
			if ts, err := time.ParseInLocation("2006/01/02 15:04:05", m[1], time.Local); err == nil {
				at = ts.Sub(origin).Seconds()
			}
		}
	}
	return at, failures
}

// quantiles returns the median, the 90th percentile and the largest of
// xs as a share of want values; one that falls among the values missing
// (an agent that never converged, a join that failed) is −1.
func quantiles(xs []float64, want int) (p50, p90, last float64) {
	sort.Float64s(xs)
	at := func(q float64) float64 {
		i := int(q * float64(want-1))
		if i >= len(xs) {
			return -1
		}
		return xs[i]
	}
	return at(0.5), at(0.9), at(1)
}

// agentsCPU is the CPU time, in seconds, the agents' processes used so far.
func agentsCPU(t *testing.T, agents []*benchAgent) float64 {
	var ticks int64
	for _, a := range agents {
		ticks += cpuTicks(t, a.Pid())
	}
	return float64(ticks) / clockTicksPerSecond
}

// datagramsSent is the machine's Udp OutDatagrams from /proc/net/snmp.
func datagramsSent(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i := 0; i+1 < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "Udp: ") {
			continue
		}
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		for j, name := range names {
			if name == "OutDatagrams" && j < len(values) {
				v, err := strconv.ParseInt(values[j], 10, 64)
				if err != nil {
					t.Fatalf("/proc/net/snmp: %q: %v", values[j], err)
				}
				return v
			}
		}
	}
	t.Fatal("/proc/net/snmp has no Udp OutDatagrams")
	return 0
}

// stormSummary is the summary line: per binary the last agent's
// convergence in every storm, sorted, how many were within 15 s, and
// the medians of the storms' failure lines and datagrams, with the ratio
// ours/real of the median convergence where both converged.
func stormSummary(ours, real []stormResult) string {
	side := func(rs []stormResult) (conv []float64, within15 int, failures, datagrams float64) {
		var f, d []float64
		for _, r := range rs {
			if r.convLast >= 0 && r.convLast <= 15 {
				within15++
			}
			conv = append(conv, r.convLast)
			f = append(f, float64(r.failureLines))
			d = append(d, float64(r.datagrams))
		}
		return conv, within15, median(f), median(d)
	}
	list := func(conv []float64) string {
		never := 0
		var done []float64
		for _, c := range conv {
			if c < 0 {
				never++
				continue
			}
			done = append(done, c)
		}
		sort.Float64s(done)
		var parts []string
		for _, c := range done {
			parts = append(parts, stormSec(c))
		}
		for ; never > 0; never-- {
			parts = append(parts, "never")
		}
		return strings.Join(parts, ",")
	}
	oc, ow, of, od := side(ours)
	rc, rw, rf, rd := side(real)
	ratio := "-"
	if om, rm := stormMedian(oc), stormMedian(rc); om >= 0 && rm > 0 {
		ratio = strconv.FormatFloat(om/rm, 'f', 2, 64)
	}
	return fmt.Sprintf("converged_last=%s:%s median_ratio=%s within_15s=%d/%d:%d/%d failure_lines=%.0f:%.0f datagrams=%.0f:%.0f",
		list(oc), list(rc), ratio, ow, len(ours), rw, len(real), of, rf, od, rd)
}

// stormMedian is the median of the storms' convergence, counting a storm
// that never converged as slower than any that did; −1 if the median
// falls on one that never converged, or there were none.
func stormMedian(conv []float64) float64 {
	if len(conv) == 0 {
		return -1
	}
	sorted := slices.Clone(conv)
	slices.SortFunc(sorted, func(a, b float64) int {
		switch {
		case a < 0 && b < 0:
			return 0
		case a < 0:
			return 1
		case b < 0:
			return -1
		}
		return cmp.Compare(a, b)
	})
	lo, hi := sorted[(len(sorted)-1)/2], sorted[len(sorted)/2]
	if lo < 0 || hi < 0 {
		return -1
	}
	return (lo + hi) / 2
}

func TestStormLogReading(t *testing.T) {
	origin := time.Date(2026, 12, 7, 13, 0, 0, 0, time.Local)
	output := strings.Join([]string{
		"==> Starting Serf agent...",
		"    2026/12/07 13:00:01 [INFO] serf: EventMemberJoin: b000 127.0.0.1",
		"    2026/12/07 13:00:02 [INFO] serf: EventMemberJoin: b001 127.0.0.1",
		"    2026/12/07 13:00:03 [INFO] serf: EventMemberFailed: b001 127.0.0.1",
		"    2026/12/07 13:00:04 [INFO] serf: EventMemberJoin: b001 127.0.0.1",
		"    2026/12/07 13:00:07 [INFO] serf: EventMemberJoin: b002 127.0.0.1",
		"    2026/12/07 13:00:09 [INFO] serf: EventMemberJoin: b003 127.0.0.1",
		"",
	}, "\n")
	// The agent's own join and a member's second join do not count.
	if at, failures := convergedAt(output, "b000", 3, origin); at != 7 || failures != 1 {
		t.Errorf("with 3 members: converged at %v with %d failures, want 7 and 1", at, failures)
	}
	if at, _ := convergedAt(output, "b000", 4, origin); at != 9 {
		t.Errorf("with 4 members: converged at %v, want 9", at)
	}
	if at, _ := convergedAt(output, "b000", 5, origin); at != -1 {
		t.Errorf("with 5 members: converged at %v, want -1 (never)", at)
	}

	if p50, p90, last := quantiles([]float64{3, 1, 2, 4}, 4); p50 != 2 || p90 != 3 || last != 4 {
		t.Errorf("quantiles of 4 of 4: %v %v %v", p50, p90, last)
	}
	if p50, _, last := quantiles([]float64{1, 2}, 4); p50 != 2 || last != -1 {
		t.Errorf("quantiles of 2 of 4: median %v, last %v; want 2 and -1", p50, last)
	}

	for _, c := range []struct {
		conv []float64
		want float64
	}{
		{[]float64{20, 10, 30}, 20},
		{[]float64{20, 10, -1, 30}, 25},
		{[]float64{20, -1, -1}, -1},
		{[]float64{10, -1}, -1},
		{nil, -1},
	} {
		if got := stormMedian(c.conv); got != c.want {
			t.Errorf("stormMedian(%v) = %v, want %v", c.conv, got, c.want)
		}
	}
}
