package agent

import (
	"context"
	"errors"
	"log"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

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
	e := serf.MemberEvent{Type: serf.EventMemberJoin, Members: []serf.Member{
		{Name: "a\tb", Addr: net.ParseIP("127.0.0.1"), Tags: map[string]string{"role": "we\nb"}},
	}}
	if err := runEventScript(context.Background(), logger, captureScript(t, out), 0, self, e); err != nil {
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
	if err := runEventScript(context.Background(), logger, captureScript(t, out), 0, self, e); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want := "SERF_EVENT=user\nSERF_SELF_NAME=n\nSERF_SELF_ROLE=\nSERF_USER_EVENT=deploy\nSERF_USER_LTIME=7\n--- stdin:\nv1.2\n"
	if string(got) != want {
		t.Errorf("got %q", got)
	}

	err := runEventScript(context.Background(), logger, "exit 3", 0, self, e)
	if err == nil || err.Error() != "exit status 3" {
		t.Errorf("err %v", err)
	}

	// The ring keeps the last 8 KiB of output only.
	_ = runEventScript(context.Background(), logger, "head -c 20000 /dev/zero | tr '\\0' a; printf END", 0, self, e)
	if !strings.Contains(logs.String(), strings.Repeat("a", 8189)+"END\n") ||
		strings.Contains(logs.String(), strings.Repeat("a", 8190)+"END") {
		t.Error("output ring not 8192 bytes")
	}
}

// envDump runs the capture script for e and returns its output.
func envDump(t *testing.T, self serf.Member, e serf.Event) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	logger := log.New(&serftest.SyncBuffer{}, "", 0)
	if err := runEventScript(context.Background(), logger, captureScript(t, out), 0, self, e); err != nil {
		t.Fatalf("script for %s: %v", e, err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

// Serf fails to start any script for a name with a NUL and passes a
// newline into the environment as is; both are escaped here.
func TestRunEventScriptEscapesNamesInEnv(t *testing.T) {
	self := serf.Member{Name: "n"}
	got := envDump(t, self, serf.UserEvent{LTime: 3, Name: "de\x00ploy"})
	want := "SERF_EVENT=user\nSERF_SELF_NAME=n\nSERF_SELF_ROLE=\nSERF_USER_EVENT=de\\0ploy\nSERF_USER_LTIME=3\n--- stdin:\n"
	if got != want {
		t.Errorf("NUL in user event name:\n got %q\nwant %q", got, want)
	}

	got = envDump(t, self, serf.UserEvent{LTime: 4, Name: "x\nSERF_EVENT=member-join\rq"})
	want = "SERF_EVENT=user\nSERF_SELF_NAME=n\nSERF_SELF_ROLE=\nSERF_USER_EVENT=x\\nSERF_EVENT=member-join\\rq\nSERF_USER_LTIME=4\n--- stdin:\n"
	if got != want {
		t.Errorf("newline in user event name:\n got %q\nwant %q", got, want)
	}

	got = envDump(t, self, &serf.Query{LTime: 5, Name: "q\x00\n"})
	want = "SERF_EVENT=query\nSERF_QUERY_LTIME=5\nSERF_QUERY_NAME=q\\0\\n\nSERF_SELF_NAME=n\nSERF_SELF_ROLE=\n--- stdin:\n"
	if got != want {
		t.Errorf("query name:\n got %q\nwant %q", got, want)
	}

	// The local member's tags and name go through the same rule; a
	// backslash is doubled only before a sequence letter.
	self = serf.Member{Name: `a\nb`, Tags: map[string]string{"role": "w\x00", "path": `C:\foo\new`}}
	got = envDump(t, self, serf.UserEvent{LTime: 6, Name: "d"})
	want = "SERF_EVENT=user\nSERF_SELF_NAME=a\\\\nb\nSERF_SELF_ROLE=w\\0\nSERF_TAG_PATH=C:\\foo\\\\new\nSERF_TAG_ROLE=w\\0\nSERF_USER_EVENT=d\nSERF_USER_LTIME=6\n--- stdin:\n"
	if got != want {
		t.Errorf("self:\n got %q\nwant %q", got, want)
	}
}

// Serf leaves ',', '=' and '\r' in tag values as they are on member-event
// stdin, so "k=a,b=c" cannot be told from two tags.
func TestMemberEventStdinEscapesTags(t *testing.T) {
	e := serf.MemberEvent{Type: serf.EventMemberJoin, Members: []serf.Member{
		{Name: "n\r1", Addr: net.ParseIP("127.0.0.2"), Tags: map[string]string{"k": "a,b=c\rd\\"}},
		{Name: "n2", Addr: net.ParseIP("127.0.0.3"), Tags: map[string]string{"x=y": "1"}},
		{Name: "n3", Addr: net.ParseIP("127.0.0.4"), Tags: map[string]string{"role": "db\x00"}},
	}}
	got := string(memberEventStdin(e))
	want := "n\\r1\t127.0.0.2\t\tk=a\\,b\\=c\\rd\\\\\n" +
		"n2\t127.0.0.3\t\tx\\=y=1\n" +
		"n3\t127.0.0.4\tdb\\0\trole=db\\0\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// Inputs without the escaped characters keep exactly Serf's bytes.
func TestEscapeKeepsSerfBytes(t *testing.T) {
	for _, s := range []string{"", "deploy", "web-1.example", `C:\foo`, `a\b\c`, "ünïcode", "sp ace", "semi;colon", "tab\tin env"} {
		if got := escapeEnv(s); got != s {
			t.Errorf("escapeEnv(%q) = %q", s, got)
		}
	}
	// Serf's own stdin escapes: tab and newline in names, role and tags.
	for in, want := range map[string]string{"a\tb": `a\tb`, "we\nb": `we\nb`, `C:\foo`: `C:\foo`} {
		if got := escapeField(in); got != want {
			t.Errorf("escapeField(%q) = %q, want %q", in, got, want)
		}
		if got := escapeTag(in); got != want {
			t.Errorf("escapeTag(%q) = %q, want %q", in, got, want)
		}
	}
}

// unescapeInput decodes escapeInput's output for one context.
func unescapeInput(s, specials string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		n := s[i+1]
		switch {
		case n == '\\':
			b.WriteByte('\\')
			i++
		case isEscapeCode(specials, n):
			for j := 0; j < len(specials); j++ {
				if escapeCode(specials[j]) == n {
					b.WriteByte(specials[j])
				}
			}
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitUnescaped splits s at sep where sep is not escaped.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// The rule is reversible in each context, and a tag list splits back into
// its keys and values.
func TestEscapeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const alphabet = "\\\\\\tnr0,=x\t\n\r\x00"
	random := func() string {
		b := make([]byte, rng.Intn(8))
		for i := range b {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(b)
	}
	for i := 0; i < 20000; i++ {
		s := random()
		if got := unescapeInput(escapeEnv(s), envSpecials); got != s {
			t.Fatalf("env %q -> %q -> %q", s, escapeEnv(s), got)
		}
		if strings.ContainsAny(escapeEnv(s), "\x00\n\r") {
			t.Fatalf("env %q -> %q", s, escapeEnv(s))
		}
		if got := unescapeInput(escapeField(s), fieldSpecials); got != s || strings.ContainsAny(escapeField(s), "\x00\t\n\r") {
			t.Fatalf("field %q -> %q -> %q", s, escapeField(s), got)
		}
		k, v := s, random()
		line := escapeTag(k) + "=" + escapeTag(v) + "," + escapeTag(v) + "=" + escapeTag(k)
		pairs := splitUnescaped(line, ',')
		if len(pairs) != 2 {
			t.Fatalf("tags %q=%q: %q splits into %q", k, v, line, pairs)
		}
		kv := splitUnescaped(pairs[0], '=')
		if len(kv) != 2 || unescapeInput(kv[0], tagSpecials) != k || unescapeInput(kv[1], tagSpecials) != v {
			t.Fatalf("tags %q=%q: %q gives %q", k, v, line, kv)
		}
	}
}

// psHas reports whether a running process has s in its command line.
func psHas(t *testing.T, s string) bool {
	out, err := exec.Command("ps", "-eo", "args").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(out), s)
}

func TestRunEventScriptTimeoutKillsProcessGroup(t *testing.T) {
	logger := log.New(&serftest.SyncBuffer{}, "", 0)
	e := serf.UserEvent{Name: "d"}
	// A background child and a foreground child, both in the script's
	// process group.
	script := "sleep 31.625 & sleep 31.375; true"
	err := runEventScript(context.Background(), logger, script, 300*time.Millisecond, serf.Member{}, e)
	if err == nil || err.Error() != "timed out after 300ms (event handler timeout), killed" {
		t.Fatalf("err = %v", err)
	}
	serftest.Eventually(t, 5*time.Second, func() error {
		if psHas(t, "sleep 31.625") || psHas(t, "sleep 31.375") {
			return errors.New("a child of the timed-out script is still running")
		}
		return nil
	})

	// No timeout: the script runs to its end.
	if err := runEventScript(context.Background(), logger, "sleep 0.2", 0, serf.Member{}, e); err != nil {
		t.Fatal(err)
	}
}

func TestScriptHandlerTimeoutLogged(t *testing.T) {
	var logs serftest.SyncBuffer
	script := "echo started >&2; sleep 31.875; true"
	h := NewScriptHandlerWithOptions(func() serf.Member { return serf.Member{Name: "n"} },
		ParseEventScript("user="+script), log.New(&logs, "", 0), ScriptOptions{Timeout: 200 * time.Millisecond})
	defer h.Stop()
	h.HandleEvent(serf.UserEvent{Name: "d"})
	want := "[ERR] agent: Error invoking script '" + script + "': timed out after 200ms (event handler timeout), killed\n" +
		"[ERR] agent: Script '" + script + "' output: started\n"
	serftest.Eventually(t, 10*time.Second, func() error {
		if !logs.Contains(want) {
			return errors.New("no timeout lines in log:\n" + logs.String())
		}
		return nil
	})
}

// serf#242: a failure is logged with the tail of the script's output, so
// its error message is seen, not just "exit status 1".
func TestScriptFailureLogsOutput(t *testing.T) {
	var logs serftest.SyncBuffer
	failing := "echo out; echo oops >&2; printf 'second\\033[1m\\n' >&2; exit 1"
	long := "(head -c 10000 /dev/zero | tr '\\0' e; echo TAIL) >&2; exit 2"
	quiet := "exit 3"
	var scripts []EventScript
	for _, s := range []string{failing, long, quiet} {
		scripts = append(scripts, ParseEventScript("user="+s)...)
	}
	h := NewScriptHandler(func() serf.Member { return serf.Member{Name: "n"} }, scripts, log.New(&logs, "", 0))
	defer h.Stop()
	h.HandleEvent(serf.UserEvent{Name: "d"})
	serftest.Eventually(t, 10*time.Second, func() error {
		if !logs.Contains("Error invoking script '" + quiet + "'") {
			return errors.New("scripts not done")
		}
		return nil
	})
	got := logs.String()
	for _, want := range []string{
		// The output keeps the order the script wrote it in (one pipe).
		"[DEBUG] agent: Event 'user' script output: out\noops\nsecond\x1b[1m\n",
		// Serf's line, then the output line by line, control bytes shown.
		"[ERR] agent: Error invoking script '" + failing + "': exit status 1\n" +
			"[ERR] agent: Script '" + failing + "' output: out\n" +
			"[ERR] agent: Script '" + failing + "' output: oops\n" +
			"[ERR] agent: Script '" + failing + "' output: second\\x1b[1m\n",
		// Only the last 4 KiB.
		"[ERR] agent: Error invoking script '" + long + "': exit status 2\n" +
			"[ERR] agent: Script '" + long + "' output: " + strings.Repeat("e", 4096-len("TAIL\n")) + "TAIL\n",
		// No output: Serf's line alone.
		"[ERR] agent: Error invoking script '" + quiet + "': exit status 3\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(got, "Script '"+long+"' output: "+strings.Repeat("e", 4096-len("TAIL\n")+1)) ||
		strings.Contains(got, "Script '"+quiet+"' output") {
		t.Errorf("failure output not bounded or invented:\n%s", got)
	}
}
