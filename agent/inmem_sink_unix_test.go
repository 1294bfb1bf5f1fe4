//go:build unix

package agent

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	metrics "github.com/hashicorp/go-metrics"
	"github.com/serf-clone/serf/serf/serftest"
)

// TestInmemSinkDumpsWhatGoMetricsDumps feeds the same metrics to our sink
// and to go-metrics' InmemSink and compares the dumps line for line, the
// library's taken the only way it gives one: its signal handler (SIGUSR2
// here, which nothing else in this process listens to).
func TestInmemSinkDumpsWhatGoMetricsDumps(t *testing.T) {
	const interval = time.Second
	ours := newInmemSink(interval, 6*interval)
	theirs := metrics.NewInmemSink(interval, 6*interval)
	var theirDump serftest.SyncBuffer
	sig := metrics.NewInmemSignal(theirs, syscall.SIGUSR2, &theirDump)
	defer sig.Stop()
	both := metrics.FanoutSink{ours, theirs}

	// Feed at the start of an interval, so both sinks file it under one.
	time.Sleep(time.Until(time.Now().Truncate(interval).Add(interval + 20*time.Millisecond)))
	labels := []metrics.Label{{Name: "dc", Value: "us east:1"}}
	for i := range 5 {
		both.IncrCounter([]string{"serf-agent", "memberlist", "udp", "received"}, float32(100+i))
		both.IncrCounterWithLabels([]string{"serf-agent", "serf", "member", "join"}, 1, labels)
		both.AddSample([]string{"serf-agent", "memberlist", "gossip"}, float32(i)/3)
		both.AddSampleWithLabels([]string{"serf-agent", "agent", "invoke", "my script"}, 7, labels)
	}
	both.IncrCounter([]string{"serf-agent", "serf", "events"}, 1)
	both.SetGauge([]string{"serf-agent", "host", "runtime", "num_goroutines"}, 42)
	both.SetGaugeWithLabels([]string{"serf-agent", "memberlist", "health", "score"}, 1.5, labels)
	both.EmitKey([]string{"serf-agent", "a key"}, 2.25)
	// A metric in the next interval, so the one above is complete.
	time.Sleep(time.Until(time.Now().Truncate(interval).Add(interval + 20*time.Millisecond)))
	both.IncrCounter([]string{"serf-agent", "later"}, 1)

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	serftest.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(theirDump.String(), "[P]") {
			return fmt.Errorf("no dump from go-metrics yet: %q", theirDump.String())
		}
		return nil
	})
	var ourDump strings.Builder
	if err := ours.dump(&ourDump); err != nil {
		t.Fatal(err)
	}
	got, want := dumpLines(ourDump.String()), dumpLines(theirDump.String())
	if !slices.Equal(got, want) {
		t.Errorf("our dump:\n%s\ngo-metrics' dump:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(got) != 8 {
		t.Errorf("%d lines, want 8:\n%s", len(got), strings.Join(got, "\n"))
	}
}

var lastUpdated = regexp.MustCompile(`LastUpdated: .*$`)

// dumpLines is a dump's lines, sorted (go-metrics writes them in map
// order), with the time of each aggregate's last update cut off, which
// differs by the microseconds between the two sinks' calls.
func dumpLines(dump string) []string {
	lines := strings.Split(strings.TrimSpace(dump), "\n")
	for i, l := range lines {
		lines[i] = lastUpdated.ReplaceAllString(l, "LastUpdated: -")
	}
	slices.Sort(lines)
	return lines
}
