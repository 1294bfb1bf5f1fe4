package interop

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// holdCounters is what one agent's own memberlist counters counted over
// the whole metrics intervals within a hold.
type holdCounters struct {
	sentBytes  float64       // memberlist.udp.sent + memberlist.tcp.sent
	suspicions float64       // memberlist.msg.suspect
	covered    time.Duration // the intervals summed
}

// metricsInterval is the in-memory sink's interval in Serf's agent and
// ours (10 s intervals, kept for a minute).
const metricsInterval = 10 * time.Second

// dumpLine is one line of go-metrics' SIGUSR1 dump: "[<interval
// start>][<kind>] '<name>': <value>", where kind is G (gauge), P (point),
// C (counter) or S (sample); a counter's value is "Count: <n> ... Sum:
// <sum> ...".
var dumpLine = regexp.MustCompile(`^\[([^\]]+)\]\[([GPCS])\] '([^']+)': (.*)$`)

// counterSum is the Sum of a counter line's value (none when Count is 0).
var counterSum = regexp.MustCompile(`\bSum: ([0-9.eE+-]+)`)

// dumpMark is in every line of a dump, and in nothing an agent logs.
var dumpMark = regexp.MustCompile(`\]\[[GPCS]\] '`)

// dumpHoldCounters has every agent dump its in-memory metrics (SIGUSR1)
// and returns, per agent, its counters summed over the whole intervals
// within [from, to). It fails the test when an agent writes no dump within
// a minute or its dump covers no whole interval of the hold (a hold
// shorter than two intervals).
func dumpHoldCounters(t *testing.T, agents []*benchAgent, from, to time.Time) []holdCounters {
	offsets := make([]int, len(agents))
	for i, a := range agents {
		offsets[i] = a.OutputLen()
		if err := a.Signal(syscall.SIGUSR1); err != nil {
			t.Fatalf("%s: SIGUSR1: %v", a.Name, err)
		}
	}
	// A dump is one write, which the pipe may deliver in pieces: an agent
	// is done once its output holds dump lines and did not grow over
	// one poll. One still writing after a minute (a cluster that keeps
	// logging) is read as it is; one with no dump line by then fails.
	deadline := time.Now().Add(time.Minute)
	lens := slices.Clone(offsets)
	done := make([]bool, len(agents))
	for pending := len(agents); pending > 0; {
		time.Sleep(500 * time.Millisecond)
		late := time.Now().After(deadline)
		for i, a := range agents {
			if done[i] {
				continue
			}
			n := a.OutputLen()
			dumped := n > offsets[i] && dumpMark.MatchString(a.OutputSince(offsets[i]))
			if dumped && (n == lens[i] || late) {
				done[i] = true
				pending--
				continue
			}
			if late {
				t.Fatalf("%s wrote no metrics dump within a minute of SIGUSR1", a.Name)
			}
			lens[i] = n
		}
	}
	out := make([]holdCounters, len(agents))
	for i, a := range agents {
		c, err := parseHoldCounters(a.OutputSince(offsets[i]), from, to)
		if err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		out[i] = c
	}
	return out
}

// parseHoldCounters sums the counters of a SIGUSR1 dump over the intervals
// that start at or after from and end by to; an interval counts as
// covered when any line of the dump (gauges too: a member alone counts
// nothing) is in it. Lines that are not dump lines (log lines written
// meanwhile) are skipped.
func parseHoldCounters(dump string, from, to time.Time) (holdCounters, error) {
	var c holdCounters
	intervals := map[time.Time]bool{}
	for _, line := range strings.Split(dump, "\n") {
		m := dumpLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		at, err := time.Parse("2006-01-02 15:04:05 -0700 MST", m[1])
		if err != nil {
			return c, fmt.Errorf("metrics dump: interval %q: %v", m[1], err)
		}
		if at.Before(from) || at.Add(metricsInterval).After(to) {
			continue
		}
		intervals[at] = true
		sum := counterSum.FindStringSubmatch(m[4])
		if m[2] != "C" || sum == nil {
			continue
		}
		v, err := strconv.ParseFloat(sum[1], 64)
		if err != nil {
			return c, fmt.Errorf("metrics dump: %q: %v", line, err)
		}
		// Names may carry a prefix (service, host) and labels (";k=v").
		name, _, _ := strings.Cut(m[3], ";")
		switch {
		case strings.HasSuffix(name, "memberlist.udp.sent"), strings.HasSuffix(name, "memberlist.tcp.sent"):
			c.sentBytes += v
		case strings.HasSuffix(name, "memberlist.msg.suspect"):
			c.suspicions += v
		}
	}
	c.covered = time.Duration(len(intervals)) * metricsInterval
	if c.covered == 0 {
		return c, fmt.Errorf("metrics dump has no whole interval within %s – %s", from.Format(time.TimeOnly), to.Format(time.TimeOnly))
	}
	return c, nil
}

// A dump's counters are summed over the whole intervals within the hold
// only, whatever prefix or labels their names carry.
func TestParseHoldCounters(t *testing.T) {
	dump := `    2026/12/07 05:40:01 [INFO] serf: EventMemberJoin: b001 127.0.0.1
[2026-12-07 05:39:50 +0000 UTC][C] 'serf-agent.memberlist.udp.sent': Count: 40 Min: 20.000 Mean: 50.000 Max: 90.000 Stddev: 10.000 Sum: 2000.000 LastUpdated: 2026-12-07 05:39:59 +0000 UTC
[2026-12-07 05:40:00 +0000 UTC][G] 'serf-agent.host.runtime.alloc_bytes': 1234.000
[2026-12-07 05:40:00 +0000 UTC][C] 'serf-agent.memberlist.udp.sent': Count: 50 Min: 20.000 Mean: 40.000 Max: 90.000 Stddev: 10.000 Sum: 2100.000 LastUpdated: 2026-12-07 05:40:09 +0000 UTC
[2026-12-07 05:40:00 +0000 UTC][C] 'serf-agent.memberlist.tcp.sent;dc=one': Count: 1 Sum: 900.000 LastUpdated: 2026-12-07 05:40:03 +0000 UTC
[2026-12-07 05:40:00 +0000 UTC][C] 'serf-agent.memberlist.msg.suspect': Count: 2 Sum: 2.000 LastUpdated: 2026-12-07 05:40:03 +0000 UTC
[2026-12-07 05:40:10 +0000 UTC][C] 'serf-agent.memberlist.udp.sent': Count: 50 Min: 20.000 Mean: 40.000 Max: 90.000 Stddev: 10.000 Sum: 2000.000 LastUpdated: 2026-12-07 05:40:19 +0000 UTC
[2026-12-07 05:40:20 +0000 UTC][C] 'serf-agent.memberlist.udp.sent': Count: 5 Sum: 500.000 LastUpdated: 2026-12-07 05:40:21 +0000 UTC
`
	from := time.Date(2026, 12, 7, 5, 39, 55, 0, time.UTC)
	to := time.Date(2026, 12, 7, 5, 40, 25, 0, time.UTC)
	c, err := parseHoldCounters(dump, from, to)
	if err != nil {
		t.Fatal(err)
	}
	// 05:39:50 starts before the hold and 05:40:20 ends after it.
	want := holdCounters{sentBytes: 2100 + 900 + 2000, suspicions: 2, covered: 20 * time.Second}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if _, err := parseHoldCounters(dump, to, to.Add(time.Second)); err == nil {
		t.Fatal("a dump with no whole interval of the hold was accepted")
	}
	// A member alone counts nothing; its gauges still show the intervals.
	alone := "[2026-12-07 05:40:00 +0000 UTC][G] 'serf-agent.host.runtime.alloc_bytes': 1234.000\n" +
		"[2026-12-07 05:40:00 +0000 UTC][C] 'serf-agent.memberlist.udp.sent': Count: 0\n"
	if c, err := parseHoldCounters(alone, from, to); err != nil || c != (holdCounters{covered: metricsInterval}) {
		t.Fatalf("alone: %+v, %v", c, err)
	}
	if !dumpMark.MatchString(alone) || dumpMark.MatchString("    2026/12/07 05:40:01 [INFO] agent: Received event: member-join\n") {
		t.Fatal("dumpMark does not tell a dump from a log line")
	}
}
