package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// waitAllBound is how long a `serf query -timeout 30s -wait-all` may run
// when every node answers: a deadline well inside the query's 30 s, not a
// measure of speed.
const waitAllBound = 15 * time.Second

// runWaitAll runs `serf query -timeout 30s -wait-all ARGS...` against a
// and requires it to exit with 0 within waitAllBound.
func runWaitAll(t *testing.T, a *cluster.Agent, args ...string) string {
	t.Helper()
	p := cluster.StartProc(t, nil, bin(t),
		append([]string{"query", "-rpc-addr", a.RPCAddr, "-timeout", "30s", "-wait-all"}, args...)...)
	if code := p.Wait(t, waitAllBound); code != 0 {
		t.Fatalf("serf query -wait-all exited %d:\n%s", code, p.Output())
	}
	return p.Output()
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	sort.Strings(lines)
	return lines
}

// TestQueryWaitAllReturnsWhenAllAnswered (serf#509, #398): with five
// agents that all answer, `serf query -timeout 30s -wait-all` returns long
// before the deadline with every ack and response, and names nobody as
// missing; -format json carries empty not-answered lists.
func TestQueryWaitAllReturnsWhenAllAnswered(t *testing.T) {
	t.Parallel()
	hs := startHandled(t, "qwa", 5)

	out := runWaitAll(t, hs[2].Agent, "uptime", "p")
	want := []string{"Query 'uptime' dispatched", "Total Acks: 5", "Total Responses: 5"}
	for _, h := range hs {
		want = append(want, fmt.Sprintf("Ack from '%s'", h.Name), fmt.Sprintf("Response from '%s': resp-from-%s", h.Name, h.Name))
	}
	sort.Strings(want)
	if got := sortedLines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("serf query -wait-all:\n%s\nwant lines (any order): %q", out, want)
	}

	out = runWaitAll(t, hs[0].Agent, "-format", "json", "uptime")
	var doc struct {
		Acks                   []string
		Responses              map[string]string
		NotAcked, NotResponded []string
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	if len(doc.Acks) != 5 || len(doc.Responses) != 5 || doc.NotAcked == nil || len(doc.NotAcked) != 0 ||
		doc.NotResponded == nil || len(doc.NotResponded) != 0 {
		t.Errorf("json output: %+v\n%s", doc, out)
	}
	for _, h := range hs {
		if doc.Responses[h.Name] != "resp-from-"+h.Name+"\n" {
			t.Errorf("json: response of %s = %q", h.Name, doc.Responses[h.Name])
		}
	}
}

// TestQueryWaitAllReportsSilentNode: a node without a query handler acks
// but never responds, so -wait-all runs to the deadline and names it; a
// -tag filter that leaves it out makes the query complete early again.
func TestQueryWaitAllReportsSilentNode(t *testing.T) {
	t.Parallel()
	hs := startHandled(t, "qws", 2)
	quiet := start(t, "qws-quiet")
	cluster.JoinAll(t, converge, hs[0].Agent, hs[1].Agent, quiet)

	res := quiet.CLI(t, "query", "-timeout", "8s", "-wait-all", "uptime")
	want := []string{"Query 'uptime' dispatched", "Total Acks: 3", "Total Responses: 2",
		"Ack from 'qws-quiet'", "Nodes that acknowledged but did not respond: qws-quiet"}
	for _, h := range hs {
		want = append(want, fmt.Sprintf("Ack from '%s'", h.Name), fmt.Sprintf("Response from '%s': resp-from-%s", h.Name, h.Name))
	}
	sort.Strings(want)
	if got := sortedLines(res.Stdout); res.Code != 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("serf query -wait-all: %s\nwant lines (any order): %q", res, want)
	}
	// The report comes last, after the totals.
	if !strings.HasSuffix(res.Stdout, "Total Responses: 2\nNodes that acknowledged but did not respond: qws-quiet\n") {
		t.Errorf("report not at the end:\n%s", res.Stdout)
	}

	res = hs[0].CLI(t, "query", "-timeout", "8s", "-wait-all", "-no-ack", "-format", "json", "uptime")
	var doc struct {
		Acks                   []string
		Responses              map[string]string
		NotAcked, NotResponded []string
	}
	if err := json.Unmarshal([]byte(res.Stdout), &doc); err != nil || res.Code != 0 {
		t.Fatalf("json output (%v): %s", err, res)
	}
	if doc.Acks != nil || len(doc.Responses) != 2 || len(doc.NotAcked) != 0 ||
		strings.Join(doc.NotResponded, ",") != "qws-quiet" {
		t.Errorf("-no-ack json: %+v\n%s", doc, res.Stdout)
	}

	// Only the handled nodes carry role=app: selected by -tag, they all
	// answer, and the query ends well before its 30 s.
	out := runWaitAll(t, quiet, "-tag", "role=app", "uptime")
	if !strings.Contains(out, "Total Responses: 2\n") || strings.Contains(out, "Nodes that") {
		t.Errorf("-tag role=app -wait-all:\n%s", out)
	}
}
