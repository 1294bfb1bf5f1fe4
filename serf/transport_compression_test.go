package serf_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	metrics "github.com/hashicorp/go-metrics"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// A Serf that compresses in its transport and one that leaves compression
// to memberlist form one cluster on 127.0.0.1: the join's push/pull (a
// stream each way) works, and compressible user events get across in both
// directions. The transport's side counts the bytes it sent into its own
// registry; memberlist's side leaves its registry without them.
func TestTransportCompressionInterworks(t *testing.T) {
	type node struct {
		serf   *serf.Serf
		events chan serf.Event
		sink   *metrics.InmemSink
	}
	start := func(name string, inTransport bool) node {
		conf := onLoopback(name, 0, io.Discard)
		conf.TransportCompression = inTransport
		sink := metrics.NewInmemSink(time.Hour, time.Hour)
		mc := metrics.DefaultConfig("t")
		mc.EnableRuntimeMetrics, mc.EnableHostname = false, false
		m, err := metrics.New(mc, sink)
		if err != nil {
			t.Fatal(err)
		}
		conf.Metrics = m
		s, events := createWithEvents(t, conf)
		return node{s, events, sink}
	}
	packing, plain := start("packing", true), start("plain", false)

	if _, err := plain.serf.Join([]string{packing.serf.Memberlist().LocalNode().Address()}, false); err != nil {
		t.Fatal(err)
	}
	for _, n := range []node{packing, plain} {
		serftest.Eventually(t, 10*time.Second, func() error {
			if got := n.serf.NumNodes(); got != 2 {
				return fmt.Errorf("%s knows %d nodes", n.serf.LocalMember().Name, got)
			}
			return nil
		})
	}

	payload := bytes.Repeat([]byte("compressible "), 30)
	for _, from := range []node{packing, plain} {
		to := plain
		if from.serf == plain.serf {
			to = packing
		}
		name := "from-" + from.serf.LocalMember().Name
		if err := from.serf.UserEvent(name, payload, false); err != nil {
			t.Fatal(err)
		}
		awaitUserEvent(t, to.events, name, payload)
	}

	counted := func(sink *metrics.InmemSink, key string) float64 {
		var sum float64
		for _, interval := range sink.Data() {
			interval.RLock()
			if c, ok := interval.Counters[key]; ok {
				sum += c.Sum
			}
			interval.RUnlock()
		}
		return sum
	}
	for _, key := range []string{"t.memberlist.udp.sent", "t.memberlist.tcp.sent"} {
		if counted(packing.sink, key) == 0 {
			t.Errorf("the transport's side did not count %s", key)
		}
		if n := counted(plain.sink, key); n != 0 {
			t.Errorf("memberlist's side counted %s (%v) outside go-metrics' global registry", key, n)
		}
	}
}
