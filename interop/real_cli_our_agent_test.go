package interop

import (
	"fmt"
	"strings"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

// TestRealCLIAgainstOurAgent drives our agent with the real CLI through the
// commands whose answers come from the agent: joins (good and refused),
// member filters (including a bad regexp, which makes the agent hang up),
// tags, info with its event handler list, monitor at debug level, events
// (including an oversized one) and a query answered by a handler script.
func TestRealCLIAgainstOurAgent(t *testing.T) {
	t.Parallel()
	our := ours(t)
	a := cluster.StartAgent(t, our, cluster.Options{Name: "alpha", Args: []string{"-tag", "role=web"}})
	b := cluster.StartAgent(t, our, cluster.Options{Name: "beta",
		Args: []string{"-event-handler", "query:uptime=echo resp-from-beta"}})
	real := func(rpcAddr string, args ...string) cluster.Result {
		t.Helper()
		return cluster.CLI(t, realBin, rpcAddr, args[0], args[1:]...)
	}
	expect := func(r cluster.Result, code int, check func(string) bool, what string) {
		t.Helper()
		if r.Code != code || !check(r.Combined()) {
			t.Fatalf("%s: %s", what, r)
		}
	}
	is := func(want string) func(string) bool { return func(s string) bool { return s == want } }
	prefix := func(p string) func(string) bool { return func(s string) bool { return strings.HasPrefix(s, p) } }

	expect(real(a.RPCAddr, "join", b.BindAddr), 0, is("Successfully joined cluster by contacting 1 nodes.\n"), "join")
	expect(real(a.RPCAddr, "join", "127.0.0.1:1"), 1, prefix("Error joining the cluster: "), "refused join")
	cluster.Eventually(t, converge, func() error {
		if n := strings.Count(real(a.RPCAddr, "members", "-status=alive").Stdout, "alive"); n != 2 {
			return fmt.Errorf("%d alive members", n)
		}
		return nil
	})
	expect(real(a.RPCAddr, "members", "-name=alpha", "-detailed"), 0,
		is("alpha  "+a.BindAddr+"  alive  role=web  Protocol Version: 5  Available Protocol Range: [2, 5]\n"), "members -detailed")
	expect(real(a.RPCAddr, "members", "-name=(("), 1, is("Error retrieving members: client closed\n"), "bad regexp")

	expect(real(a.RPCAddr, "tags", "-set", "dc=east", "-delete", "role"), 0, is("Successfully updated agent tags\n"), "tags")
	info := real(a.RPCAddr, "info").Stdout
	for _, want := range []string{"agent:\n\tname = alpha\n", "tags:\n\tdc = east", "serf:\n", "runtime:\n", "event_handlers:\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("info lacks %q:\n%s", want, info)
		}
	}
	if out := real(b.RPCAddr, "info", "-format=json").Stdout; !strings.Contains(out, `"query:uptime": "echo resp-from-beta"`) {
		t.Errorf("info -format=json lacks the event handler:\n%s", out)
	}

	// Once subscribed, a monitor prints the agent's recent log lines, then
	// log lines and events as they happen.
	mon := cluster.StartProc(t, nil, realBin, "monitor", "-rpc-addr="+a.RPCAddr, "-log-level=debug")
	until(t, "the monitor's backlog", converge, func() bool { return mon.Output() != "" })

	expect(real(a.RPCAddr, "event", "-coalesce=false", "monev", "hello"), 0,
		is("Event 'monev' dispatched! Coalescing enabled: false\n"), "event")
	expect(real(a.RPCAddr, "event", "big", strings.Repeat("x", 600)), 1, prefix("Error sending event: "), "oversized event")

	q := real(a.RPCAddr, "query", "-timeout=2s", "uptime")
	if out := q.Stdout; q.Code != 0 || !strings.HasPrefix(out, "Query 'uptime' dispatched\n") ||
		!strings.Contains(out, "Response from 'beta': resp-from-beta\n") ||
		!strings.Contains(out, "Total Acks: 2\n") || !strings.HasSuffix(out, "Total Responses: 1\n") {
		t.Fatalf("query: %s", q)
	}
	expect(real(a.RPCAddr, "query", "_serf_bad"), 1,
		is("Error sending query: Queries cannot contain the '_serf_' prefix\n"), "internal query name")

	for _, want := range []string{
		`[DEBUG] agent: Requesting user event send: monev. Coalesced: false. Payload: "hello"`,
		"Event Info:", `Name: "monev"`, "[INFO] agent: Received event: user-event: monev",
	} {
		mon.WaitOutput(t, want, converge)
	}
}
