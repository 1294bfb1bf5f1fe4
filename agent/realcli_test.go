package agent

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// realSerf returns the reference serf binary (see cluster.RealBinary).
func realSerf(t *testing.T) string {
	t.Helper()
	return cluster.RealBinary(t)
}

func runCLI(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SERF_RPC_ADDR=", "SERF_RPC_AUTH=")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestRealCLIAgainstOurAgent(t *testing.T) {
	bin := realSerf(t)
	a := startNode(t, "alpha", func(c *Config) { c.Tags = map[string]string{"role": "web"} })
	b := startNode(t, "beta", func(c *Config) {
		c.EventHandlers = []string{"query:uptime=echo resp-from-beta"}
	})
	rpc := "-rpc-addr=" + a.rpcAddr

	out, code := runCLI(t, bin, "join", rpc, b.bind)
	if code != 0 || out != "Successfully joined cluster by contacting 1 nodes.\n" {
		t.Fatalf("join: %d %q", code, out)
	}
	out, code = runCLI(t, bin, "join", rpc, "127.0.0.1:1")
	if code != 1 || !strings.HasPrefix(out, "Error joining the cluster: ") {
		t.Fatalf("failed join: %d %q", code, out)
	}

	waitFor(t, 10*time.Second, func() bool {
		out, _ := runCLI(t, bin, "members", rpc, "-status=alive")
		return strings.Count(out, "alive") == 2
	})
	out, _ = runCLI(t, bin, "members", rpc, "-name=alpha", "-detailed")
	want := "alpha  " + a.bind + "  alive  role=web  Protocol Version: 5  Available Protocol Range: [2, 5]\n"
	if out != want {
		t.Fatalf("members:\n%q\nwant\n%q", out, want)
	}
	out, code = runCLI(t, bin, "members", rpc, "-name=((")
	if code != 1 || out != "Error retrieving members: client closed\n" {
		t.Fatalf("bad regex: %d %q", code, out)
	}

	out, code = runCLI(t, bin, "tags", rpc, "-set", "dc=east", "-delete", "role")
	if code != 0 || out != "Successfully updated agent tags\n" {
		t.Fatalf("tags: %d %q", code, out)
	}
	out, _ = runCLI(t, bin, "info", rpc)
	for _, want := range []string{"agent:\n\tname = alpha\n", "tags:\n\tdc = east", "serf:\n", "runtime:\n", "event_handlers:\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}
	out, _ = runCLI(t, bin, "info", "-rpc-addr="+b.rpcAddr, "-format=json")
	if !strings.Contains(out, `"query:uptime": "echo resp-from-beta"`) {
		t.Errorf("info json event_handlers:\n%s", out)
	}

	// Monitor sees log lines and events while they happen.
	var monOut cluster.SyncBuffer
	mon := exec.Command(bin, "monitor", rpc, "-log-level=debug")
	mon.Stdout, mon.Stderr = &monOut, &monOut
	if err := mon.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		mon.Process.Kill()
		mon.Wait()
	}()
	// Once subscribed the monitor prints the agent's recent log lines.
	waitFor(t, 10*time.Second, func() bool { return monOut.String() != "" })

	out, code = runCLI(t, bin, "event", rpc, "-coalesce=false", "monev", "hello")
	if code != 0 || out != "Event 'monev' dispatched! Coalescing enabled: false\n" {
		t.Fatalf("event: %d %q", code, out)
	}
	out, code = runCLI(t, bin, "event", rpc, "big", strings.Repeat("x", 600))
	if code != 1 || !strings.HasPrefix(out, "Error sending event: ") {
		t.Fatalf("oversized event: %d %q", code, out)
	}

	out, code = runCLI(t, bin, "query", rpc, "-timeout=2s", "uptime")
	if code != 0 || !strings.HasPrefix(out, "Query 'uptime' dispatched\n") ||
		!strings.Contains(out, "Response from 'beta': resp-from-beta\n") ||
		!strings.Contains(out, "Total Acks: 2\n") || !strings.HasSuffix(out, "Total Responses: 1\n") {
		t.Fatalf("query: %d\n%s", code, out)
	}
	out, code = runCLI(t, bin, "query", rpc, "_serf_bad")
	if code != 1 || out != "Error sending query: Queries cannot contain the '_serf_' prefix\n" {
		t.Fatalf("internal query: %d %q", code, out)
	}

	mon.Process.Kill()
	mon.Wait()
	m := monOut.String()
	for _, want := range []string{
		`[DEBUG] agent: Requesting user event send: monev. Coalesced: false. Payload: "hello"`,
		"Event Info:", `Name: "monev"`, "[INFO] agent: Received event: user-event: monev",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("monitor output lacks %q:\n%s", want, m)
		}
	}
}
