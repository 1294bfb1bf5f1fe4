package command

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/client/realagenttest"
)

// compare runs the same command line through the real serf CLI and ours
// and fails unless stdout and the exit code agree. normalize, when given,
// is applied to both outputs first (for map order and volatile values).
func compare(t *testing.T, normalize func(string) string, args ...string) result {
	t.Helper()
	realOut, _, realCode := realagenttest.RunCLI(t, nil, args...)
	ours := runOurs(t, args...)
	a, b := realOut, ours.stdout
	if normalize != nil {
		a, b = normalize(a), normalize(b)
	}
	if a != b || realCode != ours.code {
		t.Errorf("serf %s:\nreal (exit %d):\n%s\nours (exit %d):\n%s",
			strings.Join(args, " "), realCode, realOut, ours.code, ours.stdout)
	}
	return ours
}

// bySortedLines compares line sets. Trailing blanks are ignored: the whole
// output is trimmed, so a line keeps its column padding (e.g. a member
// without tags) unless it happens to be the last one, which depends on the
// agent's map order.
func bySortedLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Join(sortedLines(strings.Join(lines, "\n")), "\n")
}

func TestRealHelpTexts(t *testing.T) {
	realagenttest.Binary(t)
	for _, name := range []string{"event", "force-leave", "info", "join", "keygen", "keys", "leave",
		"members", "monitor", "query", "reachability", "rtt", "tags", "version"} {
		_, realErr, realCode := realagenttest.RunCLI(t, nil, name, "-h")
		ours := runOurs(t, name, "-h")
		if ours.stderr != realErr || ours.code != realCode || ours.stdout != "" {
			t.Errorf("%s -h differs:\nreal:\n%s\nours:\n%s", name, realErr, ours.stderr)
		}
	}
	_, realErr, realCode := realagenttest.RunCLI(t, nil)
	if ours := runOurs(t); ours.stderr != realErr || ours.code != realCode {
		t.Errorf("top-level help differs:\nreal:\n%s\nours:\n%s", realErr, ours.stderr)
	}
}

func TestRealMembersJoinTagsEvent(t *testing.T) {
	alpha := realagenttest.Start(t, realagenttest.Options{Name: "alpha", Tags: []string{"role=web"}})
	beta := realagenttest.Start(t, realagenttest.Options{Name: "beta-node", Tags: []string{"role=db"}})
	gamma := realagenttest.Start(t, realagenttest.Options{Name: "gamma"})
	rpc := "-rpc-addr=" + alpha.RPCAddr

	// Join: ours first (so the real one re-joins a node already known).
	ours := runOurs(t, "join", rpc, beta.BindAddr)
	if ours.code != 0 || ours.stdout != "Successfully joined cluster by contacting 1 nodes.\n" {
		t.Fatalf("join: %+v", ours)
	}
	compare(t, nil, "join", rpc, beta.BindAddr, gamma.BindAddr)
	compare(t, nil, "join", rpc, "-replay", gamma.BindAddr)
	compare(t, nil, "join", rpc, "127.0.0.1:1")
	compare(t, nil, "join", rpc)

	waitMembers(t, alpha.RPCAddr, 3)
	for _, args := range [][]string{
		{"members", rpc},
		{"members", rpc, "-detailed"},
		{"members", rpc, "-format", "json"},
		{"members", rpc, "-format=json", "-detailed"},
		{"members", rpc, "-status", "alive", "-name", "beta.*"},
		{"members", rpc, "-name", "beta"}, // anchored: no match
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
		compare(t, bySortedLines, args...)
	}

	// Tags: change them with ours, check them with the real CLI and back.
	compare(t, nil, "tags", rpc, "-set", "bad")
	compare(t, nil, "tags", rpc)
	ours = runOurs(t, "tags", rpc, "-set", "dc=east", "-set", "x=1")
	if ours.code != 0 || ours.stdout != "Successfully updated agent tags\n" {
		t.Fatalf("tags: %+v", ours)
	}
	compare(t, nil, "tags", rpc, "-delete", "x", "-delete", "nope")
	realOut, _, _ := realagenttest.RunCLI(t, nil, "members", rpc, "-name", "alpha")
	if !regexp.MustCompile(`^alpha  127\.0\.0\.1:\d+  alive  (role=web,dc=east|dc=east,role=web)\n$`).MatchString(realOut) {
		t.Fatalf("tags not applied: %q", realOut)
	}
	compare(t, normalizeTagOrder, "members", rpc, "-detailed")

	// Events.
	compare(t, nil, "event", rpc, "deploy", "v1")
	compare(t, nil, "event", rpc, "-coalesce=false", "deploy")
	compare(t, nil, "event", rpc)
	compare(t, nil, "event", rpc, "a", "b", "c")
	compare(t, nil, "event", rpc, "big", strings.Repeat("x", 600))
}

// normalizeTagOrder sorts the comma-separated tags inside each line.
func normalizeTagOrder(s string) string {
	re := regexp.MustCompile(`\S+=\S*(,\S+=\S*)+`)
	return bySortedLines(re.ReplaceAllStringFunc(s, func(tags string) string {
		return strings.Join(sortedLines(strings.ReplaceAll(tags, ",", "\n")), ",")
	}))
}

func waitMembers(t *testing.T, rpcAddr string, n int) {
	t.Helper()
	c, err := client.Dial(rpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, fmt.Sprintf("%d alive members", n), 10*time.Second, func() bool {
		ms, err := c.MembersFiltered(nil, "alive", "")
		return err == nil && len(ms) == n
	})
}

func TestRealInfoQueryRTTKeys(t *testing.T) {
	alpha := realagenttest.Start(t, realagenttest.Options{Name: "alpha", Tags: []string{"role=web"}})
	beta := realagenttest.Start(t, realagenttest.Options{Name: "beta"})
	rpc := "-rpc-addr=" + alpha.RPCAddr
	if r := runOurs(t, "join", rpc, beta.BindAddr); r.code != 0 {
		t.Fatalf("join: %+v", r)
	}
	waitMembers(t, alpha.RPCAddr, 2)

	// Values such as goroutine counts and clocks move; keys and layout
	// must not.
	volatile := regexp.MustCompile(`(?m)(goroutines|_time|"goroutines"|"[a-z]+_time")( = |: )"?\d+"?`)
	stable := func(s string) string { return volatile.ReplaceAllString(s, "$1$2N") }
	compare(t, stable, "info", rpc)
	compare(t, stable, "info", rpc, "-format", "json")
	compare(t, nil, "info", rpc, "-format", "xml")

	compare(t, nil, "query", rpc, "-tag", "bad", "q")
	compare(t, nil, "query", rpc)
	compare(t, nil, "query", rpc, "-relay-factor", "300", "q")
	compare(t, nil, "query", rpc, "-format", "xml", "q")
	compare(t, nil, "query", rpc, "_serf_nope")
	compare(t, withoutPhantoms, "query", rpc, "-no-ack", "-format", "json", "-node", "nobody", "zz")
	compare(t, withoutPhantoms, "query", rpc, "-timeout", "500ms", "-node", "alpha", "-format", "json", "q")
	// beta's ack crosses the network: leave it time on a loaded machine.
	compare(t, withoutPhantoms, "query", rpc, "-timeout", "2s", "-node", "beta", "q", "payload")
	compare(t, withoutPhantoms, "query", rpc, "-timeout", "500ms", "-no-ack", "-tag", "role=web", "q")
	compare(t, func(s string) string { return bySortedLines(withoutPhantoms(s)) }, "query", rpc, "-timeout", "700ms", "-relay-factor", "1", "q")

	compare(t, nil, "rtt", rpc)
	compare(t, nil, "rtt", rpc, "a", "b", "c")
	compare(t, nil, "rtt", rpc, "nobody")
	compare(t, nil, "rtt", rpc, "alpha", "nobody")
	compare(t, nil, "rtt", rpc, "alpha")
	waitFor(t, "coordinates", 10*time.Second, func() bool {
		return runOurs(t, "rtt", rpc, "beta").code == 0
	})
	compare(t, nil, "rtt", rpc, "beta")
	compare(t, nil, "rtt", rpc, "beta", "alpha")

	compare(t, nil, "keys", rpc)
	compare(t, nil, "keys", rpc, "-list", "-remove", "k")
	compare(t, bySortedLines, "keys", rpc, "-list")
	compare(t, nil, "keys", rpc, "-install", "notbase64")
	compare(t, nil, "keys", rpc, "-use", "notbase64")
	compare(t, nil, "keys", rpc, "-remove", "notbase64")
	compare(t, bySortedLines, "keys", rpc, "-install", "UEGYnqFO7ybeecr6h3CQ6HVK1ztGTTThRWpioBXoSD4=")

	compare(t, bySortedLines, "reachability", rpc)
}

func TestRealQueryResponses(t *testing.T) {
	alpha := realagenttest.Start(t, realagenttest.Options{Name: "alpha"})
	rpc := "-rpc-addr=" + alpha.RPCAddr

	// Answer every "echo" query with "pong\n" through a stream on a
	// separate connection.
	c, err := client.Dial(alpha.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	queries := make(chan map[string]interface{}, 16)
	if _, err := c.Stream("query:echo", queries); err != nil {
		t.Fatal(err)
	}
	// The real agent acknowledges a stream before registering it with its
	// event loop (upstream's handleStream defers the registration past the
	// reply), so a query sent from another connection right away could miss
	// the responder. It answers one connection's requests in order: once a
	// later request on c is answered, the stream is registered.
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

	// alpha both acks and answers; the ack and the response reach the
	// querying agent on separate channels, so their relative order in the
	// text output varies from run to run (with the real agent too).
	unordered := func(s string) string { return recordsInAnyOrder(withoutPhantoms(s)) }
	compare(t, unordered, "query", rpc, "-timeout", "800ms", "echo")
	compare(t, withoutPhantoms, "query", rpc, "-timeout", "800ms", "-format", "json", "echo")
	compare(t, withoutPhantoms, "query", rpc, "-timeout", "800ms", "-no-ack", "echo")
}

func TestRealForceLeaveAndLeave(t *testing.T) {
	alpha := realagenttest.Start(t, realagenttest.Options{Name: "alpha"})
	beta := realagenttest.Start(t, realagenttest.Options{Name: "beta"})
	gamma := realagenttest.Start(t, realagenttest.Options{Name: "gamma"})
	rpc := "-rpc-addr=" + alpha.RPCAddr
	if r := runOurs(t, "join", rpc, beta.BindAddr, gamma.BindAddr); r.code != 0 {
		t.Fatalf("join: %+v", r)
	}
	waitMembers(t, alpha.RPCAddr, 3)

	compare(t, nil, "force-leave", rpc)
	compare(t, nil, "force-leave", rpc, "a", "b")
	compare(t, nil, "force-leave", rpc, "nobody")
	compare(t, nil, "force-leave", rpc, "-prune", "nobody")

	// Kill beta so it becomes failed, then force it out with our CLI.
	beta.Stop()
	statusOf := func(name string) string {
		r := runOurs(t, "members", rpc, "-name", name)
		f := strings.Fields(r.stdout)
		if len(f) < 3 {
			return ""
		}
		return f[2]
	}
	waitFor(t, "beta to fail", 20*time.Second, func() bool { return statusOf("beta") == "failed" })
	if r := runOurs(t, "force-leave", rpc, "beta"); r.code != 0 || r.stdout != "" {
		t.Fatalf("force-leave: %+v", r)
	}
	waitFor(t, "beta to leave", 10*time.Second, func() bool { return statusOf("beta") == "left" })
	if r := runOurs(t, "force-leave", rpc, "-prune", "beta"); r.code != 0 {
		t.Fatalf("force-leave -prune: %+v", r)
	}
	waitFor(t, "beta to be pruned", 10*time.Second, func() bool { return statusOf("beta") == "" })

	// Leave: the real CLI on gamma, ours on alpha.
	realOut, _, realCode := realagenttest.RunCLI(t, nil, "leave", "-rpc-addr="+gamma.RPCAddr)
	ours := runOurs(t, "leave", rpc)
	if realOut != ours.stdout || realCode != ours.code || ours.stdout != "Graceful leave complete\n" {
		t.Fatalf("leave: real %q %d, ours %+v", realOut, realCode, ours)
	}
	for _, a := range []*realagenttest.Agent{alpha, gamma} {
		a.Wait(t, 15*time.Second) // fails the test if the agent stays up
	}
	compare(t, nil, "leave", rpc)
}

func TestRealMonitor(t *testing.T) {
	alpha := realagenttest.Start(t, realagenttest.Options{Name: "alpha"})
	rpc := "-rpc-addr=" + alpha.RPCAddr

	// The first lines are the agent's log backlog, the same for every
	// monitor opened before anything else happens.
	realLines := firstLinesOfRealMonitor(t, rpc)

	out, interrupt, done := startOurs(t, "monitor", rpc)
	waitFor(t, "monitor backlog", 10*time.Second, func() bool {
		return strings.Count(out.String(), "\n") >= len(realLines)
	})
	got := strings.SplitN(out.String(), "\n", len(realLines)+1)[:len(realLines)]
	if !reflect.DeepEqual(got, realLines) {
		t.Fatalf("first monitor lines differ:\nreal %q\nours %q", realLines, got)
	}

	// A user event shows up as an Event Info block.
	if r := runOurs(t, "event", rpc, "-coalesce=false", "monev", "hello"); r.code != 0 {
		t.Fatalf("event: %+v", r)
	}
	for _, want := range []string{"Event Info:\n", "\tEvent: \"user\"\n", "\tName: \"monev\"\n",
		"\tPayload: []byte{0x68, 0x65, 0x6c, 0x6c, 0x6f}\n", "\tCoalesce: false\n"} {
		waitFor(t, fmt.Sprintf("%q in monitor output", want), 10*time.Second, func() bool {
			return strings.Contains(out.String(), want)
		})
	}

	interrupt <- struct{}{}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("monitor exit %d after Ctrl-C", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("monitor ignored Ctrl-C")
	}
	if strings.Contains(out.String(), "Remote side ended") {
		t.Fatal("Ctrl-C reported as remote end")
	}

	// When the agent goes away the monitor says so and fails.
	out, _, done = startOurs(t, "monitor", rpc, "-log-level", "debug")
	waitFor(t, "monitor output", 10*time.Second, func() bool { return out.String() != "" })
	alpha.Stop()
	select {
	case code := <-done:
		want := "\nRemote side ended the monitor! This usually means that the\nremote side has exited or crashed.\n"
		if code != 1 || !strings.HasSuffix(out.String(), want) {
			t.Fatalf("exit %d, output ends %q", code, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("monitor did not notice the agent going away")
	}
}

// firstLinesOfRealMonitor runs the real `serf monitor` until it has printed
// the agent's first log lines and returns the first two of them.
func firstLinesOfRealMonitor(t *testing.T, rpc string) []string {
	t.Helper()
	realOut, _, _ := realagenttest.RunCLITimeout(t, 1500*time.Millisecond, "monitor", rpc)
	lines := strings.Split(realOut, "\n")
	if len(lines) < 3 {
		t.Fatalf("real monitor printed too little: %q", realOut)
	}
	return lines[:2]
}

func TestRealQueryAndReachabilityInterrupt(t *testing.T) {
	alpha := realagenttest.Start(t, realagenttest.Options{Name: "alpha"})
	rpc := "-rpc-addr=" + alpha.RPCAddr

	out, interrupt, done := startOurs(t, "query", rpc, "-timeout", "30s", "long")
	waitFor(t, "ack", 10*time.Second, func() bool { return strings.Contains(out.String(), "Ack from 'alpha'") })
	interrupt <- struct{}{}
	if code := <-done; code != 1 || strings.Contains(out.String(), "Total") {
		t.Fatalf("query after Ctrl-C: exit %d output %q", code, out.String())
	}

	out, interrupt, done = startOurs(t, "reachability", rpc)
	waitFor(t, "start", 10*time.Second, func() bool { return strings.Contains(out.String(), "Starting reachability test...") })
	interrupt <- struct{}{}
	if code := <-done; code != 1 || !strings.HasSuffix(out.String(), "Test interrupted\n") {
		t.Fatalf("reachability after Ctrl-C: exit %d output %q", code, out.String())
	}
}

// recordsInAnyOrder sorts the "Ack from" and "Response from" lines of
// `serf query` text output among themselves, leaving every other line
// (the dispatch line, the totals) where it is.
func recordsInAnyOrder(out string) string {
	lines := strings.Split(out, "\n")
	var at []int
	var records []string
	for i, l := range lines {
		if strings.HasPrefix(l, "Ack from '") || strings.HasPrefix(l, "Response from '") {
			at = append(at, i)
			records = append(records, l)
		}
	}
	sort.Strings(records)
	for j, i := range at {
		lines[i] = records[j]
	}
	return strings.Join(lines, "\n")
}
