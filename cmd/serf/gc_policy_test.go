package main

import (
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// The policy switches at the thresholds and holds between them.
func TestGCPolicySwitchesWithHysteresis(t *testing.T) {
	p := agentGCPolicy()
	for _, step := range []struct {
		rate float64
		want int
	}{
		{100 << 10, agentGCPercent},
		{800 << 10, agentGCPercent}, // between: stays quiet
		{2 << 20, agentBusyGCPercent},
		{800 << 10, agentBusyGCPercent}, // between: stays busy
		{300 << 10, agentGCPercent},
	} {
		if got := p.next(step.rate); got != step.want {
			t.Fatalf("rate %.0f B/s: GOGC %d, want %d", step.rate, got, step.want)
		}
	}
}

// Run against the real runtime: allocating fast raises GOGC, stopping
// brings it back, and the runtime's own gauge shows both.
func TestGCPolicyFollowsTheAllocationRate(t *testing.T) {
	gc := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(gc) })

	stop, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		agentGCPolicy().run(20*time.Millisecond, stop)
	}()
	defer func() { close(stop); <-exited }()

	waitGOGC(t, agentGCPercent, nil)
	var sink []byte
	waitGOGC(t, agentBusyGCPercent, func() {
		for range 64 {
			sink = make([]byte, 64<<10)
		}
	})
	_ = sink
	waitGOGC(t, agentGCPercent, nil)
}

// While quiet the policy collects and returns free pages every returnEvery
// (debug.FreeOSMemory, a forced collection the runtime counts).
func TestGCPolicyHandsPagesBackWhileQuiet(t *testing.T) {
	gc := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(gc) })
	p := agentGCPolicy()
	p.returnEvery = 50 * time.Millisecond

	forced := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(forced)
	before := forced[0].Value.Uint64()

	stop, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		p.run(10*time.Millisecond, stop)
	}()
	defer func() { close(stop); <-exited }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		metrics.Read(forced)
		if got := forced[0].Value.Uint64() - before; got >= 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d forced collections in 10s, want at least 3", forced[0].Value.Uint64()-before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGOGC runs work (if any) until the runtime reports GOGC want, for
// at most ten seconds.
func waitGOGC(t *testing.T, want int, work func()) {
	t.Helper()
	sample := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		metrics.Read(sample)
		got := int(sample[0].Value.Uint64())
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC %d after 10s, want %d", got, want)
		}
		if work != nil {
			work()
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
}
