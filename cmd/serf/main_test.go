package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// The agent's runtime defaults apply only where the environment is silent.
func TestAgentRuntimeDefaults(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	gc := debug.SetGCPercent(100)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gc)
	})

	t.Setenv("GOMAXPROCS", "")
	t.Setenv("GOGC", "")
	runtime.GOMAXPROCS(2)
	debug.SetGCPercent(100)
	agentRuntime()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS unset: %d procs, want 1", got)
	}
	if got := debug.SetGCPercent(100); got != agentGCPercent {
		t.Errorf("GOGC unset: GC percent %d, want %d", got, agentGCPercent)
	}

	// What the environment asked for was applied by the runtime at start;
	// agentRuntime must leave it alone.
	t.Setenv("GOMAXPROCS", "2")
	t.Setenv("GOGC", "200")
	runtime.GOMAXPROCS(2)
	debug.SetGCPercent(200)
	agentRuntime()
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("GOMAXPROCS=2: %d procs", got)
	}
	if got := debug.SetGCPercent(100); got != 200 {
		t.Errorf("GOGC=200: GC percent %d", got)
	}
}
