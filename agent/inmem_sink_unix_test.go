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
// here, which nothing else in this process listens to). Both sinks file
// by the wall clock, so the metrics are fed at the start of a second;
// a feed that a stalled machine stretched across two seconds is tried
// again.
func TestInmemSinkDumpsWhatGoMetricsDumps(t *testing.T) {
	for try := 1; ; try++ {
		got, want, ok := dumpBothSinks(t)
		if !ok && try < 3 {
			continue
		}
		if !ok {
			t.Fatal("three feeds in a row ran across a second's boundary")
		}
		if !slices.Equal(got, want) {
			t.Errorf("our dump:\n%s\ngo-metrics' dump:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if len(got) != 8 {
			t.Errorf("%d lines, want 8:\n%s", len(got), strings.Join(got, "\n"))
		}
		return
	}
}

// dumpBothSinks feeds one set of metrics to both sinks within one second
// and returns both dumps' lines; ok is false if the feed crossed into the
// next second.
func dumpBothSinks(t *testing.T) (ours, theirs []string, ok bool) {
	const interval = time.Second
	our := newInmemSink(interval, 6*interval)
	their := metrics.NewInmemSink(interval, 6*interval)
	var theirDump serftest.SyncBuffer
	sig := metrics.NewInmemSignal(their, syscall.SIGUSR2, &theirDump)
	defer sig.Stop()
	both := metrics.FanoutSink{our, their}

	time.Sleep(time.Until(time.Now().Truncate(interval).Add(interval + 20*time.Millisecond)))
	fedFrom := time.Now()
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
	if !time.Now().Truncate(interval).Equal(fedFrom.Truncate(interval)) {
		return nil, nil, false
	}
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
	if err := our.dump(&ourDump); err != nil {
		t.Fatal(err)
	}
	return dumpLines(ourDump.String()), dumpLines(theirDump.String()), true
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
