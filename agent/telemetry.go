package agent

import (
	"fmt"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// StartTelemetry installs go-metrics' global registry the way Serf's agent
// does: an in-memory sink (10 s intervals, kept for a minute, dumped to
// stderr on SIGUSR1), fanned out with statsite and statsd sinks when
// statsite_addr / statsd_addr are set. Call the returned stop function to
// remove the signal handler.
func StartTelemetry(conf *Config) (stop func(), err error) {
	inm := metrics.NewInmemSink(10*time.Second, time.Minute)
	sig := metrics.DefaultInmemSignal(inm)

	sinks := metrics.FanoutSink{}
	for _, s := range []struct {
		addr string
		open func(string) (metrics.MetricSink, error)
		name string
	}{
		{conf.StatsiteAddr, func(a string) (metrics.MetricSink, error) { return metrics.NewStatsiteSink(a) }, "statsite"},
		{conf.StatsdAddr, func(a string) (metrics.MetricSink, error) { return metrics.NewStatsdSink(a) }, "statsd"},
	} {
		if s.addr == "" {
			continue
		}
		sink, err := s.open(s.addr)
		if err != nil {
			sig.Stop()
			return nil, fmt.Errorf("Failed to start %s sink. Got: %s", s.name, err)
		}
		sinks = append(sinks, sink)
	}

	mc := metrics.DefaultConfig("serf-agent")
	var sink metrics.MetricSink = inm
	if len(sinks) > 0 {
		sink = append(sinks, inm)
	} else {
		// Only the local in-memory sink: host names add nothing there.
		mc.EnableHostname = false
	}
	_, _ = metrics.NewGlobal(mc, sink)
	return sig.Stop, nil
}
