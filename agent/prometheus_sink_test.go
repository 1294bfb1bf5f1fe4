package agent

import (
	"math"
	"strings"
	"testing"
	"time"

	metrics "github.com/hashicorp/go-metrics"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape renders p and parses it with Prometheus' own parser, so that the
// text is checked by an implementation other than ours.
func scrape(t *testing.T, p *PrometheusSink) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	var b strings.Builder
	if err := p.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("Prometheus cannot parse our text: %v\n%s", err, b.String())
	}
	return b.String(), fams
}

func TestPrometheusSinkCountersAndGauges(t *testing.T) {
	p := NewPrometheusSink("serf-agent", "host1")
	p.IncrCounter([]string{"serf-agent", "agent", "ipc", "accept"}, 1)
	p.IncrCounter([]string{"serf-agent", "agent", "ipc", "accept"}, 2)
	p.IncrCounter([]string{"serf-agent", "agent", "ipc", "accept"}, -5) // dropped
	p.SetGauge([]string{"serf-agent", "host1", "runtime", "num_goroutines"}, 7)
	p.SetGauge([]string{"serf-agent", "host1", "runtime", "num_goroutines"}, 9)
	p.SetPrecisionGauge([]string{"serf-agent", "host1", "precise"}, 1e15+1)
	p.EmitKey([]string{"serf-agent", "ignored"}, 1)

	body, fams := scrape(t, p)
	if got := fams["agent_ipc_accept"]; got == nil || got.GetType() != dto.MetricType_COUNTER ||
		got.GetMetric()[0].GetCounter().GetValue() != 3 {
		t.Errorf("agent_ipc_accept: want counter 3 in\n%s", body)
	}
	if got := fams["runtime_num_goroutines"]; got == nil || got.GetType() != dto.MetricType_GAUGE ||
		got.GetMetric()[0].GetGauge().GetValue() != 9 {
		t.Errorf("runtime_num_goroutines: want gauge 9 in\n%s", body)
	}
	if got := fams["precise"]; got == nil || got.GetMetric()[0].GetGauge().GetValue() != 1e15+1 {
		t.Errorf("precise: a float64 gauge lost precision in\n%s", body)
	}
	if len(fams) != 3 {
		t.Errorf("want 3 families (EmitKey has no Prometheus type), got %d:\n%s", len(fams), body)
	}
	if !strings.Contains(body, "# HELP agent_ipc_accept agent_ipc_accept\n# TYPE agent_ipc_accept counter\n") {
		t.Errorf("HELP and TYPE lines missing:\n%s", body)
	}
}

func TestPrometheusSinkNamesAndLabels(t *testing.T) {
	p := NewPrometheusSink("svc", "")
	// Characters that go-metrics keys carry (node names, handler paths)
	// but a Prometheus name cannot.
	p.IncrCounterWithLabels([]string{"svc", "agent", "invoke", "/etc/handler.sh"}, 1,
		[]metrics.Label{{Name: "z-last", Value: "a\"b\\c\nd"}, {Name: "a", Value: "x"}})
	p.IncrCounter([]string{"9lives", "ok:colon"}, 1)

	body, fams := scrape(t, p)
	f := fams["agent_invoke__etc_handler_sh"]
	if f == nil {
		t.Fatalf("no agent_invoke__etc_handler_sh in\n%s", body)
	}
	labels := f.GetMetric()[0].GetLabel()
	if len(labels) != 2 || labels[0].GetName() != "a" || labels[1].GetName() != "z_last" ||
		labels[1].GetValue() != "a\"b\\c\nd" {
		t.Errorf("labels not sorted, renamed or escaped: %v\n%s", labels, body)
	}
	if fams["_9lives_ok:colon"] == nil {
		t.Errorf("a leading digit needs a _ and a colon may stay:\n%s", body)
	}
}

func TestPrometheusSinkSummaryWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	p := NewPrometheusSink("svc", "")
	p.now = func() time.Time { return now }
	key := []string{"svc", "serf", "msgs", "sent"}
	for i := 1; i <= 100; i++ {
		p.AddSample(key, float32(i))
	}

	body, fams := scrape(t, p)
	f := fams["serf_msgs_sent"]
	if f == nil || f.GetType() != dto.MetricType_SUMMARY {
		t.Fatalf("no summary serf_msgs_sent in\n%s", body)
	}
	s := f.GetMetric()[0].GetSummary()
	if s.GetSampleCount() != 100 || s.GetSampleSum() != 5050 {
		t.Errorf("count %d sum %v, want 100 and 5050", s.GetSampleCount(), s.GetSampleSum())
	}
	want := map[float64]float64{0.5: 50, 0.9: 90, 0.99: 99}
	for _, q := range s.GetQuantile() {
		if want[q.GetQuantile()] != q.GetValue() {
			t.Errorf("quantile %v = %v, want %v", q.GetQuantile(), q.GetValue(), want[q.GetQuantile()])
		}
	}

	// Past the window the quantiles have no samples (NaN), and the count
	// and sum still hold everything ever observed.
	now = now.Add(summaryWindow + time.Second)
	_, fams = scrape(t, p)
	s = fams["serf_msgs_sent"].GetMetric()[0].GetSummary()
	for _, q := range s.GetQuantile() {
		if !math.IsNaN(q.GetValue()) {
			t.Errorf("quantile %v = %v after the window, want NaN", q.GetQuantile(), q.GetValue())
		}
	}
	if s.GetSampleCount() != 100 {
		t.Errorf("count %d after the window, want 100", s.GetSampleCount())
	}
}

func TestPrometheusSinkSummaryKeepsOnlyRecentSamples(t *testing.T) {
	p := NewPrometheusSink("svc", "")
	key := []string{"latency"}
	// summaryKeep large samples, then summaryKeep small ones: the ring holds
	// only the small ones.
	for range summaryKeep {
		p.AddSample(key, 1000)
	}
	for range summaryKeep {
		p.AddSample(key, 1)
	}
	_, fams := scrape(t, p)
	s := fams["latency"].GetMetric()[0].GetSummary()
	for _, q := range s.GetQuantile() {
		if q.GetValue() != 1 {
			t.Errorf("quantile %v = %v, want 1 from the most recent samples only", q.GetQuantile(), q.GetValue())
		}
	}
	if s.GetSampleCount() != 2*summaryKeep {
		t.Errorf("count %d, want %d", s.GetSampleCount(), 2*summaryKeep)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, series := range p.series {
		if len(series.recent) > summaryKeep {
			t.Errorf("ring holds %d samples, more than %d", len(series.recent), summaryKeep)
		}
	}
}

func TestPrometheusSinkOneTypePerName(t *testing.T) {
	p := NewPrometheusSink("svc", "")
	p.IncrCounter([]string{"clash"}, 1)
	p.SetGauge([]string{"clash"}, 5)
	body, fams := scrape(t, p)
	if f := fams["clash"]; f == nil || f.GetType() != dto.MetricType_COUNTER || len(f.GetMetric()) != 1 {
		t.Errorf("want clash as one counter series:\n%s", body)
	}
}
