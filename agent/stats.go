package agent

import (
	"fmt"
	"runtime"
	"strconv"
)

// Stats returns the sections of the `stats` RPC: agent, runtime, serf,
// tags and event_handlers. Every value is a string.
func (a *Agent) Stats() map[string]map[string]string {
	local := a.serf.LocalMember()
	tags := make(map[string]string, len(local.Tags))
	for k, v := range local.Tags {
		tags[k] = v
	}
	handlers := make(map[string]string)
	for _, s := range a.EventScripts() {
		handlers[fmt.Sprintf("%s:%s", s.Event, s.Name)] = s.Script
	}
	serfStats := a.serf.Stats()
	if serfStats == nil {
		serfStats = map[string]string{}
	}
	return map[string]map[string]string{
		"agent":          {"name": local.Name},
		"runtime":        runtimeStats(),
		"serf":           serfStats,
		"tags":           tags,
		"event_handlers": handlers,
	}
}

func runtimeStats() map[string]string {
	return map[string]string{
		"os":         runtime.GOOS,
		"arch":       runtime.GOARCH,
		"version":    runtime.Version(),
		"max_procs":  strconv.Itoa(runtime.GOMAXPROCS(0)),
		"goroutines": strconv.Itoa(runtime.NumGoroutine()),
		"cpu_count":  strconv.Itoa(runtime.NumCPU()),
	}
}
