package agent

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf/serftest"
)

// decodeJSONLines parses every line of out as one log object.
func decodeJSONLines(t *testing.T, out string) []map[string]string {
	t.Helper()
	var recs []map[string]string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var r map[string]string
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		for _, k := range []string{"@timestamp", "@level", "@module", "@message"} {
			if _, ok := r[k]; !ok {
				t.Fatalf("no %s in %q", k, line)
			}
		}
		if _, err := time.Parse(JSONTimeFormat, r["@timestamp"]); err != nil {
			t.Fatalf("bad @timestamp in %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestJSONFromLogLine(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	for _, tc := range []struct{ in, level, module, msg string }{
		{"2026/01/02 03:04:05 [INFO] agent: joining: [127.0.0.1] replay: false\n", "info", "agent", "joining: [127.0.0.1] replay: false"},
		{"2026/01/02 03:04:05 [ERR] memberlist: Failed to send: x\n", "error", "memberlist", "Failed to send: x"},
		{"2026/01/02 03:04:05 [WARN] serf: two\nlines\n", "warn", "serf", "two\nlines"},
		{"2026/01/02 03:04:05 [DEBUG] no module here\n", "debug", "", "no module here"},
		{"plain text\n", "info", "", "plain text"},
	} {
		out := jsonFromLogLine([]byte(tc.in), now)
		if strings.Count(string(out), "\n") != 1 || !strings.HasSuffix(string(out), "\n") {
			t.Errorf("%q: not one line: %q", tc.in, out)
		}
		var r map[string]string
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		if r["@level"] != tc.level || r["@module"] != tc.module || r["@message"] != tc.msg ||
			r["@timestamp"] != "2026-01-02T03:04:05.000006Z" {
			t.Errorf("%q -> %v", tc.in, r)
		}
	}
}

type jsonCollect struct {
	mu    sync.Mutex
	lines []string
}

func (c *jsonCollect) HandleLog(l string) {
	c.mu.Lock()
	c.lines = append(c.lines, l)
	c.mu.Unlock()
}

func TestLogSinkJSON(t *testing.T) {
	console := &serftest.SyncBuffer{}
	sink, err := NewLogSink(console, "INFO")
	if err != nil {
		t.Fatal(err)
	}
	sink.SetJSON(true)
	sink.Flush()
	mon := &jsonCollect{}
	sink.Monitors().RegisterHandler(mon)
	l := sink.Logger()
	l.Printf("[DEBUG] agent: hidden on the console")
	l.Printf("[INFO] agent: shown")
	l.Printf("[ERR] serf: bad")

	recs := decodeJSONLines(t, console.String())
	if len(recs) != 2 || recs[0]["@message"] != "shown" || recs[1]["@level"] != "error" || recs[1]["@module"] != "serf" {
		t.Fatalf("console: %v", recs)
	}
	mon.mu.Lock()
	lines := strings.Join(mon.lines, "\n")
	mon.mu.Unlock()
	if recs := decodeJSONLines(t, lines); len(recs) != 3 || recs[0]["@level"] != "debug" {
		t.Fatalf("monitor: %v", recs)
	}
	// Monitors filter JSON lines by their level.
	f := newLevelFilter("WARN", nil)
	for _, tc := range []struct {
		line string
		pass bool
	}{{mon.lines[0], false}, {mon.lines[1], false}, {mon.lines[2], true}} {
		if got := f.Check(levelProbe([]byte(tc.line))); got != tc.pass {
			t.Errorf("WARN filter on %s: %v, want %v", tc.line, got, tc.pass)
		}
	}
}

func TestLogSinkTextUnchanged(t *testing.T) {
	console := &serftest.SyncBuffer{}
	sink, err := NewLogSink(console, "INFO")
	if err != nil {
		t.Fatal(err)
	}
	sink.Flush()
	sink.Logger().Printf("[INFO] agent: shown")
	if out := console.String(); !strings.HasSuffix(out, " [INFO] agent: shown\n") || strings.Contains(out, "{") {
		t.Fatalf("text output changed: %q", out)
	}
	if p := levelProbe([]byte("x [INFO] y")); string(p) != "x [INFO] y" {
		t.Errorf("levelProbe changed a text line: %q", p)
	}
}
