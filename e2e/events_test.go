package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

type handled struct {
	*cluster.Agent
	records string
}

// startHandled starts n agents, each with a recording event handler, and
// joins them.
func startHandled(t *testing.T, prefix string, n int) []handled {
	t.Helper()
	var hs []handled
	var as []*cluster.Agent
	for i := 0; i < n; i++ {
		script, dir := cluster.RecordingHandler(t)
		a := start(t, fmt.Sprintf("%s-%d", prefix, i), "-tag", "role=app", "-event-handler", script)
		hs = append(hs, handled{a, dir})
		as = append(as, a)
	}
	cluster.JoinAll(t, converge, as...)
	return hs
}

// TestUserEventReachesHandlers: `serf event` on one node runs the handler on
// every node with the documented environment and the payload on stdin.
func TestUserEventReachesHandlers(t *testing.T) {
	t.Parallel()
	hs := startHandled(t, "ev", 3)
	res := hs[0].CLI(t, "event", "deploy", "v1.2")
	if res.Code != 0 || res.Stdout != "Event 'deploy' dispatched! Coalescing enabled: true\n" {
		t.Fatalf("serf event: %s", res)
	}
	var ltime string
	for _, h := range hs {
		rec := cluster.WaitHandlerRecord(t, h.records, "user", "deploy")
		for _, want := range []string{
			"SERF_EVENT=user\n", "SERF_SELF_NAME=" + h.Name + "\n", "SERF_SELF_ROLE=app\n",
			"SERF_TAG_ROLE=app\n", "SERF_USER_EVENT=deploy\n", "--- stdin:\nv1.2\n",
		} {
			if !strings.Contains(rec, want) {
				t.Errorf("%s handler record lacks %q:\n%s", h.Name, want, rec)
			}
		}
		// Every node sees the same Lamport time for the one event.
		lt := rec[strings.Index(rec, "SERF_USER_LTIME="):]
		lt = lt[:strings.Index(lt, "\n")]
		if ltime == "" {
			ltime = lt
		} else if lt != ltime {
			t.Errorf("%s: %s, another node had %s", h.Name, lt, ltime)
		}
	}
	// Every node also ran the handler for the member-join events.
	for _, h := range hs {
		rec := cluster.WaitHandlerRecord(t, h.records, "member-join", "")
		if !strings.Contains(rec, "SERF_EVENT=member-join\n") || !strings.Contains(rec, "\t127.0.0.1\tapp\trole=app\n") {
			t.Errorf("%s member-join record:\n%s", h.Name, rec)
		}
	}
}

// TestQueryAnsweredByHandlers: `serf query` collects an ack and the handler's
// answer from every node; -node narrows it to one.
func TestQueryAnsweredByHandlers(t *testing.T) {
	t.Parallel()
	hs := startHandled(t, "q", 3)
	res := hs[1].CLI(t, "query", "uptime", "payload1")
	lines := strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
	sort.Strings(lines)
	want := []string{"Query 'uptime' dispatched", "Total Acks: 3", "Total Responses: 3"}
	for _, h := range hs {
		want = append(want, fmt.Sprintf("Ack from '%s'", h.Name), fmt.Sprintf("Response from '%s': resp-from-%s", h.Name, h.Name))
	}
	sort.Strings(want)
	if res.Code != 0 || strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("serf query: %s\nwant lines (any order): %q", res, want)
	}
	for _, h := range hs {
		rec := cluster.WaitHandlerRecord(t, h.records, "query", "uptime")
		if !strings.Contains(rec, "SERF_QUERY_NAME=uptime\n") || !strings.HasSuffix(rec, "--- stdin:\npayload1\n") {
			t.Errorf("%s query record:\n%s", h.Name, rec)
		}
	}

	res = hs[0].CLI(t, "query", "-node", "q-2", "-no-ack", "who")
	want2 := "Query 'who' dispatched\nResponse from 'q-2': resp-from-q-2\nTotal Responses: 1\n"
	if res.Code != 0 || res.Stdout != want2 {
		t.Errorf("serf query -node q-2 -no-ack: %s\nwant stdout %q", res, want2)
	}
}

// TestHandlerFilters: handlers registered for one event type or one event
// name run only for those; member-failed reaches a failed-only handler.
func TestHandlerFilters(t *testing.T) {
	t.Parallel()
	deployScript, deployRecords := cluster.RecordingHandler(t)
	failScript, failRecords := cluster.RecordingHandler(t)
	a := start(t, "flt-a",
		"-event-handler", "user:deploy="+deployScript,
		"-event-handler", "member-leave,member-failed="+failScript)
	b := start(t, "flt-b")
	cluster.JoinAll(t, converge, a, b)

	for _, name := range []string{"other", "deploy"} {
		if res := b.CLI(t, "event", "-coalesce=false", name, "p"); res.Code != 0 {
			t.Fatalf("event %s: %s", name, res)
		}
	}
	cluster.WaitHandlerRecord(t, deployRecords, "user", "deploy")
	b.Kill()
	rec := cluster.WaitHandlerRecord(t, failRecords, "member-failed", "")
	if !strings.HasSuffix(rec, "--- stdin:\nflt-b\t127.0.0.1\t\t\n") {
		t.Errorf("member-failed record:\n%s", rec)
	}
	// By now the "other" event was handled long ago (events are handled in
	// order); neither handler may have run for it or for member-join.
	for _, dir := range []string{deployRecords, failRecords} {
		for _, typ := range []struct{ typ, name string }{{"user", "other"}, {"member-join", ""}} {
			if recs, _ := cluster.HandlerRecords(dir, typ.typ, typ.name); len(recs) != 0 {
				t.Errorf("filtered handler ran for %s %q:\n%s", typ.typ, typ.name, recs[0])
			}
		}
	}
	if recs, _ := cluster.HandlerRecords(failRecords, "user", "deploy"); len(recs) != 0 {
		t.Errorf("member handler ran for a user event:\n%s", recs[0])
	}
}
