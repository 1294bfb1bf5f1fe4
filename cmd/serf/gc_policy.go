package main

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The agent's garbage collection policy, used unless GOGC is set.
//
// An idle agent without an encryption key allocates 10–20 KiB/s (its
// transport compresses, and with a key also encrypts, in memberlist's
// place with reused coders) and keeps under 1 MiB live: a low GOGC there
// only trims resident memory (agentRuntime). In a join
// storm or a wave of failures the same agent allocates megabytes a
// second, and at GOGC=50 it then collects several times a second, each
// time with assists that slow the very probes and acks that decide
// whether members are seen as alive. On a machine shared by hundreds of
// agents that extra CPU is what tips the cluster into false failures
// that feed on themselves (BENCHMARKS.md, "N=256"). So the policy looks
// at the allocation rate every gcPolicyPeriod and switches between two
// targets, with a gap between the thresholds so that it does not flap.
type gcPolicy struct {
	quietPercent, busyPercent int
	busyAbove, quietBelow     float64 // bytes allocated per second
	// returnEvery is how often, while quiet, the policy collects and hands
	// free heap pages back to the system.
	returnEvery time.Duration
	current     int
}

// gcPolicyPeriod is how often the allocation rate is read: often enough
// to catch a storm in its first seconds, rare enough to cost nothing.
const gcPolicyPeriod = 2 * time.Second

// agentGCPolicy is the policy serf agent runs with.
func agentGCPolicy() *gcPolicy {
	return &gcPolicy{
		quietPercent: agentGCPercent,
		busyPercent:  agentBusyGCPercent,
		busyAbove:    1 << 20,
		quietBelow:   512 << 10,
		returnEvery:  quietReturnEvery,
		current:      agentGCPercent,
	}
}

// quietReturnEvery is how often a quiet agent collects and hands its free
// heap pages back to the system: a collection of its 1–2 MiB heap costs
// about a millisecond, and the background scavenger would keep up to about
// 1 MiB of them resident for minutes. An idle agent allocates so little
// that these are nearly its only collections; every 15 s instead of 30 s
// kept about 0.1 MiB less resident at no idle CPU we could measure
// (BENCHMARKS.md, session 9).
const quietReturnEvery = 15 * time.Second

// agentBusyGCPercent is GOGC while the agent allocates fast. With a live
// heap of a few MiB it lets garbage grow by some MiB between collections,
// which a storm of a minute can afford and an idle agent never keeps.
const agentBusyGCPercent = 400

// next is the GOGC for an allocation rate of rate bytes per second.
func (p *gcPolicy) next(rate float64) int {
	switch {
	case rate > p.busyAbove:
		p.current = p.busyPercent
	case rate < p.quietBelow:
		p.current = p.quietPercent
	}
	return p.current
}

// run applies the policy until stop is closed: it sets GOGC to the quiet
// target, then reads the heap's allocation counter every period.
func (p *gcPolicy) run(period time.Duration, stop <-chan struct{}) {
	debug.SetGCPercent(p.current)
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	last, lastAt := read(), time.Now()
	returned := lastAt // when free heap pages were last handed back
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			allocated := read()
			rate := float64(allocated-last) / now.Sub(lastAt).Seconds()
			last, lastAt = allocated, now
			before := p.current
			if p.next(rate) == before {
				if p.current == p.quietPercent && now.Sub(returned) >= p.returnEvery {
					// Still quiet: hand back now what the scavenger would
					// at its own pace.
					debug.FreeOSMemory()
					returned = now
				}
				continue
			}
			debug.SetGCPercent(p.current)
			if p.current < before {
				// Back to quiet: collect now and hand the storm's
				// garbage pages back, instead of keeping them resident
				// until the next collection and the scavenger's pace,
				// and unmap the code the storm ran (code_pages_linux.go).
				debug.FreeOSMemory()
				_, _ = releaseCodePages()
				returned = now
			}
		}
	}
}
