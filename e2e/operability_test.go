package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/serf-clone/serf/testutil/cluster"
)

// TestIPv6BindJoinMembers: agents bound to [::1] join and list each other.
func TestIPv6BindJoinMembers(t *testing.T) {
	t.Parallel()
	probe, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	var as []*cluster.Agent
	for _, name := range []string{"six-a", "six-b"} {
		gossip, err := cluster.FreeGossipPort()
		if err != nil {
			t.Fatal(err)
		}
		rpc, err := cluster.FreeTCPPort()
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, cluster.StartAgent(t, bin(t), cluster.Options{
			Name:     name,
			BindAddr: net.JoinHostPort("::1", strconv.Itoa(gossip)),
			RPCAddr:  net.JoinHostPort("::1", strconv.Itoa(rpc)),
		}))
	}
	cluster.JoinAll(t, converge, as...)
	requireAdvertisedAddrs(t, as)
}

func httpGet(url string) (int, string, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// statsdListener collects the metric names (before ":") it receives.
type statsdListener struct {
	pc    net.PacketConn
	mu    sync.Mutex
	names map[string]bool
	done  chan struct{}
}

func listenStatsd(t *testing.T) *statsdListener {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &statsdListener{pc: pc, names: map[string]bool{}, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			l.mu.Lock()
			for _, line := range strings.Split(string(buf[:n]), "\n") {
				if i := strings.IndexByte(line, ':'); i > 0 {
					l.names[line[:i]] = true
				}
			}
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-l.done
	})
	return l
}

func (l *statsdListener) has(name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.names[name]
}

// TestPrometheusEndpointInCluster scrapes /metrics of one agent of three
// and checks the series against what statsd receives from it.
func TestPrometheusEndpointInCluster(t *testing.T) {
	t.Parallel()
	port, err := cluster.FreeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", port)
	statsd := listenStatsd(t)
	conf := filepath.Join(t.TempDir(), "statsd.json")
	if err := os.WriteFile(conf, []byte(`{"statsd_addr": "`+statsd.pc.LocalAddr().String()+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	as := []*cluster.Agent{
		start(t, "prom-1", "-metrics-addr", metricsAddr, "-config-file", conf),
		start(t, "prom-2"),
		start(t, "prom-3"),
	}
	cluster.JoinAll(t, converge, as...)
	if res := as[0].CLI(t, "event", "deploy", "v1"); res.Code != 0 {
		t.Fatalf("event: %s", res)
	}
	if res := as[0].CLI(t, "query", "-timeout", "2s", "ping"); res.Code != 0 {
		t.Fatalf("query: %s", res)
	}

	code, body, err := httpGet("http://" + metricsAddr + "/health")
	if err != nil || code != http.StatusOK || body != "alive\n" {
		t.Fatalf("/health: %d %q %v", code, body, err)
	}

	// Counters that memberlist moves while gossiping, the agent's own, and
	// Serf's for the join, the event and the query above, by their
	// go-metrics names; Prometheus spells the dots as underscores.
	wantCounters := []string{"memberlist.udp.sent", "memberlist.tcp.accept", "agent.ipc.accept", "agent.ipc.command",
		"serf.member.join", "serf.events", "serf.events.deploy", "serf.queries", "serf.queries.ping", "serf.query_acks"}
	promName := func(name string) string { return strings.ReplaceAll(name, ".", "_") }
	// prom-1 saw itself and the two others join.
	minimum := map[string]float64{"serf_member_join": 3}
	var fams map[string]*dtoFamilies
	cluster.Eventually(t, converge, func() error {
		code, body, err := httpGet("http://" + metricsAddr + "/metrics")
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("/metrics: %d", code)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		parsed, err := parser.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			return cluster.Permanent(fmt.Errorf("parse: %v\n%s", err, body))
		}
		fams = map[string]*dtoFamilies{}
		for name, f := range parsed {
			fams[name] = &dtoFamilies{name: name, count: len(f.GetMetric())}
			for _, m := range f.GetMetric() {
				if c := m.GetCounter(); c != nil {
					fams[name].sum += c.GetValue()
				}
			}
		}
		for _, metric := range wantCounters {
			name := promName(metric)
			f, ok := fams[name]
			if !ok || f.sum < 1 {
				return fmt.Errorf("%s missing or zero", name)
			}
			if f.sum < minimum[name] {
				return fmt.Errorf("%s is %v, want at least %v", name, f.sum, minimum[name])
			}
		}
		return nil
	})
	members := 0
	for name := range fams {
		if strings.HasPrefix(name, "memberlist_") {
			members++
		}
	}
	if members < 3 {
		t.Errorf("only %d memberlist_* series", members)
	}
	// statsd gets the same names, with the service name in front.
	cluster.Eventually(t, converge, func() error {
		for _, name := range wantCounters {
			if s := "serf-agent." + name; !statsd.has(s) {
				return fmt.Errorf("statsd has not seen %s", s)
			}
		}
		return nil
	})
}

// promCounter is the sum of the counter series name on a Prometheus
// endpoint.
func promCounter(t *testing.T, url, name string) float64 {
	t.Helper()
	code, body, err := httpGet(url)
	if err != nil || code != http.StatusOK {
		t.Fatalf("%s: %d %v", url, code, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	var sum float64
	for _, m := range parsed[name].GetMetric() {
		sum += m.GetCounter().GetValue()
	}
	return sum
}

// TestUDPSentCountsWireBytes: the agent's transport compresses in
// memberlist's place, so memberlist.udp.sent must count what goes on the
// wire, once: in a cluster of two, what one agent counts as sent is what
// the other counts as received. Compressible user events make most of the
// traffic, so counting bytes before compression, or twice, would show.
func TestUDPSentCountsWireBytes(t *testing.T) {
	t.Parallel()
	var urls []string
	var as []*cluster.Agent
	for _, name := range []string{"wire-a", "wire-b"} {
		port, err := cluster.FreeTCPPort()
		if err != nil {
			t.Fatal(err)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		urls = append(urls, "http://"+addr+"/metrics")
		as = append(as, start(t, name, "-metrics-addr", addr))
	}
	cluster.JoinAll(t, converge, as...)
	payload := strings.Repeat("compressible ", 30)
	for i := range 20 {
		if res := as[0].CLI(t, "event", fmt.Sprintf("deploy-%d", i), payload); res.Code != 0 {
			t.Fatalf("event: %s", res)
		}
	}
	as[1].WaitOutput(t, "Received event: user-event: deploy-19", converge)

	// Packets keep flowing (probes, acks) between the two scrapes, so the
	// counts may differ by a few packets, not by a factor.
	cluster.Eventually(t, converge, func() error {
		sent := promCounter(t, urls[0], "memberlist_udp_sent")
		received := promCounter(t, urls[1], "memberlist_udp_received")
		if sent < 2000 || sent > 1.1*received+300 || sent < 0.9*received-300 {
			return fmt.Errorf("wire-a counted %.0f bytes sent, wire-b %.0f received", sent, received)
		}
		return nil
	})
}

type dtoFamilies struct {
	name  string
	count int
	sum   float64
}

// TestLogJSONEveryLine: with -log-json, every line an agent prints through
// a join, an event, a query and a leave is one JSON log object.
func TestLogJSONEveryLine(t *testing.T) {
	t.Parallel()
	as := []*cluster.Agent{
		start(t, "json-a", "-log-json", "-log-level", "debug"),
		start(t, "json-b", "-log-json", "-log-level", "debug"),
	}
	cluster.JoinAll(t, converge, as...)
	if res := as[0].CLI(t, "event", "deploy", "v1"); res.Code != 0 {
		t.Fatalf("event: %s", res)
	}
	as[1].WaitOutput(t, "Received event: user-event: deploy", converge)
	if res := as[0].CLI(t, "query", "-timeout", "2s", "ping"); res.Code != 0 {
		t.Fatalf("query: %s", res)
	}
	if res := as[1].CLI(t, "leave"); res.Code != 0 {
		t.Fatalf("leave: %s", res)
	}
	as[1].Wait(t, exitWait)
	as[0].WaitStatus(t, converge, "json-b", "left")
	as[0].Interrupt()
	as[0].Wait(t, exitWait)

	for _, a := range as {
		out := a.Output()
		modules := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var r map[string]string
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%s printed a line that is not a JSON object: %q (%v)\nall output:\n%s", a.Name, line, err, out)
			}
			for _, k := range []string{"@timestamp", "@level", "@module", "@message"} {
				if _, ok := r[k]; !ok {
					t.Fatalf("%s: no %s in %q", a.Name, k, line)
				}
			}
			if _, err := time.Parse("2006-01-02T15:04:05.000000Z07:00", r["@timestamp"]); err != nil {
				t.Errorf("%s: @timestamp of %q: %v", a.Name, line, err)
			}
			modules[r["@module"]] = true
		}
		for _, m := range []string{"agent", "serf", "memberlist"} {
			if !modules[m] {
				t.Errorf("%s: no line from module %s", a.Name, m)
			}
		}
	}
	if !strings.Contains(as[0].Output(), `"@message":"Serf agent running!"`) {
		t.Error("the banner is not in JSON")
	}
}
