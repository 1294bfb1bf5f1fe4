package agent

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/serf-clone/serf/serf/serftest"
)

type collect struct{ lines []string }

func (c *collect) HandleLog(l string) { c.lines = append(c.lines, l) }

func TestLogWriterRingReplay(t *testing.T) {
	w := NewLogWriter(4)
	for i := 0; i < 6; i++ {
		fmt.Fprintf(w, "line %d\n", i)
	}
	var c collect
	w.RegisterHandler(&c)
	if !reflect.DeepEqual(c.lines, []string{"line 2", "line 3", "line 4", "line 5"}) {
		t.Fatalf("replay %v", c.lines)
	}
	fmt.Fprintf(w, "line 6\n")
	if c.lines[len(c.lines)-1] != "line 6" {
		t.Fatal("live line not delivered")
	}
	w.DeregisterHandler(&c)
	fmt.Fprintf(w, "line 7\n")
	if len(c.lines) != 5 {
		t.Fatal("delivered after deregistration")
	}

	var short collect
	w2 := NewLogWriter(4)
	fmt.Fprintf(w2, "only\n")
	w2.RegisterHandler(&short)
	if !reflect.DeepEqual(short.lines, []string{"only"}) {
		t.Fatalf("partial ring replay %v", short.lines)
	}
}

func TestLogsFilterGateAndRing(t *testing.T) {
	var console serftest.SyncBuffer
	if _, err := NewLogs(&console, "verbose"); err == nil ||
		err.Error() != "Invalid log level: VERBOSE. Valid log levels are: [TRACE DEBUG INFO WARN ERR]" {
		t.Fatalf("bad level error: %v", err)
	}
	l, err := NewLogs(&console, "info")
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
	l.Ring().RegisterHandler(&c)
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
