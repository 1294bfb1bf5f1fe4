package interop

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/serf/client"
	"github.com/serf-clone/serf/testutil/cluster"
)

// TestBenchCluster is `make bench-cluster`: N agent processes of ours and
// of the real Serf v0.10.2, alternately (A/B, then B/A, ...), measured the
// same way. It runs only with SERF_BENCH_CLUSTER=1; the knobs are
//
//	BENCH_N="16 64 256"   cluster sizes
//	BENCH_RUNS=3          repetitions per size and binary
//	BENCH_HOLD=60s        quiet hold: idle costs and false failures
//	BENCH_SETTLE=20s      quiet time after convergence before the hold, so
//	                      bursts of anti-entropy are over (no hidden cost)
//	BENCH_CONVERGE_MAX=90s how long to wait for the join storm to converge
//	BENCH_EVENTS=3        user events sent, one at a time
//	BENCH_ONLY=           "ours" or "real" runs that binary alone (for
//	                      diagnosis; the ratios then read "-")
//	BENCH_ARGS=           extra agent flags for both binaries, e.g.
//	                      "-disable-compression"
//
// Every agent binds 127.0.0.1 on free ports. What is measured:
//   - convergence: every agent of N joins the first one at the same moment
//     (over RPC); the time until every agent counts all N members and
//     none failed or left, polled with the stats RPC (resolution: one
//     sweep of Stats calls; members would send all N members each time,
//     which at N=256 is load of its own);
//   - user events: latency from the send to the last agent's event stream,
//     and how many events reached every agent within 10 s;
//   - query: time until all N agents acked one query;
//   - idle, over the hold: RSS (VmRSS), CPU (utime+stime from
//     /proc/PID/stat) and gossip bytes sent per agent per second, from the
//     agents' own memberlist counters (memberlist.udp.sent and
//     memberlist.tcp.sent) in the in-memory metrics each agent dumps on
//     SIGUSR1 at the end of the hold (both Serf's agent and ours keep 10 s
//     intervals for a minute), over the whole intervals within the hold.
//     No RPC call is made during the hold, and no metrics sink is
//     configured: a statsd sink, used before, cost every agent a few
//     percent of its CPU in the join storm, which at N=256 was enough to
//     make the seed turn away joins;
//   - false failures during the hold: member-failed events on the
//     agents' streams, and suspicions (memberlist.msg.suspect in the same
//     dump);
//   - failure detection: one agent is SIGKILLed; time until every other
//     agent's stream showed member-failed. Leave visibility: one agent
//     leaves over RPC; time until every other agent showed member-leave.
func TestBenchCluster(t *testing.T) {
	if os.Getenv("SERF_BENCH_CLUSTER") == "" {
		t.Skip("the cluster benchmark runs with SERF_BENCH_CLUSTER=1 (make bench-cluster)")
	}
	if ourBuildErr != nil {
		t.Fatal(ourBuildErr)
	}
	cfg := benchConfig{
		runs:       envInt(t, "BENCH_RUNS", 3),
		hold:       envDuration(t, "BENCH_HOLD", 60*time.Second),
		settle:     envDuration(t, "BENCH_SETTLE", 20*time.Second),
		convergMax: envDuration(t, "BENCH_CONVERGE_MAX", 90*time.Second),
		events:     envInt(t, "BENCH_EVENTS", 3),
		agentArgs:  strings.Fields(envString("BENCH_ARGS", "")),
	}
	var sizes []int
	for _, f := range strings.Fields(envString("BENCH_N", "16 64 256")) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 4 {
			t.Fatalf("BENCH_N: %q is not a size of at least 4", f)
		}
		sizes = append(sizes, n)
	}
	bins := benchBinaries(t, "BENCH_ONLY")
	host, _ := os.Hostname()
	out := os.Stdout
	defer quietClientLog()()
	fmt.Fprintf(out, "bench-cluster %s on %s (%d CPUs, %s/%s): N=%v runs=%d hold=%v settle=%v args=%q\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		sizes, cfg.runs, cfg.hold, cfg.settle, strings.Join(cfg.agentArgs, " "))

	var summary []string
	for _, n := range sizes {
		results := map[string][]benchResult{}
		for r := 0; r < cfg.runs; r++ {
			for _, b := range abOrder(bins, r) {
				t.Run(fmt.Sprintf("N=%d/run=%d/%s", n, r+1, b.name), func(t *testing.T) {
					res := benchOnce(t, b.path, n, cfg)
					results[b.name] = append(results[b.name], res)
					fmt.Fprintf(out, "  N=%d run %d %-4s %s\n", n, r+1, b.name, res)
				})
			}
		}
		summary = append(summary, printBenchTable(out, n, cfg, results["ours"], results["real"]))
	}
	fmt.Fprintf(out, "SUMMARY ours/real %s\n", strings.Join(summary, " | "))
}

type benchBinary struct{ name, path string }

// benchBinaries is ours and the real Serf, or only the one the
// environment variable key names ("ours" or "real").
func benchBinaries(t *testing.T, key string) []benchBinary {
	bins := []benchBinary{{"ours", ourBin}, {"real", realBin}}
	if only := envString(key, ""); only != "" {
		bins = slices.DeleteFunc(bins, func(b benchBinary) bool { return b.name != only })
		if len(bins) == 0 {
			t.Fatalf("%s: %q is neither ours nor real", key, only)
		}
	}
	return bins
}

// abOrder is the order of the binaries in repetition r: as given, then
// reversed, and so on, so that neither always goes first.
func abOrder(bins []benchBinary, r int) []benchBinary {
	order := slices.Clone(bins)
	if r%2 == 1 {
		slices.Reverse(order)
	}
	return order
}

// quietClientLog drops, until the returned function restores the
// standard logger, the line the upstream client logs for every
// connection that ends under it: each run ends by killing its agents,
// hundreds of lines per run.
func quietClientLog() (restore func()) {
	log.SetOutput(dropLines{"Failed to decode response header: EOF", os.Stderr})
	return func() { log.SetOutput(os.Stderr) }
}

// dropLines writes to w what the standard logger writes, but for lines
// that contain drop.
type dropLines struct {
	drop string
	w    io.Writer
}

func (d dropLines) Write(p []byte) (int, error) {
	if strings.Contains(string(p), d.drop) {
		return len(p), nil
	}
	return d.w.Write(p)
}

type benchConfig struct {
	runs, events             int
	hold, settle, convergMax time.Duration
	agentArgs                []string // BENCH_ARGS, for every agent of both binaries
}

// benchResult is one run of one binary. A negative duration means "did
// not happen within the bench's deadline".
type benchResult struct {
	converge      time.Duration
	joinsFailed   *atomic.Int64 // joins of the storm that returned an error
	eventMax      time.Duration
	eventsAll     int // events that reached every agent
	events        int
	queryAcks     time.Duration
	rssKiB        float64 // mean per agent at the end of the hold
	pssKiB        float64 // the same as a proportional set size: shared pages split among their users
	cpuMsPerSec   float64 // mean per agent over the hold
	bytesPerSec   float64 // gossip bytes sent, mean per agent over the hold
	failDetect    time.Duration
	leaveSeen     time.Duration
	falseFailures int // member-failed events the agents' streams delivered during the hold
	suspects      int // suspicions memberlist recorded during the hold (memberlist.msg.suspect)
}

func (r benchResult) String() string {
	return fmt.Sprintf("converge=%s joins_failed=%d event_max=%s events_all=%d/%d query_acks=%s rss=%.1fMiB pss=%.1fMiB cpu=%.2fms/s bytes=%.0fB/s fail=%s leave=%s false_failures=%d suspects=%d",
		fmtDur(r.converge), r.joinsFailed.Load(), fmtDur(r.eventMax), r.eventsAll, r.events, fmtDur(r.queryAcks), r.rssKiB/1024, r.pssKiB/1024,
		r.cpuMsPerSec, r.bytesPerSec, fmtDur(r.failDetect), fmtDur(r.leaveSeen), r.falseFailures, r.suspects)
}

func fmtDur(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// streamEvent is one event an agent's stream delivered, when it arrived.
type streamEvent struct {
	kind, name string
	at         time.Time
}

// benchAgent is one agent process with its RPC client and event stream.
type benchAgent struct {
	*cluster.Agent
	rpc   *client.RPCClient
	calls sync.WaitGroup // RPC calls in flight (call)

	mu     sync.Mutex
	events []streamEvent
}

// count is how many events of kind the stream delivered within [from, to).
func (a *benchAgent) count(kind string, from, to time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := 0
	for _, e := range a.events {
		if e.kind == kind && !e.at.Before(from) && e.at.Before(to) {
			k++
		}
	}
	return k
}

func (a *benchAgent) seen(kind, name string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.events {
		if e.kind == kind && e.name == name {
			return e.at, true
		}
	}
	return time.Time{}, false
}

func benchOnce(t *testing.T, bin string, n int, cfg benchConfig) benchResult {
	agents := startBenchAgents(t, bin, n, cfg.agentArgs)
	prioritizeBench(t)
	// The first cleanup to run (the last registered) kills every agent at
	// once. One at a time, each waited for, the others kept the machine
	// overloaded: 16 of 256 were gone after eight minutes.
	t.Cleanup(func() {
		for _, a := range agents {
			_ = a.Signal(syscall.SIGKILL)
		}
	})
	res := benchResult{events: cfg.events, joinsFailed: new(atomic.Int64)}

	// Join storm: everybody joins agent 0 at the same moment.
	start := time.Now()
	var wg sync.WaitGroup
	for _, a := range agents[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := within(a, 2*time.Minute, func(c *client.RPCClient) (int, error) {
				return c.Join([]string{agents[0].BindAddr}, false)
			})
			if err != nil {
				// Counted, not fatal: a seed turning joiners away is a
				// result (the run then does not converge).
				if res.joinsFailed.Add(1) <= 3 {
					t.Logf("join %s: %v", a.Name, err)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d agents started, joins returned after %s (%d failed)", n, fmtDur(time.Since(start)), res.joinsFailed.Load())
	res.converge = waitConverged(agents, start, cfg.convergMax)
	t.Logf("convergence: %s", fmtDur(res.converge))

	// Quiet: let any bursts end, then hold and measure what idling costs.
	time.Sleep(cfg.settle)
	holdIdle(t, agents, cfg.hold, &res)

	// User events, one at a time, from different agents.
	res.eventMax = 0
	for e := 0; e < cfg.events; e++ {
		name := fmt.Sprintf("bench-%d", e)
		from := agents[(e*7+1)%n]
		sent := time.Now()
		const eventWait = 10 * time.Second
		err := from.call(30*time.Second, func(c *client.RPCClient) error { return c.UserEvent(name, []byte("x"), false) })
		if err != nil {
			// An overloaded agent not taking the event is a result too.
			t.Logf("user event from %s: %v", from.Name, err)
			res.eventMax = eventWait
			continue
		}
		lat, all := waitAll(agents, "user", name, sent, eventWait)
		if all {
			res.eventsAll++
		}
		if lat > res.eventMax {
			res.eventMax = lat
		}
		time.Sleep(500 * time.Millisecond)
	}

	t.Logf("user events: max latency %s, %d/%d reached all", fmtDur(res.eventMax), res.eventsAll, res.events)
	res.queryAcks = queryAllAcks(t, agents[0], n)
	t.Logf("query: all acks after %s", fmtDur(res.queryAcks))

	// Failure detection, then leave visibility, among the others.
	victim, leaver := agents[n-1], agents[n-2]
	killed := time.Now()
	victim.Kill()
	res.failDetect, _ = waitAll(agents[:n-1], "member-failed", victim.Name, killed, 60*time.Second)
	t.Logf("failure detection: %s", fmtDur(res.failDetect))
	left := time.Now()
	if err := leaver.call(time.Minute, func(c *client.RPCClient) error { return c.Leave() }); err != nil {
		t.Logf("leave %s: %v", leaver.Name, err)
	}
	res.leaveSeen, _ = waitAll(agents[:n-2], "member-leave", leaver.Name, left, 30*time.Second)
	return res
}

// prioritizeBench gives every thread of the bench process the nice value
// -20 until the run ends, after its agents started (a child inherits the
// nice value of the thread that forks it). The bench decodes every
// agent's event stream and times what arrives; when hundreds of agents
// overload the machine, at equal priority it got one three-hundredth of
// it and fell minutes behind. Only root may do this; otherwise the run
// goes on at normal priority and says so.
func prioritizeBench(t *testing.T) {
	setNice := func(nice int) error {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		for _, task := range tasks {
			tid, err := strconv.Atoi(task.Name())
			if err != nil {
				continue
			}
			// On Linux PRIO_PROCESS with a thread id sets that thread.
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil && !errors.Is(err, syscall.ESRCH) {
				return err
			}
		}
		return nil
	}
	if err := setNice(-20); err != nil {
		t.Logf("the bench runs at normal priority: %v", err)
		return
	}
	// Restored among the run's cleanups, before the next run starts its
	// agents, which must not inherit -20.
	t.Cleanup(func() {
		if err := setNice(0); err != nil {
			t.Errorf("restoring the bench's priority: %v", err)
		}
	})
}

// startBenchAgents starts n agents of bin with extraArgs, each with an RPC
// client and an event stream.
func startBenchAgents(t *testing.T, bin string, n int, extraArgs []string) []*benchAgent {
	agents := make([]*benchAgent, n)
	opts := make([]cluster.Options, n)
	for i := range agents {
		agents[i] = &benchAgent{}
		opts[i] = cluster.Options{Name: fmt.Sprintf("b%03d", i), Args: extraArgs}
	}
	procs := cluster.StartAgents(t, bin, opts)
	for i, p := range procs {
		a := agents[i]
		a.Agent = p
		c, err := client.NewRPCClient(p.RPCAddr)
		if err != nil {
			t.Fatalf("rpc %s: %v", p.Name, err)
		}
		a.rpc = c
		ch := make(chan map[string]interface{}, 256)
		done := make(chan struct{})
		if _, err := c.Stream("user,member-failed,member-leave", ch); err != nil {
			_ = c.Close()
			t.Fatalf("stream %s: %v", p.Name, err)
		}
		go func() { defer close(done); a.record(ch) }()
		// The agent goes first: closing the upstream client while its
		// reader still hands over stream events can panic it (a send on
		// the channel Close has just closed). Killed, the agent ends the
		// connection, and the client's reader closes ch itself, which
		// ends the recorder; Close then ends the calls given up on.
		t.Cleanup(func() { a.Kill(); <-done; _ = c.Close(); a.calls.Wait() })
	}
	return agents
}

// record keeps what the stream delivers, with the arrival time.
func (a *benchAgent) record(ch <-chan map[string]interface{}) {
	for ev := range ch {
		at := time.Now()
		kind := str(ev["Event"])
		var names []string
		if kind == "user" {
			names = append(names, str(ev["Name"]))
		} else if ms, ok := ev["Members"].([]interface{}); ok {
			for _, m := range ms {
				switch mm := m.(type) {
				case map[string]interface{}:
					names = append(names, str(mm["Name"]))
				case map[interface{}]interface{}:
					names = append(names, str(mm["Name"]))
				}
			}
		}
		a.mu.Lock()
		for _, name := range names {
			a.events = append(a.events, streamEvent{kind, name, at})
		}
		a.mu.Unlock()
	}
}

// str is a msgpack string, decoded as a string or as raw bytes.
func str(v interface{}) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

// waitConverged polls every agent's member list until it holds all agents
// alive, and returns when the last one got there (or -1 after max).
func waitConverged(agents []*benchAgent, start time.Time, max time.Duration) time.Duration {
	n := len(agents)
	pending := slices.Clone(agents)
	var last time.Duration
	for len(pending) > 0 {
		if time.Since(start) > max {
			return -1
		}
		var still []*benchAgent
		for _, a := range pending {
			// A pass over hundreds of overloaded agents can take longer
			// than max by itself.
			if time.Since(start) > max {
				return -1
			}
			alive, err := within(a, 5*time.Second, aliveCount)
			if err != nil || alive != n {
				still = append(still, a)
				continue
			}
			last = time.Since(start)
		}
		pending = still
		if len(pending) > 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	return last
}

// aliveCount is how many members an agent holds that are neither failed
// nor left, from Serf's own counts in the stats RPC (a leaving member
// counts as alive, which no member is during a join storm).
func aliveCount(c *client.RPCClient) (int, error) {
	stats, err := c.Stats()
	if err != nil {
		return 0, err
	}
	count := func(key string) (int, error) {
		v, err := strconv.Atoi(stats["serf"][key])
		if err != nil {
			return 0, fmt.Errorf("stats serf.%s: %w", key, err)
		}
		return v, nil
	}
	members, err1 := count("members")
	failed, err2 := count("failed")
	left, err3 := count("left")
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, err
	}
	return members - failed - left, nil
}

// waitAll waits until every agent's stream showed event kind about name,
// and returns the latency of the last one and whether all got it; with
// some missing at the deadline it returns the latency of the last that
// did and false (for a user event), or -1 (for member events).
func waitAll(agents []*benchAgent, kind, name string, since time.Time, timeout time.Duration) (time.Duration, bool) {
	deadline := since.Add(timeout)
	for {
		var last time.Duration
		missing := 0
		for _, a := range agents {
			at, ok := a.seen(kind, name)
			if !ok {
				missing++
				continue
			}
			if d := at.Sub(since); d > last {
				last = d
			}
		}
		if missing == 0 {
			return last, true
		}
		if time.Now().After(deadline) {
			if kind == "user" {
				return last, false
			}
			return -1, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holdIdle measures the agents over a quiet hold of d, without RPC calls,
// into res: mean RSS and PSS (KiB; PSS of a sample) at the end, mean CPU
// (ms per s), mean gossip bytes sent per second, and the failures the
// streams delivered and the suspicions memberlist counted meanwhile. Of
// the agents' output only the metrics dump at the end is read: a
// collapsing cluster of hundreds writes gigabytes of logs, and the bench,
// starved of CPU like everything else, took longer than 20 minutes to
// search them.
func holdIdle(t *testing.T, agents []*benchAgent, d time.Duration, res *benchResult) {
	ticks0 := make([]int64, len(agents))
	for i, a := range agents {
		ticks0[i] = cpuTicks(t, a.Pid())
	}
	start := time.Now()
	time.Sleep(d)
	end := time.Now()
	secs := end.Sub(start).Seconds()
	counted := dumpHoldCounters(t, agents, start, end)
	var ticks int64
	var sentPerSec float64
	var rssSum, pssSum int64
	// PSS comes from a sample of at most pssSample agents, evenly spread:
	// the kernel walks an agent's page tables under its memory-map lock
	// to count it, and a pass over 256 agents overloading the machine
	// had not ended after five minutes.
	const pssSample = 16
	pssEvery, pssCount := max(1, len(agents)/pssSample), 0
	for i, a := range agents {
		ticks += cpuTicks(t, a.Pid()) - ticks0[i]
		sentPerSec += counted[i].sentBytes / counted[i].covered.Seconds()
		kib, err := a.RSSKiB()
		if err != nil {
			t.Fatal(err)
		}
		rssSum += kib
		if i%pssEvery == 0 {
			pssSum += pssKiB(t, a.Pid())
			pssCount++
		}
		res.falseFailures += a.count("member-failed", start, end)
		res.suspects += int(counted[i].suspicions)
	}
	n := float64(len(agents))
	res.rssKiB, res.pssKiB = float64(rssSum)/n, float64(pssSum)/float64(pssCount)
	res.cpuMsPerSec = float64(ticks) * 1000 / clockTicksPerSecond / secs / n
	res.bytesPerSec = sentPerSec / n
}

// pssKiB is pid's proportional set size, from /proc/PID/smaps_rollup:
// its private pages plus its share of pages it maps with others (the
// binary's text and read-only data, which N agents of one binary share).
func pssKiB(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("smaps_rollup of %d: %q: %v", pid, line, err)
			}
			return kib
		}
	}
	t.Fatalf("smaps_rollup of %d has no Pss line", pid)
	return 0
}

// clockTicksPerSecond is USER_HZ, the unit of /proc/PID/stat's times on
// every Linux architecture Go supports.
const clockTicksPerSecond = 100

// cpuTicks is utime+stime of pid in clock ticks, from /proc/PID/stat.
func cpuTicks(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The command name may hold spaces; the fields after it may not.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// queryAllAcks sends one query from a and returns when all n acks came
// (or -1 when the query ended first).
func queryAllAcks(t *testing.T, a *benchAgent, n int) time.Duration {
	acks := make(chan string, n)
	resps := make(chan client.NodeResponse, n)
	start := time.Now()
	const timeout = 15 * time.Second
	err := a.call(time.Minute, func(c *client.RPCClient) error {
		return c.Query(&client.QueryParam{Name: "bench-q", RequestAck: true, Timeout: timeout, AckCh: acks, RespCh: resps})
	})
	if err != nil {
		t.Logf("query from %s: %v", a.Name, err)
		return -1
	}
	// The agent ends the query (closing acks) when it times out; one the
	// bench has overloaded may never say so.
	deadline := time.After(timeout + 10*time.Second)
	got := map[string]bool{}
	for {
		select {
		case from, ok := <-acks:
			if !ok {
				return -1
			}
			got[from] = true
			if len(got) == n {
				return time.Since(start)
			}
		case <-deadline:
			return -1
		}
	}
}

// within runs an RPC on a's client and gives up on it after d: the client
// waits for a reply without a deadline, as Serf's does, and an agent the
// bench has overloaded may never send one. A call given up on ends when
// the test closes the client, which waits for it.
func within[T any](a *benchAgent, d time.Duration, rpc func(*client.RPCClient) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	a.calls.Add(1)
	go func() {
		defer a.calls.Done()
		v, err := rpc(a.rpc)
		done <- result{v, err}
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		var zero T
		return zero, fmt.Errorf("%s: no reply within %v", a.Name, d)
	}
}

// call is within for an RPC that returns only an error.
func (a *benchAgent) call(d time.Duration, rpc func(*client.RPCClient) error) error {
	_, err := within(a, d, func(c *client.RPCClient) (struct{}, error) { return struct{}{}, rpc(c) })
	return err
}

func envString(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envInt(t *testing.T, key string, def int) int {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", key, v)
	}
	return n
}

func envDuration(t *testing.T, key string, def time.Duration) time.Duration {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		t.Fatalf("%s=%q: want a duration such as 60s", key, v)
	}
	return d
}

// printBenchTable prints one size's results side by side and returns its
// part of the summary line.
func printBenchTable(out *os.File, n int, cfg benchConfig, ours, real []benchResult) string {
	type row struct {
		name       string
		get        func(benchResult) float64
		unit       string
		aggregate  func([]float64) float64
		ratioShort string
	}
	dur := func(f func(benchResult) time.Duration, missing time.Duration) func(benchResult) float64 {
		return func(r benchResult) float64 {
			d := f(r)
			if d < 0 {
				d = missing
			}
			return d.Seconds()
		}
	}
	rows := []row{
		{"convergence (median; never = max)", dur(func(r benchResult) time.Duration { return r.converge }, cfg.convergMax), "s", median, "conv"},
		{"user event max latency (median)", dur(func(r benchResult) time.Duration { return r.eventMax }, 10*time.Second), "s", median, "event"},
		{"query all-acks (median; none = 15s)", dur(func(r benchResult) time.Duration { return r.queryAcks }, 15*time.Second), "s", median, "query"},
		{"idle RSS per agent (mean)", func(r benchResult) float64 { return r.rssKiB / 1024 }, "MiB", mean, "rss"},
		{"idle PSS per agent (mean)", func(r benchResult) float64 { return r.pssKiB / 1024 }, "MiB", mean, "pss"},
		{"idle CPU per agent (mean)", func(r benchResult) float64 { return r.cpuMsPerSec }, "ms/s", mean, "cpu"},
		{"idle gossip bytes per agent (mean)", func(r benchResult) float64 { return r.bytesPerSec }, "B/s", mean, "bytes"},
		{"failure detection (median; never = 60s)", dur(func(r benchResult) time.Duration { return r.failDetect }, 60*time.Second), "s", median, "fail"},
		{"leave visibility (median; never = 30s)", dur(func(r benchResult) time.Duration { return r.leaveSeen }, 30*time.Second), "s", median, "leave"},
	}
	fmt.Fprintf(out, "N=%d (%d runs each)\n", n, cfg.runs)
	fmt.Fprintf(out, "  %-48s %12s %12s %7s\n", "metric", "ours", "real", "ratio")
	var parts []string
	for _, r := range rows {
		o, g := r.aggregate(collect(ours, r.get)), r.aggregate(collect(real, r.get))
		ratio := "-"
		if g > 0 {
			ratio = fmt.Sprintf("%.2f", o/g)
		}
		fmt.Fprintf(out, "  %-48s %12.3f %12.3f %7s\n", r.name+", "+r.unit, o, g, ratio)
		parts = append(parts, r.ratioShort+"="+ratio)
	}
	within := func(rs []benchResult, d time.Duration) int {
		k := 0
		for _, r := range rs {
			if r.converge >= 0 && r.converge <= d {
				k++
			}
		}
		return k
	}
	counts := func(rs []benchResult, f func(benchResult) int) int {
		k := 0
		for _, r := range rs {
			k += f(r)
		}
		return k
	}
	conv := func(rs []benchResult) string {
		return fmt.Sprintf("%d/%d/%d", within(rs, 5*time.Second), within(rs, 15*time.Second), within(rs, 60*time.Second))
	}
	fmt.Fprintf(out, "  %-48s %12s %12s\n", "runs converged within 5s / 15s / 60s", conv(ours), conv(real))
	joinsFailed := func(rs []benchResult) string {
		return strconv.Itoa(counts(rs, func(r benchResult) int { return int(r.joinsFailed.Load()) }))
	}
	fmt.Fprintf(out, "  %-48s %12s %12s\n", "joins of the storm that failed", joinsFailed(ours), joinsFailed(real))
	evAll := func(rs []benchResult) string {
		return fmt.Sprintf("%d/%d", counts(rs, func(r benchResult) int { return r.eventsAll }), counts(rs, func(r benchResult) int { return r.events }))
	}
	fmt.Fprintf(out, "  %-48s %12s %12s\n", "user events that reached all", evAll(ours), evAll(real))
	ff := func(rs []benchResult) string {
		return fmt.Sprintf("%d/%d", counts(rs, func(r benchResult) int { return r.falseFailures }), counts(rs, func(r benchResult) int { return r.suspects }))
	}
	fmt.Fprintf(out, "  %-48s %12s %12s\n", fmt.Sprintf("failures/suspicions seen in %v hold", cfg.hold), ff(ours), ff(real))
	parts = append(parts,
		fmt.Sprintf("conv5s=%d:%d", within(ours, 5*time.Second), within(real, 5*time.Second)),
		fmt.Sprintf("conv15s=%d:%d", within(ours, 15*time.Second), within(real, 15*time.Second)),
		"joins_failed="+joinsFailed(ours)+":"+joinsFailed(real),
		"events_all="+evAll(ours)+":"+evAll(real),
		"false="+ff(ours)+":"+ff(real))
	return fmt.Sprintf("N=%d %s", n, strings.Join(parts, " "))
}

func collect(rs []benchResult, get func(benchResult) float64) []float64 {
	out := make([]float64, 0, len(rs))
	for _, r := range rs {
		out = append(out, get(r))
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
