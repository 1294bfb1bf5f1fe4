package serf

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkMemberCoalescerBatch64 measures one batch of a 64-node cluster
// coming up: 64 single-member joins merged into one event.
func BenchmarkMemberCoalescerBatch64(b *testing.B) {
	events := make([]Event, 64)
	for i := range events {
		events[i] = joinOf(fmt.Sprintf("node-%02d", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		c := newMemberEventCoalescer()
		for _, e := range events {
			c.add(e)
		}
		if out := c.flush(); len(out) != 1 {
			b.Fatalf("flush gave %d events", len(out))
		}
	}
}

// BenchmarkMemberCoalescerSteadyUpdates measures a long-lived coalescer
// absorbing tag updates from a 64-node cluster, one flush per 64 events.
func BenchmarkMemberCoalescerSteadyUpdates(b *testing.B) {
	events := make([]Event, 64)
	for i := range events {
		events[i] = memberEv(EventMemberUpdate, fmt.Sprintf("node-%02d", i))
	}
	c := newMemberEventCoalescer()
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			c.add(e)
		}
		c.flush()
	}
}

// BenchmarkUserCoalescer measures a burst of 64 events over 8 names with
// increasing Lamport times.
func BenchmarkUserCoalescer(b *testing.B) {
	events := make([]Event, 64)
	for i := range events {
		events[i] = userEv(fmt.Sprintf("name-%d", i%8), LamportTime(i/8), "payload")
	}
	c := newUserEventCoalescer()
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			c.add(e)
		}
		if out := c.flush(); len(out) != 8 {
			b.Fatalf("flush gave %d events", len(out))
		}
	}
}

// BenchmarkCoalesceLoopPassThrough measures the goroutine hop for events
// the coalescer does not hold.
func BenchmarkCoalesceLoopPassThrough(b *testing.B) {
	out := make(chan Event, 1024)
	shutdown := make(chan struct{})
	in, done := startCoalescer(out, shutdown, time.Hour, time.Hour, newMemberEventCoalescer())
	e := UserEvent{Name: "x"}
	b.ReportAllocs()
	for b.Loop() {
		in <- e
		<-out
	}
	close(shutdown)
	<-done
}
