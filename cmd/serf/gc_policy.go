package main

import (
	"math/rand/v2"
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
	// settle is how long the rate must stay below quietBelow before the
	// agent counts as quiet again: only then does GOGC come back down and
	// does the upkeep run (handing pages back, unmapping code). Both touch
	// every free page, and each madvise flushes the TLB of every CPU, so
	// done by hundreds of agents in the middle of a storm, whose rate dips
	// for a moment, they took a sixth of a 2-core machine (BENCHMARKS.md,
	// "session 14").
	settle time.Duration
	// returnEvery is how often, while quiet, the policy collects and hands
	// free heap pages back to the system.
	returnEvery time.Duration
	// holdOff is how long after start the first upkeep waits (plus
	// spread), however quiet the agent is until then.
	holdOff    time.Duration
	current    int
	belowSince time.Time // since when the rate is below quietBelow; zero while it is not
	upkeepDue  time.Time // when the next upkeep may run
	codeMapped bool      // code pages to unmap at the next upkeep
	// spread gives the share of returnEvery, at random in [0, 1), added
	// to the first upkeep after start and after a storm (nil: none).
	// Agents started together, or calmed by the same storm, would
	// otherwise all do it within the same second; 160 of them doing it
	// within five seconds after a storm were followed by a wave of
	// suspicions (BENCHMARKS.md, "session 14").
	spread func() float64
}

// gcActions is what one reading of the allocation rate asks of the
// runtime.
type gcActions struct {
	setPercent bool // GOGC is now current
	freeMemory bool // collect and hand free pages back (debug.FreeOSMemory)
	unmapCode  bool // and unmap code pages (releaseCodePages)
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
		settle:       3 * gcPolicyPeriod,
		returnEvery:  quietReturnEvery,
		holdOff:      startupHoldOff,
		current:      agentGCPercent,
		spread:       rand.Float64,
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

// next is the GOGC after a reading of rate bytes allocated per second at
// now: busy at once above busyAbove, quiet again only after settle below
// quietBelow, unchanged in between.
func (p *gcPolicy) next(now time.Time, rate float64) int {
	switch {
	case rate > p.busyAbove:
		p.belowSince = time.Time{}
		p.current = p.busyPercent
	case rate < p.quietBelow:
		if p.belowSince.IsZero() {
			p.belowSince = now
		}
		if p.settled(now) {
			p.current = p.quietPercent
		}
	default:
		p.belowSince = time.Time{}
	}
	return p.current
}

// settled reports whether the rate has been below quietBelow for settle.
func (p *gcPolicy) settled(now time.Time) bool {
	return !p.belowSince.IsZero() && now.Sub(p.belowSince) >= p.settle
}

// observe takes one reading of rate bytes allocated per second at now and
// says what to do. Once the agent has settled, and again every
// returnEvery while it stays quiet, it asks for the upkeep: collect and
// hand free pages back. The first upkeep after start-up, and the first
// after each busy spell, also unmaps the code that start-up or the storm
// ran (code_pages_linux.go). The first comes no sooner than holdOff after
// start (plus spread); the first after a storm comes once the agent has
// settled, plus spread.
func (p *gcPolicy) observe(now time.Time, rate float64) gcActions {
	var do gcActions
	before := p.current
	if p.next(now, rate) != before {
		do.setPercent = true
		if p.current == p.quietPercent {
			// Calm after a storm: hand its garbage pages and the code it
			// ran back soon, not at the scavenger's pace.
			p.upkeepDue, p.codeMapped = now.Add(p.spreadDelay()), true
		}
	}
	if p.current == p.quietPercent && p.settled(now) && !now.Before(p.upkeepDue) {
		do.freeMemory, do.unmapCode = true, p.codeMapped
		p.upkeepDue, p.codeMapped = now.Add(p.returnEvery), false
	}
	return do
}

// spreadDelay is spread's share of returnEvery, or none without spread.
func (p *gcPolicy) spreadDelay() time.Duration {
	if p.spread == nil {
		return 0
	}
	return time.Duration(p.spread() * float64(p.returnEvery))
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
	p.upkeepDue, p.codeMapped = lastAt.Add(p.holdOff+p.spreadDelay()), true
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
			do := p.observe(now, rate)
			if do.setPercent {
				debug.SetGCPercent(p.current)
			}
			if do.freeMemory {
				debug.FreeOSMemory()
			}
			if do.unmapCode {
				// An error (no /proc) only leaves the pages mapped.
				_, _ = releaseCodePages()
			}
		}
	}
}
