package agent

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	metrics "github.com/hashicorp/go-metrics"
	"github.com/serf-clone/serf/serf/serftest"
)

// emitEverything drives every MetricSink method with awkward keys (':' and
// ' ' in them, labels, no key at all), awkward values (negative, tiny,
// huge, infinite) and enough lines to fill several statsd packets. It
// returns how many lines it emitted.
func emitEverything(s metrics.MetricSink) int {
	labels := []metrics.Label{{Name: "node", Value: "web 1"}, {Name: "dc", Value: "eu:west"}}
	values := []float32{0, 1, -2.5, 0.0000004, 123456.789, float32(math.Inf(1)), float32(math.Inf(-1))}
	lines := 0
	for i, v := range values {
		key := []string{"serf", "member", "flap"}
		if i%2 == 1 {
			key = []string{"odd key", "with:colon"}
		}
		s.SetGauge(key, v)
		s.SetGaugeWithLabels(key, v, labels)
		s.EmitKey(key, v)
		s.IncrCounter(key, v)
		s.IncrCounterWithLabels(key, v, labels)
		s.AddSample(key, v)
		s.AddSampleWithLabels(key, v, labels)
		lines += 7
		if p, ok := s.(metrics.PrecisionGaugeMetricSink); ok {
			p.SetPrecisionGauge(key, float64(v)*1e9+0.125)
			p.SetPrecisionGaugeWithLabels(key, float64(v), labels)
			lines += 2
		}
	}
	s.SetGaugeWithLabels(nil, 3, labels)
	lines++
	for i := 0; i < 150; i++ {
		s.IncrCounter([]string{"memberlist", "udp", "sent"}, float32(i))
		lines++
	}
	return lines
}

// readLines collects what a server received until it holds want lines.
func readLines(t *testing.T, got func() string, want int) string {
	t.Helper()
	var text string
	serftest.Eventually(t, 10*time.Second, func() error {
		text = got()
		if n := strings.Count(text, "\n"); n < want {
			return errors.New("lines still missing")
		}
		return nil
	})
	return text
}

// udpServer records every datagram sent to it.
type udpServer struct {
	pc      net.PacketConn
	mu      sync.Mutex
	packets [][]byte
}

func newUDPServer(t *testing.T) *udpServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &udpServer{pc: pc}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			u.mu.Lock()
			u.packets = append(u.packets, append([]byte(nil), buf[:n]...))
			u.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = pc.Close(); <-done })
	return u
}

func (u *udpServer) text() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return string(bytes.Join(u.packets, nil))
}

// tcpServer records the stream of every connection accepted.
type tcpServer struct {
	ln  net.Listener
	mu  sync.Mutex
	buf bytes.Buffer
}

func newTCPServer(t *testing.T) *tcpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tcpServer{ln: ln}
	var wg sync.WaitGroup
	var connsMu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connsMu.Lock()
			conns = append(conns, c)
			connsMu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadBytes('\n')
					s.mu.Lock()
					s.buf.Write(line)
					s.mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		connsMu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		connsMu.Unlock()
		wg.Wait()
	})
	return s
}

func (s *tcpServer) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// sameLinesAsGoMetrics emits the same calls to go-metrics' sink and to
// ours and fails unless their servers received the same lines.
func sameLinesAsGoMetrics(t *testing.T, theirs, ours metrics.MetricSink, theirsText, oursText func() string) {
	t.Helper()
	n := emitEverything(theirs)
	if m := emitEverything(ours); m != n {
		t.Fatalf("emitted %d lines to go-metrics, %d to ours", n, m)
	}
	want := readLines(t, theirsText, n)
	if got := readLines(t, oursText, n); got != want {
		t.Errorf("lines differ from go-metrics'.\nours:\n%s\ngo-metrics:\n%s", got, want)
	}
}

func TestStatsdLinesMatchGoMetrics(t *testing.T) {
	theirsSrv, oursSrv := newUDPServer(t), newUDPServer(t)
	theirs, err := metrics.NewStatsdSink(theirsSrv.pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Shutdown()
	ours := newStatsdSink(oursSrv.pc.LocalAddr().String())
	defer ours.Shutdown()

	sameLinesAsGoMetrics(t, theirs, ours, theirsSrv.text, oursSrv.text)
	oursSrv.mu.Lock()
	defer oursSrv.mu.Unlock()
	if len(oursSrv.packets) < 2 {
		t.Errorf("the lines came in %d packet(s); they fill more than one", len(oursSrv.packets))
	}
	for _, p := range oursSrv.packets {
		if len(p) > statsdPacketMax {
			t.Errorf("a %d-byte packet; the limit is %d", len(p), statsdPacketMax)
		}
		if !bytes.HasSuffix(p, []byte("\n")) {
			t.Errorf("a packet ends inside a line: %q", p)
		}
	}
}

func TestStatsiteLinesMatchGoMetrics(t *testing.T) {
	theirsSrv, oursSrv := newTCPServer(t), newTCPServer(t)
	theirs, err := metrics.NewStatsiteSink(theirsSrv.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Shutdown()
	ours := newStatsiteSink(oursSrv.ln.Addr().String())
	defer ours.Shutdown()

	sameLinesAsGoMetrics(t, theirs, ours, theirsSrv.text, oursSrv.text)
}

// A quiet sink has no timer armed: nothing wakes the agent for it.
func TestLineSinkSleepsWhenIdle(t *testing.T) {
	srv := newUDPServer(t)
	s := newStatsdSink(srv.pc.LocalAddr().String())
	defer s.Shutdown()
	s.IncrCounter([]string{"one"}, 1)
	s.mu.Lock()
	armed := s.armed
	s.mu.Unlock()
	if !armed {
		t.Fatal("a waiting line armed no flush")
	}
	readLines(t, srv.text, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.armed || len(s.buf) > 0 || s.queued != 0 {
		t.Errorf("after the flush: armed %v, %d bytes waiting, %d queued", s.armed, len(s.buf), s.queued)
	}
}

// After a failed dial, lines are dropped until the retry delay is over;
// then the sink dials again and delivers. The delay is an hour, and the
// test ends it by moving downUntil, so no step depends on timing.
func TestLineSinkRetriesAfterFailure(t *testing.T) {
	srv := newTCPServer(t)
	s := newStatsiteSink(srv.ln.Addr().String())
	defer s.Shutdown()
	s.retryDelay = time.Hour
	refuse := true
	s.dial = func(network, addr string) (net.Conn, error) {
		if refuse { // only flush dials, and flushes never overlap
			return nil, errors.New("refused")
		}
		return net.Dial(network, addr)
	}
	s.IncrCounter([]string{"lost"}, 1)
	s.flush()
	s.IncrCounter([]string{"dropped"}, 1)
	s.mu.Lock()
	down, queued := !s.downUntil.IsZero(), s.queued
	s.mu.Unlock()
	if !down {
		t.Fatal("a failed dial did not put the sink down")
	}
	if queued != 0 {
		t.Errorf("%d bytes queued while down", queued)
	}

	s.writeMu.Lock()
	refuse = false
	s.writeMu.Unlock()
	s.mu.Lock()
	s.downUntil = time.Now().Add(-time.Second)
	s.mu.Unlock()
	s.IncrCounter([]string{"kept"}, 1)
	s.flush()
	text := readLines(t, srv.text, 1)
	if text != "kept:1.000000|c\n" {
		t.Errorf("after the retry delay the server got %q, want only the line sent after it", text)
	}
}
