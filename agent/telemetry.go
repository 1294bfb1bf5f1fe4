package agent

import (
	"os"
	"os/signal"
	"sync"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// inmemInterval is the in-memory sink's aggregation interval (Serf's).
const inmemInterval = 10 * time.Second

// metricsService is the go-metrics service name, the first part of every
// metric name sent to statsd and statsite (as Serf's agent names them).
const metricsService = "serf-agent"

// Telemetry is the agent's one go-metrics set-up: an in-memory sink (10 s
// intervals, kept for a minute, dumped to stderr on SIGUSR1), fanned out
// with statsite and statsd sinks when statsite_addr / statsd_addr are set
// and with a Prometheus sink when metrics_addr is set. With global false
// NewTelemetry leaves go-metrics' global registry alone (tests); with
// global true (the agent command) it also installs a global registry into
// the same sinks, which memberlist reports through, and SIGUSR1 dumps
// them. That global registry drops the memberlist.udp.sent and
// memberlist.tcp.sent counters (withoutSentBytes): Serf's transport
// compresses what memberlist sends (serf.Config.TransportCompression), so
// memberlist would count bytes before compression, and the transport
// counts them into Metrics instead.
type Telemetry struct {
	// Metrics is where metrics go. A component that takes its metrics
	// by injection (a serf.Config field, for instance) gets this one.
	Metrics *metrics.Metrics
	// inmem is the in-memory sink that SIGUSR1 dumps.
	inmem *inmemSink
	// Prometheus holds the series MetricsServer serves; nil without
	// metrics_addr.
	Prometheus *PrometheusSink

	shutdown []metrics.ShutdownSink
	stopCh   chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
}

// NewTelemetry builds the sinks conf asks for. Runtime statistics are
// emitted every ProfileInterval by a goroutine that Stop ends.
func NewTelemetry(conf *Config, global bool) (*Telemetry, error) {
	t := &Telemetry{
		inmem:  newInmemSink(inmemInterval, time.Minute),
		stopCh: make(chan struct{}),
	}
	mc := metrics.DefaultConfig(metricsService)
	// Our own goroutine emits runtime statistics, so that it can stop.
	mc.EnableRuntimeMetrics = false

	sinks := metrics.FanoutSink{}
	// Our own line sinks (line_sink.go): the lines of go-metrics' statsite
	// and statsd sinks, without their always-ticking goroutine.
	if conf.StatsiteAddr != "" {
		sink := newStatsiteSink(conf.StatsiteAddr)
		sinks = append(sinks, sink)
		t.shutdown = append(t.shutdown, sink)
	}
	if conf.StatsdAddr != "" {
		sink := newStatsdSink(conf.StatsdAddr)
		sinks = append(sinks, sink)
		t.shutdown = append(t.shutdown, sink)
	}
	if conf.MetricsAddr != "" {
		t.Prometheus = NewPrometheusSink(metricsService, mc.HostName)
		sinks = append(sinks, t.Prometheus)
	}

	var sink metrics.MetricSink = t.inmem
	if len(sinks) > 0 {
		sink = append(sinks, t.inmem)
	} else {
		// Only the local in-memory sink: host names add nothing there.
		mc.EnableHostname = false
	}
	m, err := metrics.New(mc, sink)
	if err == nil && global {
		// A sink that drops two keys, not go-metrics' BlockedPrefixes:
		// with any filter set, go-metrics joins every key into a string
		// to look it up, for each packet memberlist counts.
		_, err = metrics.NewGlobal(mc, withoutSentBytes{sink})
	}
	if err != nil {
		t.shutdownSinks()
		return nil, err
	}
	t.Metrics = m
	if global {
		t.dumpOnSignal()
	}

	// Runtime statistics cost a stop-the-world ReadMemStats and a dozen
	// gauges each time, a tenth of an idle agent's CPU at Serf's 1 s. A
	// network sink gets them at that rate; the in-memory sink alone keeps
	// only the last value of each 10 s interval, so once an interval is
	// enough there.
	every := mc.ProfileInterval
	if len(sinks) == 0 {
		every = inmemInterval
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-t.stopCh:
				return
			case <-tick.C:
				m.EmitRuntimeStats()
			}
		}
	}()
	return t, nil
}

// Stop ends the runtime statistics, the SIGUSR1 handler and the network
// sinks. It is idempotent.
func (t *Telemetry) Stop() {
	t.once.Do(func() {
		close(t.stopCh)
		t.wg.Wait()
		t.shutdownSinks()
	})
}

func (t *Telemetry) shutdownSinks() {
	for _, s := range t.shutdown {
		s.Shutdown()
	}
	t.shutdown = nil
}

// StartTelemetry builds the telemetry for conf and installs it as
// go-metrics' global registry; stop undoes what it started.
func StartTelemetry(conf *Config) (stop func(), err error) {
	t, err := NewTelemetry(conf, true)
	if err != nil {
		return nil, err
	}
	return t.Stop, nil
}

// dumpOnSignal writes the in-memory metrics to stderr each time the
// process gets go-metrics' dump signal (SIGUSR1; SIGBREAK on Windows),
// as Serf's agent does, until Stop.
func (t *Telemetry) dumpOnSignal() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, metrics.DefaultSignal)
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer signal.Stop(sig)
		for {
			select {
			case <-t.stopCh:
				return
			case <-sig:
				_ = t.inmem.dump(os.Stderr)
			}
		}
	}()
}

// withoutSentBytes passes every metric on to its sink but memberlist's
// counters of bytes sent, <service>.memberlist.udp.sent and .tcp.sent.
type withoutSentBytes struct{ metrics.MetricSink }

func (w withoutSentBytes) IncrCounter(key []string, val float32) {
	if !isMemberlistSentBytes(key) {
		w.MetricSink.IncrCounter(key, val)
	}
}

func (w withoutSentBytes) IncrCounterWithLabels(key []string, val float32, labels []metrics.Label) {
	if !isMemberlistSentBytes(key) {
		w.MetricSink.IncrCounterWithLabels(key, val, labels)
	}
}

func isMemberlistSentBytes(key []string) bool {
	return len(key) == 4 && key[0] == metricsService && key[1] == "memberlist" &&
		(key[2] == "udp" || key[2] == "tcp") && key[3] == "sent"
}
