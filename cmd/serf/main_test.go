package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// The agent's runtime defaults apply only where the environment is silent;
// what it sets was applied by the runtime at start and is left alone.
func TestAgentRuntimeDefaults(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	gc := debug.SetGCPercent(100)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gc)
	})
	for _, c := range []struct {
		procsEnv, gcEnv    string
		atStart, gcAtStart int // what the runtime took from the environment
		wantProcs, wantGC  int
	}{
		{"", "", 2, 100, 1, agentGCPercent},
		{"2", "200", 2, 200, 2, 200},
	} {
		t.Setenv("GOMAXPROCS", c.procsEnv)
		t.Setenv("GOGC", c.gcEnv)
		runtime.GOMAXPROCS(c.atStart)
		debug.SetGCPercent(c.gcAtStart)
		stop := agentRuntime()
		stop()
		if got := runtime.GOMAXPROCS(0); got != c.wantProcs {
			t.Errorf("GOMAXPROCS=%q: %d procs, want %d", c.procsEnv, got, c.wantProcs)
		}
		if got := debug.SetGCPercent(100); got != c.wantGC {
			t.Errorf("GOGC=%q: GC percent %d, want %d", c.gcEnv, got, c.wantGC)
		}
	}
}
