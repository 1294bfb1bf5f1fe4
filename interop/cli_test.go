package interop

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// TestCLIAgainstAgent drives members/join/tags/info/monitor/force-leave/leave
// with one kind of CLI against the other kind of agent. real->real is the
// control that validates the test itself.
func TestCLIAgainstAgent(t *testing.T) {
	cases := []struct {
		name          string
		cli, agentBin func(t *testing.T) string
	}{
		{"real-cli/real-agent", func(*testing.T) string { return realBin }, func(*testing.T) string { return realBin }},
		{"real-cli/our-agent", func(*testing.T) string { return realBin }, func(t *testing.T) string { return ours(t) }},
		{"our-cli/real-agent", func(t *testing.T) string { return ours(t) }, func(*testing.T) string { return realBin }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testCLIAgainstAgent(t, tc.cli(t), tc.agentBin(t))
		})
	}
}

func testCLIAgainstAgent(t *testing.T, cli, agentBin string) {
	a := cluster.StartAgent(t, agentBin, cluster.Options{Name: "cli-a", Args: []string{"-tag", "role=web"}})
	b := cluster.StartAgent(t, agentBin, cluster.Options{Name: "cli-b"})
	run := func(cmd string, args ...string) cluster.Result {
		t.Helper()
		return cluster.CLI(t, cli, a.RPCAddr, cmd, args...)
	}
	expect := func(res cluster.Result, stdout string) {
		t.Helper()
		if res.Code != 0 || res.Stdout != stdout {
			t.Fatalf("got %s\nwant exit 0 and stdout %q", res, stdout)
		}
	}

	// join
	expect(run("join", b.BindAddr), "Successfully joined cluster by contacting 1 nodes.\n")
	a.WaitMembers(t, converge, map[string]string{"cli-a": "alive", "cli-b": "alive"})

	// members
	res := run("members")
	ms := cluster.ParseMembers(res.Stdout)
	if res.Code != 0 || len(ms) != 2 {
		t.Fatalf("members: %s", res)
	}
	for _, m := range ms {
		want := map[string]string{"cli-a": a.BindAddr, "cli-b": b.BindAddr}[m.Name]
		if m.Addr != want || m.Status != "alive" {
			t.Errorf("members row %+v, want addr %s alive", m, want)
		}
		if m.Name == "cli-a" && (len(m.Tags) != 1 || m.Tags["role"] != "web") {
			t.Errorf("cli-a tags %v, want role=web", m.Tags)
		}
	}

	// tags
	expect(run("tags", "-set", "dc=east", "-delete", "role"), "Successfully updated agent tags\n")
	cluster.Eventually(t, converge, func() error {
		for _, m := range cluster.ParseMembers(run("members", "-name", "cli-a").Stdout) {
			if len(m.Tags) == 1 && m.Tags["dc"] == "east" {
				return nil
			}
		}
		return errorf("cli-a tags not updated: %s", run("members").Stdout)
	})

	// info (text and json)
	res = run("info")
	for _, want := range []string{"agent:\n\tname = cli-a\n", "\tmembers = 2\n", "tags:\n\tdc = east", "runtime:\n", "event_handlers:\n"} {
		if res.Code != 0 || !strings.Contains(res.Stdout, want) {
			t.Errorf("info lacks %q: %s", want, res)
		}
	}
	res = run("info", "-format", "json")
	var info map[string]map[string]string
	if err := json.Unmarshal([]byte(res.Stdout), &info); err != nil || info["agent"]["name"] != "cli-a" || info["serf"]["members"] != "2" {
		t.Errorf("info -format json: %v\n%s", err, res)
	}

	// monitor: log backlog, then live events, Ctrl-C exits 0
	mon := cluster.StartProc(t, nil, cli, "monitor", "-rpc-addr", a.RPCAddr)
	mon.WaitOutput(t, "[INFO] agent: Serf agent starting", 20*time.Second)
	expect(run("event", "mon-ev", "hi"), "Event 'mon-ev' dispatched! Coalescing enabled: true\n")
	mon.WaitOutput(t, "Received event: user-event: mon-ev", 20*time.Second)
	mon.WaitOutput(t, "\tName: \"mon-ev\"\n", 20*time.Second)
	if err := mon.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := mon.Wait(t, 10*time.Second); code != 0 {
		t.Errorf("monitor exit code after SIGINT = %d\n%s", code, mon.Output())
	}

	// force-leave a crashed member
	b.Kill()
	a.WaitStatus(t, failDetect, "cli-b", "failed")
	expect(run("force-leave", "cli-b"), "")
	a.WaitStatus(t, converge, "cli-b", "left")

	// leave: the agent shuts down and exits 0
	expect(run("leave"), "Graceful leave complete\n")
	if code := a.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("agent exit code after serf leave = %d\n%s", code, a.Output())
	}
	if !strings.Contains(a.Output(), "[INFO] agent.ipc: Graceful leave triggered") {
		t.Errorf("agent output lacks the graceful leave log line:\n%s", a.Output())
	}
}
