package agent

// Benchmarks of the agent's hot paths, as a baseline for later changes:
//
//	go test -run '^$' -bench . -benchmem ./agent/
//
// They are skipped by plain `go test` (benchmarks only run with -bench).

import (
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	metrics "github.com/hashicorp/go-metrics"
	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// benchMembers is a few members with tags, as a member event carries them.
func benchMembers(n int) []serf.Member {
	ms := make([]serf.Member, n)
	for i := range ms {
		ms[i] = serf.Member{
			Name:   fmt.Sprintf("node-%d", i),
			Addr:   net.IPv4(10, 0, 0, byte(i)),
			Port:   7946,
			Tags:   map[string]string{"role": "web", "dc": "east"},
			Status: serf.StatusAlive,
		}
	}
	return ms
}

// BenchmarkHandlerInvoke runs one member-join event through a trivial
// handler script: filter match, SERF_* environment, stdin, process start
// and wait. Dominated by fork/exec of /bin/sh.
func BenchmarkHandlerInvoke(b *testing.B) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		b.Skip("no /bin/sh")
	}
	self := serf.Member{Name: "bench", Addr: net.IPv4(127, 0, 0, 1), Tags: map[string]string{"role": "db", "dc": "east"}}
	e := serf.MemberEvent{Type: serf.EventMemberJoin, Members: benchMembers(3)}
	var logs serftest.SyncBuffer
	h := NewScriptHandler(func() serf.Member { return self }, ParseEventScript("member-join=cat >/dev/null"), log.New(&logs, "", 0))
	defer h.Stop()

	h.invoke(e) // once untimed, to check the script works
	if !strings.Contains(logs.String(), "script output") || strings.Contains(logs.String(), "[ERR]") {
		b.Fatalf("script did not run cleanly:\n%s", logs.String())
	}
	for b.Loop() {
		h.invoke(e)
	}
}

// BenchmarkHandlerMatch checks events against 200 handler filters, as the
// script handler does for every event (RPC streams use the same Matches).
func BenchmarkHandlerMatch(b *testing.B) {
	var specs []EventScript
	for i := 0; i < 50; i++ {
		specs = append(specs, ParseEventScript(fmt.Sprintf("user:deploy-%d=h.sh", i))...)
		specs = append(specs, ParseEventScript(fmt.Sprintf("query:load-%d=h.sh", i))...)
		specs = append(specs, ParseEventScript("member-join,member-leave=h.sh")...)
	}
	if len(specs) != 200 {
		b.Fatalf("%d specs", len(specs))
	}
	for _, tc := range []struct {
		name  string
		e     serf.Event
		match int
	}{
		{"user", serf.UserEvent{Name: "deploy-49", Payload: []byte("x")}, 1},
		{"member", serf.MemberEvent{Type: serf.EventMemberJoin, Members: benchMembers(1)}, 50},
		{"none", serf.MemberEvent{Type: serf.EventMemberFailed, Members: benchMembers(1)}, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			count := func() int {
				n := 0
				for _, s := range specs {
					if s.Matches(tc.e) {
						n++
					}
				}
				return n
			}
			if got := count(); got != tc.match {
				b.Fatalf("%d matches, want %d", got, tc.match)
			}
			for b.Loop() {
				count()
			}
		})
	}
}

// BenchmarkRPCMembers is a `members` round trip through the Go client to an
// in-process agent, with 1 member and with 64 (the others are bare Serf
// instances on 127.0.0.1; their background gossip is included in the time
// and in -benchmem's counts, which are process-wide).
func BenchmarkRPCMembers(b *testing.B) {
	for _, size := range []int{1, 64} {
		b.Run(fmt.Sprintf("members=%d", size), func(b *testing.B) {
			n := startNode(b, "bench", nil)
			if err := n.logs.SetLevel("INFO"); err != nil {
				b.Fatal(err)
			}
			for i := 1; i < size; i++ {
				joinBareSerf(b, fmt.Sprintf("peer-%d", i), n.bind)
			}
			waitFor(b, 30*time.Second, func() bool { return countAlive(n.agent.Serf()) == size })

			c, err := client.Dial(n.rpcAddr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if ms, err := c.Members(); err != nil || len(ms) != size {
				b.Fatalf("members: %d, %v", len(ms), err)
			}
			for b.Loop() {
				if _, err := c.Members(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStreamFanout hands one user event to the agent's event loop (as
// Serf does) and waits until every one of N `stream` subscribers, each on
// its own connection, has received it.
func BenchmarkStreamFanout(b *testing.B) {
	for _, subs := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("subscribers=%d", subs), func(b *testing.B) {
			n := startNode(b, "bench", nil)
			if err := n.logs.SetLevel("INFO"); err != nil {
				b.Fatal(err)
			}
			chans := make([]chan map[string]interface{}, subs)
			for i := range chans {
				c, err := client.Dial(n.rpcAddr)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { c.Close() })
				chans[i] = make(chan map[string]interface{}, 16)
				if _, err := c.Stream("user", chans[i]); err != nil {
					b.Fatal(err)
				}
			}

			var ltime serf.LamportTime
			deliver := func() {
				ltime++
				n.agent.eventCh <- serf.UserEvent{LTime: ltime, Name: "fanout", Payload: []byte("payload")}
				deadline := time.NewTimer(10 * time.Second)
				defer deadline.Stop()
				for _, ch := range chans {
					select {
					case <-ch:
					case <-deadline.C:
						b.Fatal("a subscriber did not get the event")
					}
				}
			}
			deliver() // untimed: every stream is live
			for b.Loop() {
				deliver()
			}
		})
	}
}

// joinBareSerf starts a plain Serf on a free loopback port and joins it
// to addr; it is shut down when the benchmark ends.
func joinBareSerf(b *testing.B, name, addr string) {
	b.Helper()
	conf := serf.DefaultConfig()
	conf.NodeName = name
	conf.Logger = log.New(io.Discard, "", 0)
	conf.MemberlistConfig = memberlist.DefaultLocalConfig()
	conf.MemberlistConfig.Name = name
	conf.MemberlistConfig.BindAddr = "127.0.0.1"
	conf.MemberlistConfig.BindPort = 0
	conf.MemberlistConfig.Logger = conf.Logger
	s, err := serf.Create(conf)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown() })
	if _, err := s.Join([]string{addr}, true); err != nil {
		b.Fatal(err)
	}
}

func countAlive(s *serf.Serf) int {
	n := 0
	for _, m := range s.Members() {
		if m.Status == serf.StatusAlive {
			n++
		}
	}
	return n
}

// BenchmarkPacketMetric is what memberlist's per-packet counter costs
// through the global registry the agent installs, as it was (go-metrics'
// InmemSink behind BlockedPrefixes) and as it is (inmemSink behind
// withoutSentBytes).
func BenchmarkPacketMetric(b *testing.B) {
	key := []string{"memberlist", "udp", "received"}
	run := func(b *testing.B, mc *metrics.Config, sink metrics.MetricSink) {
		mc.EnableRuntimeMetrics = false
		m, err := metrics.New(mc, sink)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			m.IncrCounterWithLabels(key, 120, nil)
		}
	}
	b.Run("go-metrics", func(b *testing.B) {
		mc := metrics.DefaultConfig(metricsService)
		mc.BlockedPrefixes = []string{metricsService + ".memberlist.udp.sent", metricsService + ".memberlist.tcp.sent"}
		run(b, mc, metrics.NewInmemSink(inmemInterval, time.Minute))
	})
	b.Run("ours", func(b *testing.B) {
		run(b, metrics.DefaultConfig(metricsService), withoutSentBytes{newInmemSink(inmemInterval, time.Minute)})
	})
}
