package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// The soak (make soak DURATION=5m) runs a small cluster of our agents under
// constant churn and abuse for $SERF_E2E_SOAK, then checks that the agents
// that stayed up all along hold no more than they did at the start. It is
// not part of `make test`.
//
// Cluster: two stable agents (soak-s0, the seed, and soak-s1), which are
// measured, and three churned ones (soak-c0..2, each with a -snapshot),
// which are in turn killed with SIGKILL, stopped with SIGINT (graceful
// leave) or told to `serf leave`, and restarted on the same ports. Every
// round also sends a user event and a query (answered by a handler script
// on every agent), runs `members`, and attacks the stable agents' RPC
// ports: connections that never handshake (held for a round), random
// garbage, a header claiming a 1 GiB string and a header carrying a real
// 1 MiB one.
//
// Measured per stable agent, at the start (after a warm-up round) and at
// the end (churn stopped, held connections closed, cluster converged):
// goroutines (`serf info`, runtime.goroutines), open descriptors
// (/proc/PID/fd), OS threads and RSS (/proc/PID/status). Tolerances, which
// the end values must come back within before soakSettle passes:
//
//	goroutines  start + 10
//	descriptors start + 5
//	RSS         start + max(50 %, 16 MiB)
//
// Threads are reported but not checked: the Go runtime keeps OS threads it
// once needed, so their count is a high-water mark, not a leak signal.
const (
	soakGoroutineSlack = 10
	soakFDSlack        = 5
	soakRSSSlackKiB    = 16 << 10
	soakSettle         = 2 * time.Minute
	soakHeldConns      = 20 // never-handshaking connections per stable agent per round
)

type soakSample struct {
	Goroutines, FDs, Threads int
	RSSKiB                   int64
}

func (s soakSample) String() string {
	return fmt.Sprintf("goroutines %d, fds %d, threads %d, RSS %.1f MiB", s.Goroutines, s.FDs, s.Threads, float64(s.RSSKiB)/1024)
}

// sampleAgent reads a's goroutines over RPC and the rest from /proc.
func sampleAgent(t *testing.T, a *cluster.Agent) (soakSample, error) {
	var s soakSample
	res := a.CLI(t, "info", "-format", "json")
	if res.Code != 0 {
		return s, fmt.Errorf("info: %s", res)
	}
	var info map[string]map[string]string
	if err := json.Unmarshal([]byte(res.Stdout), &info); err != nil {
		return s, fmt.Errorf("info json: %v", err)
	}
	g, err := strconv.Atoi(info["runtime"]["goroutines"])
	if err != nil {
		return s, fmt.Errorf("info runtime.goroutines: %v", err)
	}
	s.Goroutines = g
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", a.Pid()))
	if err != nil {
		return s, err
	}
	s.FDs = len(fds)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.Pid()))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			s.Threads, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			s.RSSKiB, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return s, nil
}

// quietSample is the least of a few samples a second apart, so a CLI
// connection or handler script that is just ending does not count.
func quietSample(t *testing.T, a *cluster.Agent) soakSample {
	t.Helper()
	var best soakSample
	for i := 0; i < 3; i++ {
		if i > 0 {
			time.Sleep(time.Second) // spacing between samples, not an assertion
		}
		s, err := sampleAgent(t, a)
		if err != nil {
			t.Fatalf("sample %s: %v", a.Name, err)
		}
		if i == 0 || s.Goroutines < best.Goroutines {
			best.Goroutines = s.Goroutines
		}
		if i == 0 || s.FDs < best.FDs {
			best.FDs = s.FDs
		}
		if i == 0 || s.Threads < best.Threads {
			best.Threads = s.Threads
		}
		if i == 0 || s.RSSKiB < best.RSSKiB {
			best.RSSKiB = s.RSSKiB
		}
	}
	return best
}

// withinTolerance reports how end exceeds the tolerances over start, or nil.
func withinTolerance(start, end soakSample) error {
	var bad []string
	if end.Goroutines > start.Goroutines+soakGoroutineSlack {
		bad = append(bad, fmt.Sprintf("goroutines %d > %d+%d", end.Goroutines, start.Goroutines, soakGoroutineSlack))
	}
	if end.FDs > start.FDs+soakFDSlack {
		bad = append(bad, fmt.Sprintf("fds %d > %d+%d", end.FDs, start.FDs, soakFDSlack))
	}
	rssSlack := max(start.RSSKiB/2, soakRSSSlackKiB)
	if end.RSSKiB > start.RSSKiB+rssSlack {
		bad = append(bad, fmt.Sprintf("RSS %d KiB > %d+%d KiB", end.RSSKiB, start.RSSKiB, rssSlack))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return nil
}

// hostile attacks addr's RPC port: it returns soakHeldConns connections
// that have sent nothing (the caller closes them later) after sending
// garbage and oversized headers on others.
func hostile(addr string) []net.Conn {
	var held []net.Conn
	for i := 0; i < soakHeldConns; i++ {
		if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
			held = append(held, c)
		}
	}
	garbage := make([]byte, 4096)
	_, _ = rand.Read(garbage)
	huge := make([]byte, 0, 1<<20+64)
	// {"Command": <str32 of 1 MiB>}
	huge = append(huge, 0x81, 0xa7)
	huge = append(huge, "Command"...)
	huge = append(huge, 0xdb, 0x00, 0x10, 0x00, 0x00)
	huge = append(huge, make([]byte, 1<<20)...)
	payloads := [][]byte{
		garbage,
		// {"Command": <str32 claiming 1 GiB>} and nothing after it.
		{0x81, 0xa7, 'C', 'o', 'm', 'm', 'a', 'n', 'd', 0xdb, 0x40, 0x00, 0x00, 0x00},
		huge,
	}
	for _, p := range payloads {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			continue
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Write(p)
		_, _ = c.Read(make([]byte, 64)) // until the agent closes it (or the deadline)
		_ = c.Close()
	}
	return held
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

func TestSoak(t *testing.T) {
	spec := os.Getenv("SERF_E2E_SOAK")
	if spec == "" {
		t.Skip("soak test; set SERF_E2E_SOAK to a duration (make soak DURATION=5m)")
	}
	duration, err := time.ParseDuration(spec)
	if err != nil {
		t.Fatalf("SERF_E2E_SOAK=%q: %v", spec, err)
	}
	dir := t.TempDir()
	queryHandler := "query:soak=" + cluster.WriteScript(t, "pong.sh", "echo pong\n")

	seed := start(t, "soak-s0", "-event-handler", queryHandler)
	stable := []*cluster.Agent{seed, start(t, "soak-s1", "-event-handler", queryHandler, "-join", seed.BindAddr)}
	churnArgs := func(i int) []string {
		return []string{"-event-handler", queryHandler, "-join", seed.BindAddr,
			"-snapshot", filepath.Join(dir, fmt.Sprintf("c%d.snap", i))}
	}
	churned := make([]*cluster.Agent, 3)
	for i := range churned {
		churned[i] = start(t, fmt.Sprintf("soak-c%d", i), churnArgs(i)...)
	}
	all := func() []*cluster.Agent { return append(append([]*cluster.Agent{}, stable...), churned...) }
	cluster.WaitConverged(t, converge, all()...)

	var held []net.Conn
	defer func() { closeAll(held) }()
	rounds := 0
	round := func() {
		i := rounds % len(churned)
		c := churned[i]
		switch (rounds / len(churned)) % 3 {
		case 0:
			c.Kill()
		case 1:
			c.Interrupt()
			c.Wait(t, exitWait)
		case 2:
			if res := c.CLI(t, "leave"); res.Code != 0 {
				t.Logf("round %d: leave %s: %s", rounds, c.Name, res)
			}
			c.Wait(t, exitWait)
		}
		churned[i] = cluster.StartAgent(t, bin(t), cluster.Options{
			Name: c.Name, Args: churnArgs(i), BindAddr: c.BindAddr, RPCAddr: c.RPCAddr,
		})

		s := stable[rounds%len(stable)]
		if res := s.CLI(t, "event", fmt.Sprintf("soak-%d", rounds), "payload"); res.Code != 0 {
			t.Errorf("round %d: event: %s", rounds, res)
		}
		if res := s.CLI(t, "query", "-timeout", "2s", "soak"); res.Code != 0 {
			t.Errorf("round %d: query: %s", rounds, res)
		}
		closeAll(held)
		held = nil
		for _, s := range stable {
			held = append(held, hostile(s.RPCAddr)...)
			// A good client still gets answers while the bad ones are open.
			if res := s.CLI(t, "members"); res.Code != 0 {
				t.Errorf("round %d: members on %s: %s", rounds, s.Name, res)
			}
		}
		rounds++
	}

	// Warm-up: one round of everything, so what the agents create once
	// (buffers, pools, threads) is in the baseline.
	round()
	closeAll(held)
	held = nil
	cluster.WaitConverged(t, converge, all()...)
	startSamples := make([]soakSample, len(stable))
	for i, s := range stable {
		startSamples[i] = quietSample(t, s)
	}

	began := time.Now()
	for time.Since(began) < duration && !t.Failed() {
		round()
	}
	closeAll(held)
	held = nil
	cluster.WaitConverged(t, converge, all()...)

	endSamples := make([]soakSample, len(stable))
	deadline := time.Now().Add(soakSettle)
	for i, s := range stable {
		for {
			endSamples[i] = quietSample(t, s)
			err := withinTolerance(startSamples[i], endSamples[i])
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s grew over the soak: %v", s.Name, err)
				break
			}
		}
	}
	t.Logf("soak: %v, %d rounds (%d restarts, %d user events, %d queries, %d hostile connections per stable agent)",
		time.Since(began).Round(time.Second), rounds, rounds, rounds, rounds, rounds*(soakHeldConns+3))
	for i, s := range stable {
		t.Logf("%s start: %v", s.Name, startSamples[i])
		t.Logf("%s end:   %v", s.Name, endSamples[i])
	}
}
