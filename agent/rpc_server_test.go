package agent

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf/serftest"
)

// startRPC serves n's agent on a second listener with the given options.
func startRPC(t *testing.T, n *testNode, opts RPCServerOptions) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewRPCServerWithOptions(n.agent, ln, n.logs, n.logs.Monitors(), opts)
	t.Cleanup(s.Shutdown)
	return ln.Addr().String()
}

// failingListener fails its first failures Accepts the way an exhausted
// descriptor table does, then blocks until closed. It records when each
// Accept was called.
type failingListener struct {
	failures int
	mu       sync.Mutex
	calls    []time.Time
	closed   chan struct{}
	once     sync.Once
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.calls = append(l.calls, time.Now())
	n := len(l.calls)
	l.mu.Unlock()
	if n <= l.failures {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	<-l.closed
	return nil, net.ErrClosed
}

func (l *failingListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *failingListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

func (l *failingListener) callTimes() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.calls...)
}

func TestRPCAcceptFailuresBackOffAndLogOnce(t *testing.T) {
	n := startNode(t, "emfile", nil)
	const failures = 7
	ln := &failingListener{failures: failures, closed: make(chan struct{})}
	s := NewRPCServer(n.agent, "", ln, n.logs, n.logs.Monitors())
	defer s.Shutdown()

	serftest.Eventually(t, 10*time.Second, func() error {
		if got := len(ln.callTimes()); got <= failures {
			return fmt.Errorf("%d accepts so far", got)
		}
		return nil
	})
	// Each pause is at least the scheduled one (timers never fire early):
	// 5ms, doubling.
	calls := ln.callTimes()
	want := defaultRPCAcceptBackoffMin
	for i := 1; i <= failures; i++ {
		if gap := calls[i].Sub(calls[i-1]); gap < want {
			t.Errorf("accept %d came %v after a failure; want at least %v", i+1, gap, want)
		}
		want *= 2
	}
	if got := strings.Count(n.console.String(), "Failed to accept client"); got != 1 {
		t.Errorf("%d accept failure lines for one episode, want 1", got)
	}
}

func TestRPCAcceptBackoffSchedule(t *testing.T) {
	b := acceptBackoff{min: 5 * time.Millisecond, max: time.Second}
	var got []time.Duration
	for i := 0; i < 10; i++ {
		got = append(got, b.next())
	}
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("schedule %v", got)
		}
	}
	b.reset()
	if d := b.next(); d != 5*time.Millisecond {
		t.Fatalf("after reset: %v", d)
	}
}

// closedWithin reports whether the server closes conn before the deadline.
func closedWithin(conn net.Conn, deadline time.Time) error {
	conn.SetReadDeadline(deadline)
	_, err := conn.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%v still open", conn.LocalAddr())
	}
	if err == nil {
		return fmt.Errorf("%v: server sent data", conn.LocalAddr())
	}
	return nil
}

func TestRPCHostileConnectionsDoNotStarveClients(t *testing.T) {
	n := startNode(t, "crowd", nil)
	addr := startRPC(t, n, RPCServerOptions{HandshakeTimeout: time.Second})

	// 1,000 connections that never handshake: twice the default cap.
	hostile := make([]net.Conn, 0, 1000)
	for i := 0; i < 1000; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		hostile = append(hostile, c)
	}
	// A real client still gets its answer while they are open.
	if got := membersOf(t, addr); len(got) != 1 || got[0].Name != "crowd" {
		t.Fatalf("members %+v", got)
	}
	// And every hostile one is closed by the server once the handshake
	// timeout has passed.
	deadline := time.Now().Add(15 * time.Second)
	for _, c := range hostile {
		if err := closedWithin(c, deadline); err != nil {
			t.Fatal(err)
		}
	}
	out := n.console.String()
	if got := strings.Count(out, "RPC connections open (the limit)"); got != 1 {
		t.Errorf("%d connection-limit warnings, want 1 per episode", got)
	}
	if !strings.Contains(out, "[WARN] agent.ipc: Closing ipc.client: 127.0.0.1:") ||
		!strings.Contains(out, ": no handshake within 1s") {
		t.Error("no handshake timeout logged")
	}
}

func TestRPCConnectionCapWithEstablishedClients(t *testing.T) {
	n := startNode(t, "cap", nil)
	addr := startRPC(t, n, RPCServerOptions{MaxConns: 3})
	good := make([]*rawClient, 3)
	for i := range good {
		good[i] = dialRaw(t, addr)
		good[i].handshake()
	}
	// Every slot is held by an established client: newcomers are refused.
	for i := 0; i < 3; i++ {
		extra := dialRaw(t, addr)
		if !extra.closedByServer() {
			t.Fatal("connection beyond the cap left open")
		}
	}
	if got := strings.Count(n.console.String(), "RPC connections open (the limit)"); got != 1 {
		t.Errorf("%d connection-limit warnings, want 1", got)
	}
	for _, g := range good {
		if e := g.call(client.MembersCommand, nil); e != "" {
			t.Fatal(e)
		}
		var resp client.MembersResponse
		g.body(&resp)
	}
	// A slot that frees up is usable again.
	good[0].conn.Close()
	serftest.Eventually(t, 10*time.Second, func() error {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		// Until the server has seen the close, a newcomer may still be
		// refused: errors here are retried, not fatal.
		enc := codec.NewEncoder(c, client.NewMsgpackHandle())
		if err := enc.Encode(&client.RequestHeader{Command: client.HandshakeCommand, Seq: 1}); err != nil {
			return err
		}
		if err := enc.Encode(&client.HandshakeRequest{Version: 1}); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		var h client.ResponseHeader
		if err := codec.NewDecoder(c, client.NewMsgpackHandle()).Decode(&h); err != nil {
			return err
		}
		const seq = 1
		if h.Seq != seq || h.Error != "" {
			return fmt.Errorf("handshake reply %+v", h)
		}
		return nil
	})
}

func TestRPCIdleTimeoutSparesStreams(t *testing.T) {
	n := startNode(t, "idle", nil)
	addr := startRPC(t, n, RPCServerOptions{IdleTimeout: 300 * time.Millisecond})

	mon := dialRaw(t, addr)
	mon.handshake()
	if e := mon.call(client.MonitorCommand, &client.MonitorRequest{LogLevel: "ERR"}); e != "" {
		t.Fatal(e)
	}
	st := dialRaw(t, addr)
	st.handshake()
	if e := st.call(client.StreamCommand, &client.StreamRequest{Type: "user:nothing"}); e != "" {
		t.Fatal(e)
	}
	// Two idle clients in turn: each is closed, and the stream and monitor
	// clients, idle all along, are not.
	for i := 0; i < 2; i++ {
		plain := dialRaw(t, addr)
		plain.handshake()
		if err := closedWithin(plain.conn, time.Now().Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*rawClient{mon, st} {
		if e := c.call(client.MembersCommand, nil); e != "" {
			t.Fatal(e)
		}
		var resp client.MembersResponse
		c.body(&resp)
	}
	if !n.console.Contains("idle for 300ms") {
		t.Error("idle close not logged")
	}
}
