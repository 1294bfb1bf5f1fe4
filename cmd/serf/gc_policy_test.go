package main

import (
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// The policy turns busy at once above its upper threshold, holds between
// the thresholds, and turns quiet only after settle below the lower one
// (a dip of one reading in a storm is not calm).
func TestGCPolicySwitchesWithHysteresis(t *testing.T) {
	p := agentGCPolicy()
	at := time.Unix(1000, 0)
	for i, step := range []struct {
		after time.Duration // since the previous reading
		rate  float64
		want  int
	}{
		{0, 100 << 10, agentGCPercent},
		{gcPolicyPeriod, 800 << 10, agentGCPercent}, // between: stays quiet
		{gcPolicyPeriod, 2 << 20, agentBusyGCPercent},
		{gcPolicyPeriod, 800 << 10, agentBusyGCPercent}, // between: stays busy
		{gcPolicyPeriod, 300 << 10, agentBusyGCPercent}, // below, not yet settled
		{p.settle - time.Millisecond, 300 << 10, agentBusyGCPercent},
		{gcPolicyPeriod, 2 << 20, agentBusyGCPercent}, // the dip ends
		{gcPolicyPeriod, 300 << 10, agentBusyGCPercent},
		{p.settle, 300 << 10, agentGCPercent}, // settled
	} {
		at = at.Add(step.after)
		if got := p.next(at, step.rate); got != step.want {
			t.Fatalf("reading %d, rate %.0f B/s: GOGC %d, want %d", i, step.rate, got, step.want)
		}
	}
}

// The upkeep (hand pages back, and the first time also unmap code) runs
// only once the agent has settled: not before holdOff after start, not
// during a storm, not on a one-reading dip in one, and as soon as a storm
// has calmed (spread, tested below, is off here).
func TestGCPolicyUpkeepWaitsForCalm(t *testing.T) {
	p := agentGCPolicy()
	p.spread = nil
	start := time.Unix(1000, 0)
	p.upkeepDue, p.codeMapped = start.Add(p.holdOff), true // as run starts
	quiet, mid, busy := float64(100<<10), float64(800<<10), float64(4<<20)
	h, r := p.holdOff, p.returnEvery
	for i, step := range []struct {
		at   time.Duration // since start
		rate float64
		want gcActions
	}{
		{2 * time.Second, quiet, gcActions{}},
		{r, quiet, gcActions{}},               // settled, but too soon after start
		{h - time.Second, quiet, gcActions{}}, // still too soon
		{h, quiet, gcActions{freeMemory: true, unmapCode: true}},
		{h + 2*time.Second, quiet, gcActions{}},
		{h + r, quiet, gcActions{freeMemory: true}}, // periodic: no code to unmap
		{h + r + 2*time.Second, busy, gcActions{setPercent: true}},
		{h + 2*r, busy, gcActions{}},
		{h + 2*r + 2*time.Second, quiet, gcActions{}}, // a dip in the storm
		{h + 2*r + 4*time.Second, busy, gcActions{}},
		{h + 2*r + 6*time.Second, quiet, gcActions{}},
		{h + 2*r + 6*time.Second + p.settle, quiet, gcActions{setPercent: true, freeMemory: true, unmapCode: true}},
		{h + 2*r + 8*time.Second + p.settle, quiet, gcActions{}},
		// Quiet, but allocating between the thresholds when the next
		// upkeep falls due: it waits until the rate has settled again.
		{h + 3*r + 6*time.Second + p.settle, mid, gcActions{}},
		{h + 3*r + 8*time.Second + p.settle, quiet, gcActions{}},
		{h + 3*r + 8*time.Second + 2*p.settle, quiet, gcActions{freeMemory: true}},
	} {
		if got := p.observe(start.Add(step.at), step.rate); got != step.want {
			t.Fatalf("reading %d (%v after start, %.0f B/s): %+v, want %+v", i, step.at, step.rate, got, step.want)
		}
	}
}

// Agents calmed by the same storm spread their upkeeps: the first after
// calm waits for spread's share of returnEvery.
func TestGCPolicySpreadsTheUpkeepAfterAStorm(t *testing.T) {
	p := agentGCPolicy()
	p.spread = func() float64 { return 1.0 / 3 } // 5 s of 15
	at := time.Unix(1000, 0)
	p.upkeepDue = at
	p.observe(at, 4<<20) // busy
	at = at.Add(gcPolicyPeriod)
	p.observe(at, 100<<10)
	at = at.Add(p.settle)
	if got := p.observe(at, 100<<10); got != (gcActions{setPercent: true}) {
		t.Fatalf("at calm: %+v, want GOGC set and no upkeep yet", got)
	}
	at = at.Add(5*time.Second - time.Millisecond)
	if got := p.observe(at, 100<<10); got != (gcActions{}) {
		t.Fatalf("before the spread delay: %+v, want nothing", got)
	}
	at = at.Add(time.Millisecond)
	if got := p.observe(at, 100<<10); got != (gcActions{freeMemory: true, unmapCode: true}) {
		t.Fatalf("after the spread delay: %+v, want the upkeep", got)
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
		p := agentGCPolicy()
		p.settle = 60 * time.Millisecond
		p.run(20*time.Millisecond, stop)
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
	p.settle = 30 * time.Millisecond
	p.returnEvery, p.holdOff = 50*time.Millisecond, 50*time.Millisecond

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
