package agent

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// inmemSink keeps the agent's metrics in memory for the SIGUSR1 dump, as
// go-metrics' InmemSink does for Serf's agent: aggregated over fixed
// intervals, the last few kept, printed in the same lines.
//
// It is our own because the library's sink builds two to five strings for
// every metric it is handed, and memberlist hands it one for each packet
// and message: in a join storm of 256 agents on two cores that was 4 % of
// their CPU, and more in collecting the garbage. This one joins each key
// into a reused buffer, looks it up without converting it, and allocates
// only the first time a key is seen in an interval.
type inmemSink struct {
	interval  time.Duration
	keep      int              // intervals kept, the one being filled included
	rateDenom float64          // interval in seconds: an aggregate's Rate is per second
	now       func() time.Time // the clock that files metrics; tests set their own

	mu      sync.Mutex
	key     []byte         // scratch for the key being looked up
	periods []*inmemPeriod // oldest first; the last one is being filled
}

// inmemPeriod holds what arrived in one interval, by flattened key:
// the key's parts joined with dots, then ";name=value" per label, spaces
// made underscores.
type inmemPeriod struct {
	start    time.Time
	gauges   map[string]*inmemGauge
	points   map[string][]float32
	counters map[string]*inmemAggregate
	samples  map[string]*inmemAggregate
}

// inmemGauge is a gauge's last value and the name the dump prints for it.
// A precision gauge (float64) shares its key's entry with a float32 one.
type inmemGauge struct {
	name  string
	value float64
}

// inmemAggregate is a counter or sample and the name the dump prints.
type inmemAggregate struct {
	name string
	agg  metrics.AggregateSample
}

// newInmemSink keeps retain's worth of intervals of the given length.
func newInmemSink(interval, retain time.Duration) *inmemSink {
	return &inmemSink{
		interval:  interval,
		keep:      max(int(retain/interval), 1),
		rateDenom: interval.Seconds(),
		now:       time.Now,
	}
}

func (s *inmemSink) SetGauge(key []string, val float32) {
	s.setGauge(key, float64(val), nil)
}

func (s *inmemSink) SetGaugeWithLabels(key []string, val float32, labels []metrics.Label) {
	s.setGauge(key, float64(val), labels)
}

func (s *inmemSink) SetPrecisionGauge(key []string, val float64) {
	s.setGauge(key, val, nil)
}

func (s *inmemSink) SetPrecisionGaugeWithLabels(key []string, val float64, labels []metrics.Label) {
	s.setGauge(key, val, labels)
}

func (s *inmemSink) EmitKey(key []string, val float32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	intv := s.current()
	k := s.flatten(key, nil)
	intv.points[string(k)] = append(intv.points[string(k)], val)
}

func (s *inmemSink) IncrCounter(key []string, val float32) {
	s.ingest(key, val, nil, false)
}

func (s *inmemSink) IncrCounterWithLabels(key []string, val float32, labels []metrics.Label) {
	s.ingest(key, val, labels, false)
}

func (s *inmemSink) AddSample(key []string, val float32) {
	s.ingest(key, val, nil, true)
}

func (s *inmemSink) AddSampleWithLabels(key []string, val float32, labels []metrics.Label) {
	s.ingest(key, val, labels, true)
}

func (s *inmemSink) setGauge(key []string, val float64, labels []metrics.Label) {
	s.mu.Lock()
	defer s.mu.Unlock()
	intv := s.current()
	k := s.flatten(key, labels)
	g, ok := intv.gauges[string(k)]
	if !ok {
		g = &inmemGauge{name: dumpName(key, labels)}
		intv.gauges[string(k)] = g
	}
	g.value = val
}

// ingest adds val to a counter (sample false) or a sample.
func (s *inmemSink) ingest(key []string, val float32, labels []metrics.Label, sample bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	intv := s.current()
	aggs := intv.counters
	if sample {
		aggs = intv.samples
	}
	k := s.flatten(key, labels)
	a, ok := aggs[string(k)]
	if !ok {
		a = &inmemAggregate{name: dumpName(key, labels)}
		aggs[string(k)] = a
	}
	a.agg.Ingest(float64(val), s.rateDenom)
}

// current returns the interval the clock is in, starting a new one (and
// dropping the oldest beyond keep) when it has left the last one. As
// in go-metrics, intervals nothing arrived in are not created, so the
// kept ones can reach back further than keep intervals. s.mu is held.
func (s *inmemSink) current() *inmemPeriod {
	start := s.now().Truncate(s.interval)
	if n := len(s.periods); n > 0 && s.periods[n-1].start.Equal(start) {
		return s.periods[n-1]
	}
	intv := &inmemPeriod{
		start:    start,
		gauges:   map[string]*inmemGauge{},
		points:   map[string][]float32{},
		counters: map[string]*inmemAggregate{},
		samples:  map[string]*inmemAggregate{},
	}
	s.periods = append(s.periods, intv)
	if extra := len(s.periods) - s.keep; extra > 0 {
		s.periods = slices.Delete(s.periods, 0, extra)
	}
	return intv
}

// flatten writes the map key of key and labels into s.key and returns
// it; the bytes are valid until the next call. s.mu is held.
func (s *inmemSink) flatten(key []string, labels []metrics.Label) []byte {
	b := appendKey(s.key[:0], key)
	for _, l := range labels {
		b = append(b, ';')
		b = appendReplacing(b, l.Name, " ")
		b = append(b, '=')
		b = appendReplacing(b, l.Value, " ")
	}
	s.key = b
	return b
}

// dumpName is the name the dump prints for a key: its parts joined with
// dots, then ".value" per label, as go-metrics prints them.
func dumpName(key []string, labels []metrics.Label) string {
	b := appendKey(nil, key)
	for _, l := range labels {
		b = append(b, '.')
		b = appendReplacing(b, l.Value, " :")
	}
	return string(b)
}

// appendKey appends key's parts joined with dots, spaces made underscores.
func appendKey(b []byte, key []string) []byte {
	for i, part := range key {
		if i > 0 {
			b = append(b, '.')
		}
		b = appendReplacing(b, part, " ")
	}
	return b
}

// appendReplacing appends s with every byte of bad made an underscore.
func appendReplacing(b []byte, s, bad string) []byte {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(bad, s[i]) >= 0 {
			b = append(b, '_')
		} else {
			b = append(b, s[i])
		}
	}
	return b
}

// dump writes every interval but the one being filled, in go-metrics'
// lines: "[<interval start>][<G|P|C|S>] '<name>': <value>". Within an
// interval the lines go gauges, points, counters, samples, each sorted
// by key (go-metrics leaves them in map order).
func (s *inmemSink) dump(w io.Writer) error {
	var buf bytes.Buffer
	s.mu.Lock()
	for _, intv := range s.periods[:max(len(s.periods)-1, 0)] {
		for _, k := range slices.Sorted(maps.Keys(intv.gauges)) {
			g := intv.gauges[k]
			fmt.Fprintf(&buf, "[%v][G] '%s': %0.3f\n", intv.start, g.name, g.value)
		}
		for _, k := range slices.Sorted(maps.Keys(intv.points)) {
			for _, v := range intv.points[k] {
				fmt.Fprintf(&buf, "[%v][P] '%s': %0.3f\n", intv.start, k, v)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(intv.counters)) {
			a := intv.counters[k]
			fmt.Fprintf(&buf, "[%v][C] '%s': %s\n", intv.start, a.name, &a.agg)
		}
		for _, k := range slices.Sorted(maps.Keys(intv.samples)) {
			a := intv.samples[k]
			fmt.Fprintf(&buf, "[%v][S] '%s': %s\n", intv.start, a.name, &a.agg)
		}
	}
	s.mu.Unlock()
	_, err := w.Write(buf.Bytes())
	return err
}
