package interop

import (
	"reflect"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/serf/client"

	"github.com/serf-clone/serf/testutil/cluster"
)

// The tests in this file run the same command lines through the real CLI and
// through ours against real agents and require the same stdout and exit code,
// covering every subcommand's flags, filters and refusals.

func TestCLIMembersJoinTagsEventIdentical(t *testing.T) {
	t.Parallel()
	alpha := startRealAgent(t, "alpha", realAgentOpts{tags: []string{"role=web"}})
	beta := startRealAgent(t, "beta-node", realAgentOpts{tags: []string{"role=db"}})
	gamma := startRealAgent(t, "gamma", realAgentOpts{})
	rpc := "-rpc-addr=" + alpha.RPCAddr

	// Ours joins first, so the real CLI then joins a node already known.
	if r := cluster.Run(t, nil, ours(t), "join", rpc, beta.BindAddr); r.Code != 0 ||
		r.Stdout != "Successfully joined cluster by contacting 1 nodes.\n" {
		t.Fatalf("join: %s", r)
	}
	sameOutput(t, nil, "join", rpc, beta.BindAddr, gamma.BindAddr)
	sameOutput(t, nil, "join", rpc, "-replay", gamma.BindAddr)
	sameOutput(t, nil, "join", rpc, "127.0.0.1:1")
	sameOutput(t, nil, "join", rpc)

	waitAlive(t, alpha.RPCAddr, 3)
	for _, args := range [][]string{
		{"members", rpc},
		{"members", rpc, "-detailed"},
		{"members", rpc, "-format", "json"},
		{"members", rpc, "-format=json", "-detailed"},
		{"members", rpc, "-status", "alive", "-name", "beta.*"},
		{"members", rpc, "-name", "beta"}, // anchored: matches nothing
		{"members", rpc, "-name", "beta", "-format", "json"},
		{"members", rpc, "-tag", "role=web|db"},
		{"members", rpc, "-tag", "role=w"},
		{"members", rpc, "-role", "db"},
		{"members", rpc, "-tag", "role"},
		{"members", rpc, "-format", "xml"},
		{"members", rpc, "-name", "(("},
		{"members", "-rpc-addr=127.0.0.1:1"},
		{"members", rpc, "-rpc-auth", "secret"},
	} {
		sameOutput(t, linesSorted, args...)
	}

	// Tags set by ours are seen by the real CLI, and the other way round.
	sameOutput(t, nil, "tags", rpc, "-set", "bad")
	sameOutput(t, nil, "tags", rpc)
	if r := cluster.Run(t, nil, ours(t), "tags", rpc, "-set", "dc=east", "-set", "x=1"); r.Code != 0 ||
		r.Stdout != "Successfully updated agent tags\n" {
		t.Fatalf("tags: %s", r)
	}
	sameOutput(t, nil, "tags", rpc, "-delete", "x", "-delete", "nope")
	real := cluster.Run(t, nil, realBin, "members", rpc, "-name", "alpha")
	if !regexp.MustCompile(`^alpha  127\.0\.0\.1:\d+  alive  (role=web,dc=east|dc=east,role=web)\n$`).MatchString(real.Stdout) {
		t.Fatalf("tags not applied: %q", real.Stdout)
	}
	sameOutput(t, tagsSorted, "members", rpc, "-detailed")

	sameOutput(t, nil, "event", rpc, "deploy", "v1")
	sameOutput(t, nil, "event", rpc, "-coalesce=false", "deploy")
	sameOutput(t, nil, "event", rpc)
	sameOutput(t, nil, "event", rpc, "a", "b", "c")
	sameOutput(t, nil, "event", rpc, "big", strings.Repeat("x", 600))
}

// tagsSorted sorts the comma-separated tags within each line, then the lines.
func tagsSorted(s string) string {
	tagList := regexp.MustCompile(`\S+=\S*(,\S+=\S*)+`)
	return linesSorted(tagList.ReplaceAllStringFunc(s, func(tags string) string {
		parts := strings.Split(tags, ",")
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}))
}

func TestCLIInfoQueryRTTKeysIdentical(t *testing.T) {
	t.Parallel()
	alpha := startRealAgent(t, "alpha", realAgentOpts{tags: []string{"role=web"}})
	beta := startRealAgent(t, "beta", realAgentOpts{})
	rpc := "-rpc-addr=" + alpha.RPCAddr
	if r := cluster.Run(t, nil, ours(t), "join", rpc, beta.BindAddr); r.Code != 0 {
		t.Fatalf("join: %s", r)
	}
	waitAlive(t, alpha.RPCAddr, 2)

	// Goroutine counts and clocks move between the two runs; the keys and
	// the layout must not.
	moving := regexp.MustCompile(`(?m)(goroutines|_time|"goroutines"|"[a-z]+_time")( = |: )"?\d+"?`)
	steady := func(s string) string { return moving.ReplaceAllString(s, "$1$2N") }
	sameOutput(t, steady, "info", rpc)
	sameOutput(t, steady, "info", rpc, "-format", "json")
	sameOutput(t, nil, "info", rpc, "-format", "xml")

	sameOutput(t, nil, "query", rpc, "-tag", "bad", "q")
	sameOutput(t, nil, "query", rpc)
	sameOutput(t, nil, "query", rpc, "-relay-factor", "300", "q")
	sameOutput(t, nil, "query", rpc, "-format", "xml", "q")
	sameOutput(t, nil, "query", rpc, "_serf_nope")
	sameOutput(t, withoutPhantoms, "query", rpc, "-no-ack", "-format", "json", "-node", "nobody", "zz")
	sameOutput(t, withoutPhantoms, "query", rpc, "-timeout", "500ms", "-node", "alpha", "-format", "json", "q")
	// beta's ack crosses the network: give it time on a loaded machine.
	sameOutput(t, withoutPhantoms, "query", rpc, "-timeout", "2s", "-node", "beta", "q", "payload")
	sameOutput(t, withoutPhantoms, "query", rpc, "-timeout", "500ms", "-no-ack", "-tag", "role=web", "q")
	sameOutput(t, func(s string) string { return linesSorted(withoutPhantoms(s)) },
		"query", rpc, "-timeout", "700ms", "-relay-factor", "1", "q")

	sameOutput(t, nil, "rtt", rpc)
	sameOutput(t, nil, "rtt", rpc, "a", "b", "c")
	sameOutput(t, nil, "rtt", rpc, "nobody")
	sameOutput(t, nil, "rtt", rpc, "alpha", "nobody")
	// The estimates move with every ping between alpha and beta (alpha's
	// own coordinate too, so even alpha <-> alpha), and a ping may land
	// between the real CLI's call and ours.
	sameOutputOfMovingState(t, 5, "rtt", rpc, "alpha")
	until(t, "a coordinate for beta", converge, func() bool {
		return cluster.Run(t, nil, ours(t), "rtt", rpc, "beta").Code == 0
	})
	sameOutputOfMovingState(t, 5, "rtt", rpc, "beta")
	sameOutputOfMovingState(t, 5, "rtt", rpc, "beta", "alpha")

	sameOutput(t, nil, "keys", rpc)
	sameOutput(t, nil, "keys", rpc, "-list", "-remove", "k")
	sameOutput(t, linesSorted, "keys", rpc, "-list")
	sameOutput(t, nil, "keys", rpc, "-install", "notbase64")
	sameOutput(t, nil, "keys", rpc, "-use", "notbase64")
	sameOutput(t, nil, "keys", rpc, "-remove", "notbase64")
	sameOutput(t, linesSorted, "keys", rpc, "-install", "UEGYnqFO7ybeecr6h3CQ6HVK1ztGTTThRWpioBXoSD4=")

	sameOutput(t, linesSorted, "reachability", rpc)
}

func TestCLIQueryResponsesIdentical(t *testing.T) {
	t.Parallel()
	alpha := startRealAgent(t, "alpha", realAgentOpts{})
	rpc := "-rpc-addr=" + alpha.RPCAddr

	// A responder on its own connection answers every "echo" query with
	// "pong\n" (upstream's client library: it is the agent's peer here, not
	// what is being compared).
	c, err := client.ClientFromConfig(&client.Config{Addr: alpha.RPCAddr, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	queries := make(chan map[string]interface{}, 16)
	if _, err := c.Stream("query:echo", queries); err != nil {
		t.Fatal(err)
	}
	// The real agent acknowledges a stream before it registers it with its
	// event loop, and answers one connection's requests in order: once a
	// later request on c is answered, the stream is registered and no query
	// can slip past it.
	if _, err := c.Members(); err != nil {
		t.Fatal(err)
	}
	go func() {
		for rec := range queries {
			var id uint64
			switch v := rec["ID"].(type) {
			case int64:
				id = uint64(v)
			case uint64:
				id = v
			}
			_ = c.Respond(id, []byte("pong\n"))
		}
	}()

	// alpha acks and answers; the two reach the asking agent on separate
	// channels, so their order in the text output varies (with either CLI).
	anyOrder := func(s string) string { return recordsSorted(withoutPhantoms(s)) }
	sameOutput(t, anyOrder, "query", rpc, "-timeout", "800ms", "echo")

	// Our -wait-all (no such flag in the real CLI) against the real agent:
	// alpha is the one member selected, so the query ends once it has
	// acked and answered, well inside its 30 s; the agent then serves the
	// comparisons below as before.
	p := cluster.StartProc(t, nil, ours(t), "query", rpc, "-timeout", "30s", "-wait-all", "echo")
	if code := p.Wait(t, 15*time.Second); code != 0 {
		t.Fatalf("our query -wait-all exited %d:\n%s", code, p.Output())
	}
	wantWaitAll := "Query 'echo' dispatched\nAck from 'alpha'\nResponse from 'alpha': pong\nTotal Acks: 1\nTotal Responses: 1\n"
	if got := anyOrder(p.Output()); got != wantWaitAll {
		t.Errorf("our query -wait-all against real Serf: got %q want %q", got, wantWaitAll)
	}

	sameOutput(t, withoutPhantoms, "query", rpc, "-timeout", "800ms", "-format", "json", "echo")
	sameOutput(t, withoutPhantoms, "query", rpc, "-timeout", "800ms", "-no-ack", "echo")
}

// recordsSorted sorts the "Ack from" and "Response from" lines of the text
// output of `serf query` among themselves; the other lines stay in place.
func recordsSorted(out string) string {
	lines := strings.Split(out, "\n")
	var where []int
	var records []string
	for i, l := range lines {
		if strings.HasPrefix(l, "Ack from '") || strings.HasPrefix(l, "Response from '") {
			where = append(where, i)
			records = append(records, l)
		}
	}
	sort.Strings(records)
	for j, i := range where {
		lines[i] = records[j]
	}
	return strings.Join(lines, "\n")
}

func TestCLIForceLeaveAndLeaveIdentical(t *testing.T) {
	t.Parallel()
	alpha := startRealAgent(t, "alpha", realAgentOpts{})
	beta := startRealAgent(t, "beta", realAgentOpts{})
	gamma := startRealAgent(t, "gamma", realAgentOpts{})
	rpc := "-rpc-addr=" + alpha.RPCAddr
	if r := cluster.Run(t, nil, ours(t), "join", rpc, beta.BindAddr, gamma.BindAddr); r.Code != 0 {
		t.Fatalf("join: %s", r)
	}
	waitAlive(t, alpha.RPCAddr, 3)

	sameOutput(t, nil, "force-leave", rpc)
	sameOutput(t, nil, "force-leave", rpc, "a", "b")
	sameOutput(t, nil, "force-leave", rpc, "nobody")
	sameOutput(t, nil, "force-leave", rpc, "-prune", "nobody")

	// beta is killed, so it fails; our CLI then forces it out and prunes it.
	beta.Kill()
	statusOf := func(name string) string {
		f := strings.Fields(cluster.Run(t, nil, ours(t), "members", rpc, "-name", name).Stdout)
		if len(f) < 3 {
			return ""
		}
		return f[2]
	}
	until(t, "beta to fail", failDetect, func() bool { return statusOf("beta") == "failed" })
	if r := cluster.Run(t, nil, ours(t), "force-leave", rpc, "beta"); r.Code != 0 || r.Stdout != "" {
		t.Fatalf("force-leave: %s", r)
	}
	until(t, "beta to leave", converge, func() bool { return statusOf("beta") == "left" })
	if r := cluster.Run(t, nil, ours(t), "force-leave", rpc, "-prune", "beta"); r.Code != 0 {
		t.Fatalf("force-leave -prune: %s", r)
	}
	until(t, "beta to be pruned", converge, func() bool { return statusOf("beta") == "" })

	// Leave: the real CLI makes gamma leave, ours makes alpha leave.
	real := cluster.Run(t, nil, realBin, "leave", "-rpc-addr="+gamma.RPCAddr)
	our := cluster.Run(t, nil, ours(t), "leave", rpc)
	if real.Stdout != our.Stdout || real.Code != our.Code || our.Stdout != "Graceful leave complete\n" {
		t.Fatalf("leave: real %s\nours %s", real, our)
	}
	for _, a := range []*cluster.Agent{alpha, gamma} {
		a.Wait(t, converge) // fails the test if the agent stays up
	}
	sameOutput(t, nil, "leave", rpc)
}

func TestCLIMonitorIdentical(t *testing.T) {
	t.Parallel()
	alpha := startRealAgent(t, "alpha", realAgentOpts{})
	rpc := "-rpc-addr=" + alpha.RPCAddr

	// A monitor opened before anything else happens starts with the
	// agent's log backlog, the same for every such monitor.
	realMon := cluster.StartProc(t, nil, realBin, "monitor", rpc)
	until(t, "the real monitor's backlog", converge, func() bool {
		return strings.Count(realMon.Output(), "\n") >= 3
	})
	realMon.Kill()
	want := strings.Split(realMon.Output(), "\n")[:2]

	mon := cluster.StartProc(t, nil, ours(t), "monitor", rpc)
	until(t, "our monitor's backlog", converge, func() bool {
		return strings.Count(mon.Output(), "\n") >= len(want)
	})
	if got := strings.SplitN(mon.Output(), "\n", len(want)+1)[:len(want)]; !reflect.DeepEqual(got, want) {
		t.Fatalf("first monitor lines differ:\nreal %q\nours %q", want, got)
	}

	// A user event is shown as an Event Info block.
	if r := cluster.Run(t, nil, ours(t), "event", rpc, "-coalesce=false", "monev", "hello"); r.Code != 0 {
		t.Fatalf("event: %s", r)
	}
	for _, part := range []string{"Event Info:\n", "\tEvent: \"user\"\n", "\tName: \"monev\"\n",
		"\tPayload: []byte{0x68, 0x65, 0x6c, 0x6c, 0x6f}\n", "\tCoalesce: false\n"} {
		mon.WaitOutput(t, part, converge)
	}

	// Ctrl-C ends the monitor quietly with exit 0.
	if err := mon.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := mon.Wait(t, converge); code != 0 {
		t.Fatalf("monitor exit %d after Ctrl-C", code)
	}
	if strings.Contains(mon.Output(), "Remote side ended") {
		t.Fatal("Ctrl-C reported as the remote side ending")
	}

	// The agent going away ends the monitor with a message and exit 1.
	mon = cluster.StartProc(t, nil, ours(t), "monitor", rpc, "-log-level", "debug")
	until(t, "monitor output", converge, func() bool { return mon.Output() != "" })
	alpha.Kill()
	code := mon.Wait(t, converge)
	end := "\nRemote side ended the monitor! This usually means that the\nremote side has exited or crashed.\n"
	if code != 1 || !strings.HasSuffix(mon.Output(), end) {
		t.Fatalf("exit %d, output ends %q", code, mon.Output())
	}
}

// TestCLICtrlC: SIGINT to our CLI process stops a running query (exit 1, no
// totals), a monitor (exit 0, no "remote side" message) and a reachability
// test (exit 1, "Test interrupted").
func TestCLICtrlC(t *testing.T) {
	t.Parallel()
	alpha := startRealAgent(t, "alpha", realAgentOpts{})
	rpc := "-rpc-addr=" + alpha.RPCAddr
	interrupt := func(marker string, args ...string) (string, int) {
		t.Helper()
		p := cluster.StartProc(t, nil, ours(t), args...)
		p.WaitOutput(t, marker, converge)
		if err := p.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		code := p.Wait(t, converge)
		return p.Output(), code
	}
	if out, code := interrupt("Ack from 'alpha'", "query", rpc, "-timeout", "30s", "q"); code != 1 || strings.Contains(out, "Total") {
		t.Errorf("query after Ctrl-C: exit %d output %q", code, out)
	}
	if out, code := interrupt("Serf agent starting", "monitor", rpc); code != 0 || strings.Contains(out, "Remote side") {
		t.Errorf("monitor after Ctrl-C: exit %d output %q", code, out)
	}
	if out, code := interrupt("Starting reachability test...", "reachability", rpc); code != 1 || !strings.HasSuffix(out, "Test interrupted\n") {
		t.Errorf("reachability after Ctrl-C: exit %d output %q", code, out)
	}
}

func TestCLIKeysWithEncryptionIdentical(t *testing.T) {
	t.Parallel()
	const (
		k1 = "0s3dEQDpvcU1Pd1Gg/1zcWCxF5LuFxxBCNJoAtXPGUo="
		k2 = "LZ55WBBkjVytKLE/naOZcd0MFqW3aHw0olFnaOuF+c0="
	)
	a := startRealAgent(t, "k1", realAgentOpts{args: []string{"-encrypt", k1}})
	rpc := "-rpc-addr=" + a.RPCAddr

	// The real CLI runs each step first and ours second, so every action
	// happens twice; all of them are idempotent.
	sameOutput(t, nil, "keys", rpc, "-list")
	sameOutput(t, nil, "keys", rpc, "-install", k2)
	sameOutput(t, linesSorted, "keys", rpc, "-list")
	sameOutput(t, nil, "keys", rpc, "-remove", k1) // the primary key: refused
	sameOutput(t, nil, "keys", rpc, "-use", k2)
	sameOutput(t, nil, "keys", rpc, "-remove", k1)
	sameOutput(t, nil, "keys", rpc, "-list")
}

func TestCLIRPCAuthAndEnvironmentIdentical(t *testing.T) {
	t.Parallel()
	a := startRealAgent(t, "alpha", realAgentOpts{rpcAuth: "sekrit"})
	rpc := "-rpc-addr=" + a.RPCAddr

	sameOutput(t, nil, "members", rpc)
	sameOutput(t, nil, "members", rpc, "-rpc-auth", "wrong")
	sameOutput(t, nil, "members", rpc, "-rpc-auth", "sekrit")

	// SERF_RPC_ADDR and SERF_RPC_AUTH supply the defaults.
	env := []string{"SERF_RPC_ADDR=" + a.RPCAddr, "SERF_RPC_AUTH=sekrit"}
	if r := compareCLI(t, env, nil, "members"); r.Code != 0 {
		t.Fatalf("members with the environment's defaults: %s", r)
	}
	compareCLI(t, []string{"SERF_RPC_ADDR=127.0.0.1:1"}, nil, "members")
	compareCLI(t, []string{"SERF_RPC_ADDR=" + a.RPCAddr, "SERF_RPC_AUTH=wrong"}, nil, "members")
}
