package command

import (
	"fmt"
	"time"

	metrics "github.com/hashicorp/go-metrics"
	"github.com/serf-clone/serf/agent"
)

// setupTelemetry installs go-metrics' global registry as Serf's agent does:
// an in-memory sink (10 s intervals, 1 min retention, dumped to stderr on
// SIGUSR1) plus optional statsite and statsd sinks. The returned function
// stops the signal handler.
func setupTelemetry(config *agent.Config) (func(), error) {
	inm := metrics.NewInmemSink(10*time.Second, time.Minute)
	sig := metrics.DefaultInmemSignal(inm)
	conf := metrics.DefaultConfig("serf-agent")

	var fanout metrics.FanoutSink
	if config.StatsiteAddr != "" {
		sink, err := metrics.NewStatsiteSink(config.StatsiteAddr)
		if err != nil {
			sig.Stop()
			return nil, fmt.Errorf("Failed to start statsite sink. Got: %s", err)
		}
		fanout = append(fanout, sink)
	}
	if config.StatsdAddr != "" {
		sink, err := metrics.NewStatsdSink(config.StatsdAddr)
		if err != nil {
			sig.Stop()
			return nil, fmt.Errorf("Failed to start statsd sink. Got: %s", err)
		}
		fanout = append(fanout, sink)
	}
	if len(fanout) > 0 {
		fanout = append(fanout, inm)
		_, _ = metrics.NewGlobal(conf, fanout)
	} else {
		conf.EnableHostname = false
		_, _ = metrics.NewGlobal(conf, inm)
	}
	return sig.Stop, nil
}
