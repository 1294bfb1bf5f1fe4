package agent

import (
	"context"
	"log"
	"net"
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
	join := &serf.MemberEvent{Type: serf.EventMemberJoin}
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

// captureScript writes a script that dumps its SERF_* environment and stdin.
// Variables of that prefix the test process inherited (make test sets
// SERF_REAL_BIN, for one) are removed for the test, so the dump shows exactly
// what the agent adds.
func captureScript(t *testing.T, out string) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "SERF_") {
			t.Setenv(name, "") // restored when the test ends
			os.Unsetenv(name)
		}
	}
	return "(env | grep '^SERF_' | sort; echo '--- stdin:'; cat) > " + out + "; echo handled"
}

func TestRunEventScriptMemberEvent(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	var logs serftest.SyncBuffer
	logger := log.New(&logs, "", 0)
	self := serf.Member{Name: "beta", Tags: map[string]string{"role": "db", "dc-1.x": "e"}}
	e := &serf.MemberEvent{Type: serf.EventMemberJoin, Members: []serf.Member{
		{Name: "a\tb", Addr: net.ParseIP("127.0.0.1"), Tags: map[string]string{"role": "we\nb"}},
	}}
	if err := runEventScript(context.Background(), logger, captureScript(t, out), self, e); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want := "SERF_EVENT=member-join\nSERF_SELF_NAME=beta\nSERF_SELF_ROLE=db\nSERF_TAG_DC_1_X=e\nSERF_TAG_ROLE=db\n" +
		"--- stdin:\na\\tb\t127.0.0.1\twe\\nb\trole=we\\nb\n"
	if string(got) != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
	if !strings.Contains(logs.String(), "[DEBUG] agent: Event 'member-join' script output: handled\n") {
		t.Errorf("log: %q", logs.String())
	}
}

func TestRunEventScriptUserEventAndErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	var logs serftest.SyncBuffer
	logger := log.New(&logs, "", 0)
	self := serf.Member{Name: "n"}
	e := serf.UserEvent{LTime: 7, Name: "deploy", Payload: []byte("v1.2")}
	if err := runEventScript(context.Background(), logger, captureScript(t, out), self, e); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want := "SERF_EVENT=user\nSERF_SELF_NAME=n\nSERF_SELF_ROLE=\nSERF_USER_EVENT=deploy\nSERF_USER_LTIME=7\n--- stdin:\nv1.2\n"
	if string(got) != want {
		t.Errorf("got %q", got)
	}

	err := runEventScript(context.Background(), logger, "exit 3", self, e)
	if err == nil || err.Error() != "exit status 3" {
		t.Errorf("err %v", err)
	}

	// The ring keeps the last 8 KiB of output only.
	runEventScript(context.Background(), logger, "head -c 20000 /dev/zero | tr '\\0' a; printf END", self, e)
	if !strings.Contains(logs.String(), strings.Repeat("a", 8189)+"END\n") ||
		strings.Contains(logs.String(), strings.Repeat("a", 8190)+"END") {
		t.Error("output ring not 8192 bytes")
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
