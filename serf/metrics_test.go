package serf_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	metrics "github.com/hashicorp/go-metrics"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// metricsRecorder gives each member of a cluster its own go-metrics
// registry over an in-memory sink, labelled with the member's name, so no
// test touches go-metrics' global registry.
type metricsRecorder struct {
	sinks map[string]*metrics.InmemSink
}

func (r *metricsRecorder) tweak(t *testing.T) func(int, *serf.Config) {
	return func(_ int, c *serf.Config) {
		// Intervals start on the wall clock's hour, and a sink keeps
		// retain/interval of them: with one kept, a test running across
		// the hour lost every count made before it. Two are enough.
		sink := metrics.NewInmemSink(time.Hour, 2*time.Hour)
		mc := metrics.DefaultConfig("")
		mc.EnableRuntimeMetrics = false
		mc.EnableHostname = false
		m, err := metrics.New(mc, sink)
		if err != nil {
			t.Fatal(err)
		}
		c.Metrics = m
		c.MetricLabels = []metrics.Label{{Name: "node", Value: c.NodeName}}
		r.sinks[c.NodeName] = sink
	}
}

// metricValue is what one member's sink holds under name: the total of a
// counter (or the number of samples of a sample), and the labels seen.
type metricValue struct {
	total  float64
	labels [][]metrics.Label
}

func readMetric(sink *metrics.InmemSink, name string, sample bool) metricValue {
	var v metricValue
	for _, iv := range sink.Data() {
		iv.RLock()
		from := iv.Counters
		if sample {
			from = iv.Samples
		}
		for _, sv := range from {
			if sv.Name != name {
				continue
			}
			if sample {
				v.total += float64(sv.Count)
			} else {
				v.total += sv.Sum
			}
			v.labels = append(v.labels, sv.Labels)
		}
		iv.RUnlock()
	}
	return v
}

// waitMetric waits until member node's counter (or sample count) name
// reaches at least min, and checks that it carries only the node label.
func (r *metricsRecorder) waitMetric(t *testing.T, node, name string, sample bool, min float64) {
	t.Helper()
	want := []metrics.Label{{Name: "node", Value: node}}
	serftest.Eventually(t, 10*time.Second, func() error {
		v := readMetric(r.sinks[node], name, sample)
		if v.total < min {
			return fmt.Errorf("%s: %s is %v, want at least %v", node, name, v.total, min)
		}
		for _, l := range v.labels {
			if !slices.Equal(l, want) {
				return serftest.Permanent(fmt.Errorf("%s: %s has labels %v, want %v", node, name, l, want))
			}
		}
		return nil
	})
}

func TestMetricsJoinEventQuery(t *testing.T) {
	rec := &metricsRecorder{sinks: map[string]*metrics.InmemSink{}}
	tweak := rec.tweak(t)
	snap := filepath.Join(t.TempDir(), "snap")
	c := serftest.NewCluster(t, 3, func(i int, conf *serf.Config) {
		tweak(i, conf)
		if i == 0 {
			conf.SnapshotPath = snap
		}
	})
	for _, m := range c.Members {
		respondAll(m)
	}
	c.JoinAll()
	names := []string{"n0", "n1", "n2"}
	for _, n := range names {
		// Every member sees itself and the two others join.
		rec.waitMetric(t, n, "serf.member.join", false, 3)
		rec.waitMetric(t, n, "serf.msgs.received", true, 1)
		rec.waitMetric(t, n, "serf.msgs.sent", true, 1)
		rec.waitMetric(t, n, "serf.queue.Intent", true, 1)
		rec.waitMetric(t, n, "serf.queue.Event", true, 1)
		rec.waitMetric(t, n, "serf.queue.Query", true, 1)
	}
	rec.waitMetric(t, "n0", "serf.snapshot.appendLine", true, 1)
	// Probes carry coordinates, and every accepted one moves ours.
	rec.waitMetric(t, "n0", "serf.coordinate.adjustment-ms", true, 1)

	if err := c.Members[0].Serf.UserEvent("deploy", []byte("v1"), false); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		rec.waitMetric(t, n, "serf.events", false, 1)
		rec.waitMetric(t, n, "serf.events.deploy", false, 1)
	}

	resp, err := c.Members[0].Serf.Query("ping-me", nil, &serf.QueryParam{RequestAck: true, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	acks, froms := gather(t, resp)
	if len(acks) != 3 || len(froms) != 3 {
		t.Fatalf("acks %v, responses %v; want all three members", acks, froms)
	}
	for _, n := range names {
		rec.waitMetric(t, n, "serf.queries", false, 1)
		rec.waitMetric(t, n, "serf.queries.ping-me", false, 1)
	}
	rec.waitMetric(t, "n0", "serf.query_acks", false, 3)
	rec.waitMetric(t, "n0", "serf.query_responses", false, 3)
	for _, name := range []string{"serf.query_duplicate_acks", "serf.query_duplicate_responses"} {
		if v := readMetric(rec.sinks["n0"], name, false); v.total != 0 {
			t.Errorf("%s is %v, want 0: no member answered twice", name, v.total)
		}
	}
}

func TestMetricsLeaveAndFail(t *testing.T) {
	rec := &metricsRecorder{sinks: map[string]*metrics.InmemSink{}}
	c := serftest.NewCluster(t, 3, rec.tweak(t))
	c.JoinAll()

	if err := c.Members[2].Serf.Leave(); err != nil {
		t.Fatal(err)
	}
	c.WaitStatus("n2", serf.StatusLeft)
	rec.waitMetric(t, "n0", "serf.member.left", false, 1)
	c.Kill(2)

	c.Kill(1)
	c.WaitStatus("n1", serf.StatusFailed)
	rec.waitMetric(t, "n0", "serf.member.failed", false, 1)
	if v := readMetric(rec.sinks["n0"], "serf.member.flap", false); v.total != 0 {
		t.Errorf("serf.member.flap is %v before any member came back", v.total)
	}

	// Back within FlapTimeout of failing: a flap, and a join.
	c.Restart(1)
	c.Join(1, 0)
	c.WaitStatus("n1", serf.StatusAlive)
	rec.waitMetric(t, "n0", "serf.member.flap", false, 1)
	rec.waitMetric(t, "n0", "serf.member.join", false, 4)
}
