package agent

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf/serftest"
)

// silentHost accepts TCP connections and never answers, like a host whose
// kernel is up but whose agent is stuck. accepted gets one value per
// connection.
type silentHost struct {
	ln       net.Listener
	accepted chan struct{}
	mu       sync.Mutex
	conns    []net.Conn
	done     chan struct{}
}

func newSilentHost(t *testing.T) *silentHost {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &silentHost{ln: ln, accepted: make(chan struct{}, 16), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			select {
			case h.accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-h.done
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, c := range h.conns {
			_ = c.Close()
		}
	})
	return h
}

// A join in flight to hosts that accept and never answer must not hold up
// shutdown: memberlist tries them one after the other, each for its TCP
// timeout, and shutdown has to be done before it even gets to the second.
// Once memberlist gives up, nothing of the join is left running.
func TestShutdownDoesNotWaitForJoin(t *testing.T) {
	hosts := []*silentHost{newSilentHost(t), newSilentHost(t), newSilentHost(t)}
	addrs := make([]string, len(hosts))
	for i, h := range hosts {
		addrs[i] = h.ln.Addr().String()
	}
	before := runtime.NumGoroutine()

	conf := DefaultConfig()
	conf.NodeName = "joiner"
	conf.Profile = "local"
	conf.BindAddr = fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
	sc := testSerfConfig(t, conf)
	sc.MemberlistConfig.TCPTimeout = 3 * time.Second
	out := &serftest.SyncBuffer{}
	a, err := Create(conf, sc, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewRPCServer(a, "", ln, out, NewMonitorRing(16))
	t.Cleanup(func() { srv.Shutdown(); _ = a.Shutdown() })

	c := dialRaw(t, ln.Addr().String())
	c.handshake()
	c.send(client.JoinCommand, &client.JoinRequest{Existing: addrs})
	select {
	case <-hosts[0].accepted:
	case <-time.After(10 * time.Second):
		t.Fatalf("join never reached the first host\n%s", out)
	}

	done := make(chan struct{})
	go func() {
		srv.Shutdown()
		_ = a.Shutdown()
		close(done)
	}()
	select {
	case <-done:
	case <-hosts[1].accepted:
		t.Fatalf("shutdown still waiting when the join moved on to the second host\n%s", out)
	case <-time.After(30 * time.Second):
		t.Fatalf("shutdown hung\n%s", out)
	}
	if !strings.Contains(out.String(), "agent: shutdown complete") {
		t.Fatalf("no shutdown line\n%s", out)
	}

	// The abandoned join ends once memberlist has given up on every host,
	// and the goroutines go with it.
	if !srv.waitCalls(30 * time.Second) {
		t.Fatalf("abandoned join still running\n%s", out)
	}
	serftest.Eventually(t, 30*time.Second, func() error {
		if !strings.Contains(out.String(), "agent: error joining") {
			return fmt.Errorf("join still running")
		}
		if n := runtime.NumGoroutine(); n > before+2 {
			return fmt.Errorf("%d goroutines, %d before", n, before)
		}
		return nil
	})
}
