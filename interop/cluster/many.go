package cluster

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartAgents starts one agent per Options, all processes at once, then
// waits for each to be ready (banner + RPC port). An agent that lost a port
// race is started again with StartAgent. It is the fast path for large
// clusters; the agents are independent until something joins them.
func StartAgents(t testing.TB, bin string, opts []Options) []*Agent {
	t.Helper()
	agents := make([]*Agent, len(opts))
	for i, o := range opts {
		o.NoWait = true
		a, err := tryStartAgent(t, bin, o)
		if err != nil {
			t.Fatalf("start agent %s: %v", o.Name, err)
		}
		agents[i] = a
	}
	for i, a := range agents {
		err := Poll(StartTimeout, func() error {
			if a.Exited() {
				return Permanent(fmt.Errorf("agent exited early: %v", a.err))
			}
			if !strings.Contains(a.Output(), "Serf agent running!") {
				return fmt.Errorf("no banner yet")
			}
			return nil
		})
		if err == nil {
			continue
		}
		if strings.Contains(a.Output(), "address already in use") {
			a.Kill()
			agents[i] = StartAgent(t, bin, opts[i])
			continue
		}
		t.Fatalf("agent %s did not start: %v\noutput:\n%s", a.Name, err, a.Output())
	}
	return agents
}

// WaitConverged polls until every agent lists every other one as alive.
func WaitConverged(t testing.TB, timeout time.Duration, agents ...*Agent) {
	t.Helper()
	want := map[string]string{}
	for _, a := range agents {
		want[a.Name] = "alive"
	}
	deadline := time.Now().Add(timeout)
	for _, a := range agents {
		a.WaitMembers(t, time.Until(deadline), want)
	}
}

// RSSKiB returns the resident set size of the agent process in KiB (Linux).
func (a *Agent) RSSKiB() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.Pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", a.Pid())
}
