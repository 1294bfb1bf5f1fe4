package agent

import (
	"bytes"
	"net"
	"strconv"
	"sync"
	"time"

	metrics "github.com/hashicorp/go-metrics"
)

// lineSink sends metrics to statsd (UDP) or statsite (TCP) as text lines,
// "name:value|type\n", byte for byte the lines of go-metrics' StatsdSink
// and StatsiteSink. Like those it puts at most statsdPacketMax bytes in a
// statsd datagram, drops lines for lineRetryDelay after a failed dial or
// write, and drops them when too many wait.
//
// What differs is what a quiet agent pays. Those sinks keep a goroutine
// that a 100 ms ticker wakes whether or not a line waits, every line
// crosses a channel to it, and an idle agent writes a datagram about five
// times a second; on loopback each write also delivers it, on the
// sender's CPU. With a statsd address set that nearly doubled an idle
// agent's CPU (BENCHMARKS.md, "Idle CPU and the statsd sink"). Here
// whoever emits a line appends it under a mutex, the first line after a
// flush arms a timer, and the timer's callback writes everything that
// waits: with nothing to send nothing wakes. A line waits at most
// lineFlushDelay, one second rather than go-metrics' 100 ms, so a quiet
// agent writes about once a second; statsd and statsite aggregate over
// windows of ten seconds, where a line up to a second late lands in the
// same window or the next (a deliberate difference in the README).
type lineSink struct {
	network string // "udp" (statsd) or "tcp" (statsite)
	addr    string
	// packetMax bounds one write (statsd: one datagram); 0 for a stream.
	packetMax  int
	retryDelay time.Duration
	dial       func(network, addr string) (net.Conn, error)

	mu        sync.Mutex
	buf       []byte   // lines not yet handed to a write
	ready     [][]byte // full statsd packets waiting for the flush
	queued    int      // bytes in buf and ready
	armed     bool     // the flush timer is pending
	downUntil time.Time
	closed    bool
	timer     *time.Timer

	// writeMu serialises flushes: a timer re-armed while its callback
	// runs may fire again before the first callback is done.
	writeMu sync.Mutex
	conn    net.Conn // owned by the flush; nil until dialled
}

const (
	// lineFlushDelay is how long a line may wait.
	lineFlushDelay = time.Second
	// statsdPacketMax is go-metrics' statsdMaxLen.
	statsdPacketMax = 1400
	// lineRetryDelay is go-metrics' wait after a connection error.
	lineRetryDelay = 5 * time.Second
	// lineQueueMax bounds what waits for a slow or absent server; lines
	// beyond it are dropped, as go-metrics drops them once its queue of
	// 4,096 lines is full.
	lineQueueMax = 256 << 10
)

// newStatsdSink sends lines to a statsd server over UDP.
func newStatsdSink(addr string) *lineSink {
	return newLineSink("udp", addr, statsdPacketMax)
}

// newStatsiteSink streams lines to a statsite server over TCP.
func newStatsiteSink(addr string) *lineSink {
	return newLineSink("tcp", addr, 0)
}

func newLineSink(network, addr string, packetMax int) *lineSink {
	s := &lineSink{network: network, addr: addr, packetMax: packetMax, retryDelay: lineRetryDelay, dial: net.Dial}
	s.timer = time.AfterFunc(time.Hour, s.flush)
	s.timer.Stop()
	return s
}

func (s *lineSink) SetGauge(key []string, val float32) { s.push(key, nil, float64(val), 32, "g") }
func (s *lineSink) SetGaugeWithLabels(key []string, val float32, labels []metrics.Label) {
	s.push(key, labels, float64(val), 32, "g")
}
func (s *lineSink) SetPrecisionGauge(key []string, val float64) { s.push(key, nil, val, 64, "g") }
func (s *lineSink) SetPrecisionGaugeWithLabels(key []string, val float64, labels []metrics.Label) {
	s.push(key, labels, val, 64, "g")
}
func (s *lineSink) EmitKey(key []string, val float32)     { s.push(key, nil, float64(val), 32, "kv") }
func (s *lineSink) IncrCounter(key []string, val float32) { s.push(key, nil, float64(val), 32, "c") }
func (s *lineSink) IncrCounterWithLabels(key []string, val float32, labels []metrics.Label) {
	s.push(key, labels, float64(val), 32, "c")
}
func (s *lineSink) AddSample(key []string, val float32) { s.push(key, nil, float64(val), 32, "ms") }
func (s *lineSink) AddSampleWithLabels(key []string, val float32, labels []metrics.Label) {
	s.push(key, labels, float64(val), 32, "ms")
}

// Shutdown writes what waits and closes the connection. Later lines are
// dropped.
func (s *lineSink) Shutdown() {
	s.mu.Lock()
	s.closed = true
	s.timer.Stop()
	s.mu.Unlock()
	s.flush()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// appendLine formats one line as go-metrics does: the key parts and then
// the label values joined by dots, ':' and ' ' replaced by '_', and the
// value as fmt's %f would print it (six decimals, at the value's width).
func appendLine(b []byte, key []string, labels []metrics.Label, val float64, bits int, kind string) []byte {
	start := len(b)
	for i, part := range key {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, part...)
	}
	for i, l := range labels {
		if i > 0 || len(key) > 0 {
			b = append(b, '.')
		}
		b = append(b, l.Value...)
	}
	for i := start; i < len(b); i++ {
		if b[i] == ':' || b[i] == ' ' {
			b[i] = '_'
		}
	}
	b = append(b, ':')
	b = strconv.AppendFloat(b, val, 'f', 6, bits)
	b = append(b, '|')
	b = append(b, kind...)
	return append(b, '\n')
}

func (s *lineSink) push(key []string, labels []metrics.Label, val float64, bits int, kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.queued >= lineQueueMax {
		return
	}
	if !s.downUntil.IsZero() {
		if time.Now().Before(s.downUntil) {
			return
		}
		s.downUntil = time.Time{}
	}
	n := len(s.buf)
	s.buf = appendLine(s.buf, key, labels, val, bits, kind)
	s.queued += len(s.buf) - n
	if s.packetMax > 0 && len(s.buf) > s.packetMax && n > 0 {
		// The new line does not fit: what came before it is one packet.
		line := append([]byte(nil), s.buf[n:]...)
		s.ready = append(s.ready, s.buf[:n:n])
		s.buf = line
		s.timer.Reset(0)
		s.armed = true
		return
	}
	if !s.armed {
		s.armed = true
		s.timer.Reset(lineFlushDelay)
	}
}

// flush writes every waiting line: each statsd packet as one datagram, or
// everything as one write to statsite.
func (s *lineSink) flush() {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	writes := s.ready
	if len(s.buf) > 0 {
		writes = append(writes, s.buf)
	}
	s.ready, s.buf, s.queued, s.armed = nil, nil, 0, false
	s.mu.Unlock()
	if len(writes) == 0 {
		return
	}
	if s.packetMax == 0 && len(writes) > 1 {
		writes = [][]byte{bytes.Join(writes, nil)}
	}
	if s.conn == nil {
		conn, err := s.dial(s.network, s.addr)
		if err != nil {
			s.down()
			return
		}
		s.conn = conn
	}
	for _, w := range writes {
		if _, err := s.conn.Write(w); err != nil {
			_ = s.conn.Close()
			s.conn = nil
			s.down()
			return
		}
	}
}

// down drops lines for retryDelay after a failed dial or write; the flush
// after that dials again.
func (s *lineSink) down() {
	s.mu.Lock()
	s.downUntil = time.Now().Add(s.retryDelay)
	s.ready, s.buf, s.queued = nil, nil, 0
	s.mu.Unlock()
}
