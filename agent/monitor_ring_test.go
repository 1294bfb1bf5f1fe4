package agent

import (
	"fmt"
	"reflect"
	"testing"
)

// collect is a LogHandler that keeps what it is handed.
type collect struct{ lines []string }

func (c *collect) HandleLog(l string) { c.lines = append(c.lines, l) }

func TestMonitorRingReplay(t *testing.T) {
	w := NewMonitorRing(4)
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
	w2 := NewMonitorRing(4)
	fmt.Fprintf(w2, "only\n")
	w2.RegisterHandler(&short)
	if !reflect.DeepEqual(short.lines, []string{"only"}) {
		t.Fatalf("partial ring replay %v", short.lines)
	}
}
