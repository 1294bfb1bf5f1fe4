package serf

import "sync/atomic"

// LamportTime is a point on one of Serf's three logical clocks (member,
// event, query). It is a uint64 on the wire.
type LamportTime uint64

// LamportClock is a thread-safe Lamport clock. Serf keeps three of them,
// one each for membership intents, user events and queries.
type LamportClock struct {
	counter atomic.Uint64
}

// Time returns the current value of the clock.
func (l *LamportClock) Time() LamportTime {
	return LamportTime(l.counter.Load())
}

// Increment advances the clock by one and returns the new value.
func (l *LamportClock) Increment() LamportTime {
	return LamportTime(l.counter.Add(1))
}

// Witness moves the clock past v: if v is at or beyond the current value, the
// clock becomes v+1; an older v changes nothing. Witnessing the current value
// therefore advances the clock, which is what Serf relies on when it sends a
// join intent at Time() and then witnesses it.
func (l *LamportClock) Witness(v LamportTime) {
	for {
		cur := l.counter.Load()
		if uint64(v) < cur {
			return
		}
		if l.counter.CompareAndSwap(cur, uint64(v)+1) {
			return
		}
	}
}
