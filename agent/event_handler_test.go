package agent

import (
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

func TestParseEventScript(t *testing.T) {
	cases := []struct {
		spec string
		want []EventScript
	}{
		{"x.sh", []EventScript{{EventFilter{"*", ""}, "x.sh"}}},
		{"=x.sh", []EventScript{{EventFilter{"*", ""}, "x.sh"}}},
		{"member-join=j.sh", []EventScript{{EventFilter{"member-join", ""}, "j.sh"}}},
		{"user:deploy,query:up,member-leave=a=b.sh", []EventScript{
			{EventFilter{"user", "deploy"}, "a=b.sh"},
			{EventFilter{"query", "up"}, "a=b.sh"},
			{EventFilter{"member-leave", ""}, "a=b.sh"},
		}},
		{"user:=u.sh", []EventScript{{EventFilter{"user", ""}, "u.sh"}}},
	}
	for _, tc := range cases {
		got := ParseEventScript(tc.spec)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %+v", tc.spec, got)
		}
		for _, s := range got {
			if !s.Valid() {
				t.Errorf("%q: %v invalid", tc.spec, s)
			}
		}
	}
	bad := ParseEventScript("bogus-type=foo.sh")[0]
	if bad.Valid() || bad.String() != "Event 'bogus-type' invoking 'foo.sh'" {
		t.Errorf("bad: %v %s", bad.Valid(), bad.String())
	}
	named := EventScript{EventFilter{"user", "d"}, "s"}
	if named.String() != "Event 'user:d' invoking 's'" {
		t.Error(named.String())
	}
}

func TestEventFilterMatches(t *testing.T) {
	join := serf.MemberEvent{Type: serf.EventMemberJoin}
	ue := serf.UserEvent{Name: "deploy"}
	q := &serf.Query{Name: "up"}
	cases := []struct {
		f    EventFilter
		e    serf.Event
		want bool
	}{
		{EventFilter{"*", ""}, join, true},
		{EventFilter{"member-join", ""}, join, true},
		{EventFilter{"member-leave", ""}, join, false},
		{EventFilter{"user", ""}, ue, true},
		{EventFilter{"user", "deploy"}, ue, true},
		{EventFilter{"user", "other"}, ue, false},
		{EventFilter{"query", "up"}, q, true},
		{EventFilter{"query", "down"}, q, false},
		{EventFilter{"user", "up"}, q, false},
	}
	for _, tc := range cases {
		if got := tc.f.Matches(tc.e); got != tc.want {
			t.Errorf("%+v on %s: %v", tc.f, tc.e, got)
		}
	}
}

func TestScriptHandlerHungScriptDoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	var logs serftest.SyncBuffer
	logger := log.New(&logs, "", 0)
	marker := filepath.Join(dir, "ran")
	scripts := append(ParseEventScript("user:hang=sleep 31.25; true"), ParseEventScript("user:mark=touch "+marker)...)
	h := NewScriptHandler(func() serf.Member { return serf.Member{Name: "n"} }, scripts, logger)

	// Overflowing the queue must drop, not block. A HandleEvent that waited
	// for room would return only once the hung script ends (31.25 s), so
	// the bound below detects blocking without measuring speed.
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		h.HandleEvent(serf.UserEvent{Name: "hang"})
		for i := 0; i < 2*scriptQueueLen; i++ {
			h.HandleEvent(serf.UserEvent{Name: "mark"})
		}
	}()
	select {
	case <-handled:
	case <-time.After(20 * time.Second):
		t.Fatal("HandleEvent blocked behind the hung script")
	}
	waitFor(t, 3*time.Second, func() bool { return strings.Contains(logs.String(), "slow, execution exceeding 1s") })
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a later event ran before the hung script finished (order broken)")
	}
	if !strings.Contains(logs.String(), "queue full") {
		t.Error("no drop warning")
	}
	stopped := make(chan struct{})
	go func() { h.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not kill the hung script")
	}
	h.Stop() // idempotent
	// The shell's child went with it.
	waitFor(t, 3*time.Second, func() bool {
		out, _ := exec.Command("ps", "-eo", "args").Output()
		return !strings.Contains(string(out), "sleep 31.25")
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fileExists reports whether path exists.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// missing returns an error naming the first of paths that does not exist.
func missing(paths ...string) error {
	for _, p := range paths {
		if !fileExists(p) {
			return fmt.Errorf("%s does not exist", p)
		}
	}
	return nil
}

// gateScript is a script that marks itself started (started.<id>), waits
// for gate to exist, then marks itself done (done.<id>). id is expanded by
// the shell, so it may name a SERF_* variable.
func gateScript(dir, id, gate string) string {
	return fmt.Sprintf("touch %s/started.%s; while [ ! -e %s ]; do sleep 0.02; done; touch %s/done.%s",
		dir, id, gate, dir, id)
}

// Four slow queries run side by side: each script waits for a file the
// test creates only once all four have started.
func TestScriptHandlerQueriesRunConcurrently(t *testing.T) {
	dir := t.TempDir()
	gate := filepath.Join(dir, "go")
	scripts := ParseEventScript("query:slow=" + gateScript(dir, "$SERF_QUERY_LTIME", gate))
	h := NewScriptHandler(func() serf.Member { return serf.Member{Name: "n"} }, scripts, log.New(&serftest.SyncBuffer{}, "", 0))
	defer h.Stop()
	var started, done []string
	for i := 1; i <= 4; i++ {
		h.HandleEvent(&serf.Query{Name: "slow", LTime: serf.LamportTime(i)})
		started = append(started, filepath.Join(dir, fmt.Sprint("started.", i)))
		done = append(done, filepath.Join(dir, fmt.Sprint("done.", i)))
	}
	serftest.Eventually(t, 10*time.Second, func() error { return missing(started...) })
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	serftest.Eventually(t, 10*time.Second, func() error { return missing(done...) })
}

// A member-event script that has not finished does not hold back a query.
func TestScriptHandlerSlowMemberEventDoesNotDelayQuery(t *testing.T) {
	dir := t.TempDir()
	gate := filepath.Join(dir, "go")
	answered := filepath.Join(dir, "answered")
	scripts := append(ParseEventScript("member-join="+gateScript(dir, "join", gate)),
		ParseEventScript("query:ping=touch "+answered)...)
	h := NewScriptHandler(func() serf.Member { return serf.Member{Name: "n"} }, scripts, log.New(&serftest.SyncBuffer{}, "", 0))
	defer h.Stop()
	h.HandleEvent(serf.MemberEvent{Type: serf.EventMemberJoin})
	serftest.Eventually(t, 10*time.Second, func() error { return missing(filepath.Join(dir, "started.join")) })
	h.HandleEvent(&serf.Query{Name: "ping", LTime: 1})
	serftest.Eventually(t, 10*time.Second, func() error { return missing(answered) })
	if fileExists(filepath.Join(dir, "done.join")) {
		t.Fatal("the member-event script finished without its gate")
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	serftest.Eventually(t, 10*time.Second, func() error { return missing(filepath.Join(dir, "done.join")) })
}

// Beyond MaxConcurrentQueries, queries wait for a free worker, in order.
func TestScriptHandlerQueryPoolBounded(t *testing.T) {
	dir := t.TempDir()
	scripts := ParseEventScript("query:slow=" + gateScript(dir, "$SERF_QUERY_LTIME", dir+"/go.$SERF_QUERY_LTIME"))
	h := NewScriptHandlerWithOptions(func() serf.Member { return serf.Member{Name: "n"} }, scripts,
		log.New(&serftest.SyncBuffer{}, "", 0), ScriptOptions{MaxConcurrentQueries: 2})
	defer h.Stop()
	for i := 1; i <= 3; i++ {
		h.HandleEvent(&serf.Query{Name: "slow", LTime: serf.LamportTime(i)})
	}
	h.qmu.Lock()
	workers, pending := h.qworkers, len(h.qpending)
	h.qmu.Unlock()
	if workers != 2 || pending < 1 {
		t.Fatalf("%d query workers, %d pending; want 2 workers and the third query waiting", workers, pending)
	}
	path := func(name string, i int) string { return filepath.Join(dir, fmt.Sprint(name, ".", i)) }
	serftest.Eventually(t, 10*time.Second, func() error { return missing(path("started", 1), path("started", 2)) })
	if fileExists(path("started", 3)) {
		t.Fatal("a third query script started with two workers busy")
	}
	if err := os.WriteFile(path("go", 1), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	serftest.Eventually(t, 10*time.Second, func() error { return missing(path("done", 1), path("started", 3)) })
	for _, i := range []int{2, 3} {
		if err := os.WriteFile(path("go", i), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	serftest.Eventually(t, 10*time.Second, func() error { return missing(path("done", 2), path("done", 3)) })
	// The workers leave once the queue is empty.
	serftest.Eventually(t, 5*time.Second, func() error {
		h.qmu.Lock()
		defer h.qmu.Unlock()
		if h.qworkers != 0 {
			return fmt.Errorf("%d query workers still running", h.qworkers)
		}
		return nil
	})
}
