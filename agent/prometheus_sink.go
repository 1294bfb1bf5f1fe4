package agent

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// summaryWindow is how far back a summary's quantiles look, and
// summaryKeep how many of its most recent samples they are computed from:
// exact quantiles over a bounded window, so that a busy series costs at
// most summaryKeep samples of memory.
const (
	summaryWindow = 10 * time.Second
	summaryKeep   = 256
)

// summaryQuantiles are the quantiles every summary reports.
var summaryQuantiles = [...]float64{0.5, 0.9, 0.99}

// PrometheusSink is the go-metrics sink behind metrics_addr. Each key
// becomes a series named by its parts joined with "_" (characters a
// Prometheus name cannot hold become "_" too), without the service and host
// names that go-metrics puts in front (Prometheus has labels for those), so
// series read memberlist_..., serf_..., agent_..., runtime_... . Series are
// kept until the agent stops; WriteText renders them for a scrape.
//
// It replaces client_golang and go-metrics' sink for it: they cost every
// agent about 3 MiB of resident memory whether metrics_addr is set or not
// (their packages and protobuf initialise at start).
type PrometheusSink struct {
	service, host string
	now           func() time.Time

	mu     sync.Mutex
	series map[string]*promSeries // by promSeriesID
}

// promKind is the Prometheus type of a series.
type promKind uint8

const (
	promCounter promKind = iota
	promGauge
	promSummary
)

func (k promKind) String() string {
	switch k {
	case promCounter:
		return "counter"
	case promGauge:
		return "gauge"
	default:
		return "summary"
	}
}

// promSeries is one series: a counter's total, a gauge's last value, or a
// summary's count, sum and recent samples.
type promSeries struct {
	name   string
	kind   promKind
	labels []metrics.Label // sorted by name, names made valid

	value float64

	count  uint64
	sum    float64
	recent []promSample // a ring of at most summaryKeep
	next   int          // where the ring writes next once full
}

type promSample struct {
	at  time.Time
	val float64
}

// NewPrometheusSink returns an empty sink that strips service and host
// from the front of keys.
func NewPrometheusSink(service, host string) *PrometheusSink {
	return &PrometheusSink{
		service: service,
		host:    host,
		now:     time.Now,
		series:  map[string]*promSeries{},
	}
}

// SetGauge implements metrics.MetricSink.
func (p *PrometheusSink) SetGauge(key []string, val float32) {
	p.SetPrecisionGaugeWithLabels(key, float64(val), nil)
}

// SetGaugeWithLabels implements metrics.MetricSink.
func (p *PrometheusSink) SetGaugeWithLabels(key []string, val float32, labels []metrics.Label) {
	p.SetPrecisionGaugeWithLabels(key, float64(val), labels)
}

// SetPrecisionGauge implements metrics.PrecisionGaugeMetricSink.
func (p *PrometheusSink) SetPrecisionGauge(key []string, val float64) {
	p.SetPrecisionGaugeWithLabels(key, val, nil)
}

// SetPrecisionGaugeWithLabels implements metrics.PrecisionGaugeMetricSink.
func (p *PrometheusSink) SetPrecisionGaugeWithLabels(key []string, val float64, labels []metrics.Label) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lookup(promGauge, key, labels).value = val
}

// EmitKey implements metrics.MetricSink. A key/value event has no
// Prometheus type, so it is dropped (as go-metrics' own sink does).
func (p *PrometheusSink) EmitKey([]string, float32) {}

// IncrCounter implements metrics.MetricSink.
func (p *PrometheusSink) IncrCounter(key []string, val float32) {
	p.IncrCounterWithLabels(key, val, nil)
}

// IncrCounterWithLabels implements metrics.MetricSink. A negative
// increment is dropped: a Prometheus counter never goes down.
func (p *PrometheusSink) IncrCounterWithLabels(key []string, val float32, labels []metrics.Label) {
	if val < 0 || math.IsNaN(float64(val)) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lookup(promCounter, key, labels).value += float64(val)
}

// AddSample implements metrics.MetricSink.
func (p *PrometheusSink) AddSample(key []string, val float32) {
	p.AddSampleWithLabels(key, val, nil)
}

// AddSampleWithLabels implements metrics.MetricSink.
func (p *PrometheusSink) AddSampleWithLabels(key []string, val float32, labels []metrics.Label) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.lookup(promSummary, key, labels)
	s.count++
	s.sum += float64(val)
	sample := promSample{at: now, val: float64(val)}
	if len(s.recent) < summaryKeep {
		s.recent = append(s.recent, sample)
		return
	}
	s.recent[s.next] = sample
	s.next = (s.next + 1) % summaryKeep
}

// lookup returns the series of kind for key and labels, creating it. The
// caller holds p.mu.
func (p *PrometheusSink) lookup(kind promKind, key []string, labels []metrics.Label) *promSeries {
	name := promName(p.trim(key))
	id := promSeriesID(kind, name, labels)
	if s, ok := p.series[id]; ok {
		return s
	}
	s := &promSeries{name: name, kind: kind, labels: promLabels(labels)}
	p.series[id] = s
	return s
}

// trim drops the service name and then the host name from the front of key.
func (p *PrometheusSink) trim(key []string) []string {
	if len(key) > 1 && key[0] == p.service {
		key = key[1:]
	}
	if len(key) > 1 && p.host != "" && key[0] == p.host {
		key = key[1:]
	}
	return key
}

// quantiles returns the summaryQuantiles of s's samples within
// summaryWindow of now, NaN where there are none (as Prometheus expects).
func (s *promSeries) quantiles(now time.Time) [len(summaryQuantiles)]float64 {
	var vals []float64
	for _, r := range s.recent {
		if now.Sub(r.at) <= summaryWindow {
			vals = append(vals, r.val)
		}
	}
	sort.Float64s(vals)
	var out [len(summaryQuantiles)]float64
	for i, q := range summaryQuantiles {
		if len(vals) == 0 {
			out[i] = math.NaN()
			continue
		}
		// Nearest rank: the smallest sample with at least q of them at or
		// below it.
		rank := int(math.Ceil(q*float64(len(vals)))) - 1
		out[i] = vals[max(rank, 0)]
	}
	return out
}

// promSeriesID identifies a series: its kind, name and labels in the
// order given (a caller that passes the same labels in another order
// gets a second series with the same rendering, as with client_golang).
func promSeriesID(kind promKind, name string, labels []metrics.Label) string {
	var b strings.Builder
	b.WriteByte(byte('0' + kind))
	b.WriteString(name)
	for _, l := range labels {
		b.WriteByte(0)
		b.WriteString(l.Name)
		b.WriteByte(0)
		b.WriteString(l.Value)
	}
	return b.String()
}

// promName joins key with "_" and turns every character a Prometheus
// metric name cannot hold into "_".
func promName(key []string) string {
	return promIdent(strings.Join(key, "_"), true)
}

// promLabels returns labels sorted by name, with valid names.
func promLabels(labels []metrics.Label) []metrics.Label {
	if len(labels) == 0 {
		return nil
	}
	out := make([]metrics.Label, len(labels))
	for i, l := range labels {
		out[i] = metrics.Label{Name: promIdent(l.Name, false), Value: l.Value}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// promIdent makes s a valid Prometheus metric name (colons allowed) or
// label name: [a-zA-Z_:][a-zA-Z0-9_:]*, every other character becoming
// "_" and a leading digit getting a "_" in front.
func promIdent(s string, colons bool) string {
	var b strings.Builder
	b.Grow(len(s) + 1)
	for i, r := range s {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
			(r >= '0' && r <= '9') || (colons && r == ':')
		if i == 0 && r >= '0' && r <= '9' {
			b.WriteByte('_')
		}
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}
