package agent

import (
	"strings"
	"testing"

	"github.com/serf-clone/serf/serf/serftest"
)

func TestLogSinkFilterGateAndRing(t *testing.T) {
	var console serftest.SyncBuffer
	if _, err := NewLogSink(&console, "verbose"); err == nil ||
		err.Error() != "Invalid log level: VERBOSE. Valid log levels are: [TRACE DEBUG INFO WARN ERR]" {
		t.Fatalf("bad level error: %v", err)
	}
	l, err := NewLogSink(&console, "info")
	if err != nil {
		t.Fatal(err)
	}
	lg := l.Logger()
	lg.Printf("[DEBUG] agent: hidden")
	lg.Printf("[INFO] agent: early")
	if console.String() != "" {
		t.Fatal("gate let a line through before Flush")
	}
	l.Flush()
	lg.Printf("[WARN] agent: late")
	out := console.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, "early") || !strings.Contains(out, "late") ||
		strings.Index(out, "early") > strings.Index(out, "late") {
		t.Fatalf("console %q", out)
	}
	var c collect
	l.Monitors().RegisterHandler(&c)
	if len(c.lines) != 3 || !strings.HasSuffix(c.lines[0], "[DEBUG] agent: hidden") {
		t.Fatalf("ring must keep every level: %q", c.lines)
	}
	if err := l.SetLevel("debug"); err != nil {
		t.Fatal(err)
	}
	lg.Printf("[DEBUG] agent: shown")
	if !strings.Contains(console.String(), "shown") {
		t.Fatal("SetLevel not applied")
	}
	if err := l.SetLevel("nope"); err == nil {
		t.Fatal("invalid level accepted")
	}
}

func TestSplitLevel(t *testing.T) {
	lvl, msg := splitLevel([]byte("2026/01/01 00:00:00 [WARN] agent: x"))
	if lvl != "WARN" || string(msg) != "agent: x" {
		t.Fatalf("%q %q", lvl, msg)
	}
}
