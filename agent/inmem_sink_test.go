package agent

import (
	"slices"
	"strings"
	"testing"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// TestInmemSinkAllocatesOnlyForNewKeys is the reason the sink exists: a
// metric whose key the interval has seen costs no allocation.
func TestInmemSinkAllocatesOnlyForNewKeys(t *testing.T) {
	s := newInmemSink(time.Hour, 6*time.Hour)
	key := []string{"serf-agent", "memberlist", "udp", "received"}
	labels := []metrics.Label{{Name: "network", Value: "lan"}}
	s.IncrCounterWithLabels(key, 1, labels)
	s.AddSample(key, 1)
	s.SetGauge(key, 1)
	allocs := testing.AllocsPerRun(100, func() {
		s.IncrCounterWithLabels(key, 120, labels)
		s.AddSample(key, 3)
		s.SetGauge(key, 2)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per three metrics of known keys, want 0", allocs)
	}
	intv := s.periods[len(s.periods)-1]
	c := intv.counters["serf-agent.memberlist.udp.received;network=lan"]
	if c == nil || c.agg.Count != 102 || c.agg.Sum != 1+101*120 {
		t.Errorf("counter after 102 increments: %+v", c)
	}
}

// handClock is a clock a test moves by hand.
type handClock struct{ t time.Time }

func (c *handClock) now() time.Time { return c.t }

// TestInmemSinkKeepsItsLastIntervals drives the sink's clock by hand: a
// new interval starts when time leaves the last one, and only retain's
// worth are kept, the one being filled included.
func TestInmemSinkKeepsItsLastIntervals(t *testing.T) {
	s := newInmemSink(10*time.Second, time.Minute)
	t0 := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	clock := &handClock{}
	s.now = clock.now
	for i := range 9 {
		clock.t = t0.Add(time.Duration(i)*10*time.Second + 3*time.Second)
		first := s.current()
		clock.t = clock.t.Add(5 * time.Second)
		if s.current() != first {
			t.Fatalf("interval %d: two times in one interval got two periods", i)
		}
	}
	if len(s.periods) != 6 {
		t.Fatalf("%d periods kept, want 6", len(s.periods))
	}
	if first := s.periods[0].start; !first.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("oldest kept period starts at %v, want %v", first, t0.Add(30*time.Second))
	}
}

// TestInmemSinkDumpOrder checks the order of the dump's lines, which
// go-metrics leaves to map iteration: by kind (gauges, points, counters,
// samples), then by key; the interval being filled is left out.
func TestInmemSinkDumpOrder(t *testing.T) {
	s := newInmemSink(10*time.Second, time.Minute)
	clock := &handClock{t: time.Date(2026, 12, 8, 0, 0, 1, 0, time.UTC)}
	s.now = clock.now
	s.AddSample([]string{"s"}, 1)
	s.IncrCounter([]string{"c", "b"}, 1)
	s.IncrCounter([]string{"c", "a"}, 1)
	s.EmitKey([]string{"p"}, 1)
	s.SetGauge([]string{"g", "b"}, 1)
	s.SetGauge([]string{"g", "a"}, 1)
	clock.t = clock.t.Add(10 * time.Second)
	s.IncrCounter([]string{"later"}, 1)

	var out strings.Builder
	if err := s.dump(&out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if _, rest, ok := strings.Cut(l, "]["); ok {
			got = append(got, strings.SplitN(rest, ":", 2)[0])
		}
	}
	want := []string{"G] 'g.a'", "G] 'g.b'", "P] 'p'", "C] 'c.a'", "C] 'c.b'", "S] 's'"}
	if !slices.Equal(got, want) {
		t.Errorf("dump lines in order %q, want %q:\n%s", got, want, out.String())
	}
}

// TestWithoutSentBytesDropsOnlyMemberlistSentCounters: the global
// registry's filter drops memberlist's two byte counters and nothing else.
func TestWithoutSentBytesDropsOnlyMemberlistSentCounters(t *testing.T) {
	s := newInmemSink(time.Hour, 6*time.Hour)
	mc := metrics.DefaultConfig(metricsService)
	mc.EnableRuntimeMetrics = false // a goroutine that never stops
	m, err := metrics.New(mc, withoutSentBytes{s})
	if err != nil {
		t.Fatal(err)
	}
	m.IncrCounter([]string{"memberlist", "udp", "sent"}, 100)
	m.IncrCounterWithLabels([]string{"memberlist", "tcp", "sent"}, 100, nil)
	m.IncrCounter([]string{"memberlist", "udp", "received"}, 100)
	m.IncrCounter([]string{"serf", "udp", "sent"}, 1)
	m.AddSample([]string{"memberlist", "udp", "sent"}, 1)

	intv := s.periods[len(s.periods)-1]
	var got []string
	for k := range intv.counters {
		got = append(got, k)
	}
	for k := range intv.samples {
		got = append(got, "sample "+k)
	}
	want := map[string]bool{
		"serf-agent.memberlist.udp.received":    true,
		"serf-agent.serf.udp.sent":              true,
		"sample serf-agent.memberlist.udp.sent": true,
	}
	if len(got) != len(want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
	for _, k := range got {
		if !want[k] {
			t.Errorf("kept %q", k)
		}
	}
}
