package agent

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/serf-clone/serf/serf/serftest"
)

// startMetrics serves tel's registry and n's health on 127.0.0.1.
func startMetrics(t *testing.T, tel *Telemetry, n *testNode) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms := NewMetricsServer(ln, tel.Prometheus, n.agent, n.logs.Logger())
	t.Cleanup(ms.Shutdown)
	return "http://" + ms.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestMetricsEndpointServesPrometheusText(t *testing.T) {
	tel, err := NewTelemetry(&Config{MetricsAddr: "127.0.0.1:0"}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tel.Stop)
	n := startNode(t, "prom", nil)
	base := startMetrics(t, tel, n)

	tel.Metrics.IncrCounter([]string{"agent", "ipc", "accept"}, 1)
	tel.Metrics.IncrCounter([]string{"agent", "ipc", "accept"}, 1)
	tel.Metrics.SetGauge([]string{"memberlist", "health", "score"}, 0)
	tel.Metrics.AddSample([]string{"agent", "invoke", "handler.sh"}, 2.5)
	tel.Metrics.EmitRuntimeStats()

	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
	accept, ok := fams["agent_ipc_accept"]
	if !ok {
		t.Fatalf("no agent_ipc_accept in\n%s", body)
	}
	if v := accept.GetMetric()[0].GetCounter().GetValue(); v != 2 {
		t.Errorf("agent_ipc_accept = %v, want 2", v)
	}
	// The gauge loses go-metrics' host-name prefix.
	if _, ok := fams["memberlist_health_score"]; !ok {
		t.Errorf("no memberlist_health_score in\n%s", body)
	}
	if _, ok := fams["agent_invoke_handler_sh"]; !ok {
		t.Errorf("no agent_invoke_handler_sh summary in\n%s", body)
	}
	g, ok := fams["runtime_num_goroutines"]
	if !ok || g.GetMetric()[0].GetGauge().GetValue() < 1 {
		t.Errorf("runtime_num_goroutines missing or implausible in\n%s", body)
	}
	for name := range fams {
		if strings.HasPrefix(name, "serf_agent") {
			t.Errorf("series %s keeps the service prefix", name)
		}
	}
}

func TestHealthFollowsMemberStatus(t *testing.T) {
	tel, err := NewTelemetry(&Config{MetricsAddr: "127.0.0.1:0"}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tel.Stop)
	n := startNode(t, "health", nil)
	base := startMetrics(t, tel, n)

	serftest.Eventually(t, 10*time.Second, func() error {
		if code, body := get(t, base+"/health"); code != http.StatusOK || body != "alive\n" {
			return fmt.Errorf("/health: %d %q", code, body)
		}
		return nil
	})
	if err := n.agent.Leave(); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, base+"/health")
	if code != http.StatusServiceUnavailable {
		t.Errorf("/health after leave: %d %q, want 503", code, body)
	}
	_ = n.agent.Shutdown()
	if code, body := get(t, base+"/health"); code != http.StatusServiceUnavailable || body != "shutdown\n" {
		t.Errorf("/health after shutdown: %d %q, want 503 shutdown", code, body)
	}
}

func TestStatsdGetsTheSameNames(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	tel, err := NewTelemetry(&Config{StatsdAddr: pc.LocalAddr().String(), MetricsAddr: "127.0.0.1:0"}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tel.Stop)
	n := startNode(t, "statsd", nil)
	base := startMetrics(t, tel, n)

	names := [][]string{{"agent", "ipc", "accept"}, {"agent", "ipc", "command"}, {"memberlist", "msg", "alive"}}
	want := map[string]bool{}
	for _, k := range names {
		tel.Metrics.IncrCounter(k, 1)
		want["serf-agent."+strings.Join(k, ".")+":1.000000|c"] = false
	}
	buf := make([]byte, 65536)
	deadline := time.Now().Add(20 * time.Second)
	for missing := len(want); missing > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("statsd lines missing: %v", want)
		}
		_ = pc.SetReadDeadline(time.Now().Add(time.Second))
		nr, _, err := pc.ReadFrom(buf)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(buf[:nr]), "\n") {
			if seen, ok := want[line]; ok && !seen {
				want[line] = true
				missing--
			}
		}
	}
	_, body := get(t, base+"/metrics")
	for _, k := range names {
		if !strings.Contains(body, "\n"+strings.Join(k, "_")+" 1\n") {
			t.Errorf("prometheus lacks %s:\n%s", strings.Join(k, "_"), body)
		}
	}
}

func TestTelemetryStopIsIdempotent(t *testing.T) {
	tel, err := NewTelemetry(&Config{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if tel.Prometheus != nil {
		t.Error("a Prometheus sink without metrics_addr")
	}
	tel.Stop()
	tel.Stop()
}
