package interop

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

// eventNode is an agent with a recording event handler.
type eventNode struct {
	*cluster.Agent
	records string // handler output dir
}

// startEventPair starts two agents (binaries bins[0], bins[1]) with the same
// tags and a recording handler each, and joins them.
func startEventPair(t *testing.T, names, bins []string) []eventNode {
	t.Helper()
	var ns []eventNode
	for i, bin := range bins {
		script, dir := cluster.RecordingHandler(t)
		a := cluster.StartAgent(t, bin, cluster.Options{Name: names[i], Args: []string{
			"-tag", "role=web", "-tag", "dc=east", "-tag", "weird.key-1=x",
			"-event-handler", script,
		}})
		ns = append(ns, eventNode{Agent: a, records: dir})
	}
	cluster.JoinAll(t, converge, ns[0].Agent, ns[1].Agent)
	return ns
}

var selfName = regexp.MustCompile(`(?m)^SERF_SELF_NAME=.*$`)

// sameRecord waits for the handler record of typ/name on every node and
// checks they are identical apart from SERF_SELF_NAME, and equal to want
// (with SERF_SELF_NAME=<self> and the LTime line matched by prefix).
func sameRecord(t *testing.T, ns []eventNode, typ, name string, want []string) {
	t.Helper()
	var first string
	for i, n := range ns {
		rec := cluster.WaitHandlerRecord(t, n.records, typ, name)
		if !strings.Contains(rec, "SERF_SELF_NAME="+n.Name+"\n") {
			t.Errorf("%s handler record lacks its own name:\n%s", n.Name, rec)
		}
		rec = selfName.ReplaceAllString(rec, "SERF_SELF_NAME=<self>")
		if i == 0 {
			first = rec
			lines := strings.Split(rec, "\n")
			if len(lines) != len(want) {
				t.Errorf("%s %s %q handler record:\n%s\nwant lines %q", n.Name, typ, name, rec, want)
				continue
			}
			for j, w := range want {
				if !strings.HasPrefix(lines[j], w) {
					t.Errorf("%s %s %q handler record line %d = %q, want prefix %q\n%s", n.Name, typ, name, j, lines[j], w, rec)
				}
			}
		} else if rec != first {
			t.Errorf("handler records differ for %s %q:\n--- %s:\n%s\n--- %s:\n%s", typ, name, ns[0].Name, first, n.Name, rec)
		}
	}
}

// TestEventsAndQueries: a user event sent with one kind of CLI through one
// kind of agent reaches the handlers on both kinds of agents with identical
// environment and stdin; a query is answered by handlers on both; and
// `serf reachability` succeeds with either CLI. real/real is the control.
func TestEventsAndQueries(t *testing.T) {
	cases := []struct {
		name string
		bins func(t *testing.T) []string // agent 0, agent 1
	}{
		{"real-only", func(*testing.T) []string { return []string{realBin, realBin} }},
		{"mixed", func(t *testing.T) []string { return []string{realBin, ours(t)} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bins := tc.bins(t)
			ns := startEventPair(t, []string{"ev-0", "ev-1"}, bins)
			ourCLI := realBin
			if tc.name == "mixed" {
				ourCLI = ours(t)
			}
			testEventsAndQueries(t, ns, realBin, ourCLI)
		})
	}
}

func testEventsAndQueries(t *testing.T, ns []eventNode, realCLI, ourCLI string) {
	n0, n1 := ns[0], ns[1]
	envHead := []string{
		"SERF_EVENT=user",
		"SERF_SELF_NAME=<self>",
		"SERF_SELF_ROLE=web",
		"SERF_TAG_DC=east",
		"SERF_TAG_ROLE=web",
		"SERF_TAG_WEIRD_KEY_1=x",
	}

	// Real CLI through the second agent (ours in the mixed case).
	res := cluster.CLI(t, realCLI, n1.RPCAddr, "event", "deploy", "v1.2")
	if res.Code != 0 || res.Stdout != "Event 'deploy' dispatched! Coalescing enabled: true\n" {
		t.Fatalf("event deploy: %s", res)
	}
	sameRecord(t, ns, "user", "deploy", append(envHead, "SERF_USER_EVENT=deploy", "SERF_USER_LTIME=", "--- stdin:", "v1.2", ""))

	// Our CLI through the first agent (real), no coalescing, empty payload.
	res = cluster.CLI(t, ourCLI, n0.RPCAddr, "event", "-coalesce=false", "empty")
	if res.Code != 0 || res.Stdout != "Event 'empty' dispatched! Coalescing enabled: false\n" {
		t.Fatalf("event empty: %s", res)
	}
	sameRecord(t, ns, "user", "empty", append(envHead, "SERF_USER_EVENT=empty", "SERF_USER_LTIME=", "--- stdin:", ""))

	// Queries, text output, each CLI through the other kind of agent.
	for _, q := range []struct {
		cli, addr, name string
		realAgent       bool
	}{
		{realCLI, n1.RPCAddr, "uptime", realCLI == ourCLI},
		{ourCLI, n0.RPCAddr, "uptime2", true},
	} {
		res = cluster.CLI(t, q.cli, q.addr, "query", q.name, "payload1")
		lines := strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
		want := []string{
			"Ack from 'ev-0'", "Ack from 'ev-1'",
			fmt.Sprintf("Query '%s' dispatched", q.name),
			"Response from 'ev-0': resp-from-ev-0", "Response from 'ev-1': resp-from-ev-1",
			"Total Acks: 2", "Total Responses: 2",
		}
		if q.realAgent {
			lines, want = dropRealQueryRace(t, lines, want)
		}
		sort.Strings(lines)
		sort.Strings(want)
		if res.Code != 0 || strings.Join(lines, "\n") != strings.Join(want, "\n") || !strings.HasPrefix(res.Stdout, "Query '"+q.name+"' dispatched\n") {
			t.Errorf("%s query %s: %s\nwant lines (any order after the first): %q", q.cli, q.name, res, want)
		}
		qenv := []string{"SERF_EVENT=query", "SERF_QUERY_LTIME=", "SERF_QUERY_NAME=" + q.name}
		sameRecord(t, ns, "query", q.name, append(append(qenv, envHead[1:]...), "--- stdin:", "payload1", ""))
	}

	// Query, JSON output.
	res = cluster.CLI(t, ourCLI, n1.RPCAddr, "query", "-format", "json", "uptime3")
	var js struct {
		Acks      []string
		Responses map[string]string
	}
	if err := json.Unmarshal([]byte(res.Stdout), &js); err != nil || res.Code != 0 {
		t.Fatalf("query -format json: %v\n%s", err, res)
	}
	if realCLI == ourCLI { // n1 is a real agent: tolerate its race
		var acks []string
		for _, a := range js.Acks {
			if a != "" {
				acks = append(acks, a)
			}
		}
		js.Acks = acks
		delete(js.Responses, "")
	}
	sort.Strings(js.Acks)
	if strings.Join(js.Acks, ",") != "ev-0,ev-1" || js.Responses["ev-0"] != "resp-from-ev-0\n" || js.Responses["ev-1"] != "resp-from-ev-1\n" || len(js.Responses) != 2 {
		t.Errorf("query -format json: %+v\n%s", js, res)
	}

	// Reachability with both CLIs through both agents.
	for _, cli := range []string{realCLI, ourCLI} {
		for _, n := range ns {
			res = cluster.CLI(t, cli, n.RPCAddr, "reachability", "-verbose")
			realAgent := n.Agent == n0.Agent || realCLI == ourCLI
			if realAgent && strings.Contains(res.Stdout, "Ack from ''") {
				t.Logf("real agent streamed empty acks (see dropRealQueryRace); skipping this reachability check:\n%s", res)
				continue
			}
			for _, want := range []string{
				"Total members: 2, live members: 2\nStarting reachability test...\n",
				"\tAck from 'ev-0'\n", "\tAck from 'ev-1'\n", "Query time: ",
				"Successfully contacted all live nodes\n",
			} {
				if res.Code != 0 || !strings.Contains(res.Stdout, want) {
					t.Errorf("%s reachability via %s lacks %q: %s", cli, n.Name, want, res)
				}
			}
		}
	}
}

// dropRealQueryRace works around a race in the real Serf v0.10.2 agent: its
// query stream selects on the ack and response channels without checking
// whether they are closed, and serf closes them on a timer separate from the
// stream's own deadline timer. If the channels close first, the agent streams
// empty acks and responses (printed as acks from an empty name) until its
// timer fires. When that
// happened, those lines and the inflated totals are dropped from the
// comparison (our agent must not do this; it is checked strictly).
func dropRealQueryRace(t *testing.T, lines, want []string) ([]string, []string) {
	t.Helper()
	var kept []string
	raced := false
	for _, l := range lines {
		if l == "Ack from ''" || l == "Response from '': " {
			raced = true
			continue
		}
		kept = append(kept, l)
	}
	if !raced {
		return lines, want
	}
	t.Logf("real agent streamed empty query records (known Serf v0.10.2 race); ignoring them and the totals")
	drop := func(ls []string) []string {
		var out []string
		for _, l := range ls {
			if !strings.HasPrefix(l, "Total ") {
				out = append(out, l)
			}
		}
		return out
	}
	return drop(kept), drop(want)
}
