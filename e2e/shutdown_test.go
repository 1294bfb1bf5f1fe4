package e2e

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// silentHosts listens on n ports that accept TCP connections and never
// answer. accepted[i] gets a value for each connection to host i.
func silentHosts(t *testing.T, n int) (addrs []string, accepted []chan struct{}) {
	t.Helper()
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	var lns []net.Listener
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ch := make(chan struct{}, 16)
		addrs, accepted = append(addrs, ln.Addr().String()), append(accepted, ch)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}()
	}
	t.Cleanup(func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return addrs, accepted
}

// TestInterruptDuringJoinToSilentHosts: `serf join` to three hosts that
// accept TCP and never answer takes memberlist's TCP timeout (10 s) per
// host; Ctrl-C on the agent meanwhile must exit before the join even gets
// to the second host.
func TestInterruptDuringJoinToSilentHosts(t *testing.T) {
	t.Parallel()
	addrs, accepted := silentHosts(t, 3)
	a := start(t, "silent-join")
	join := cluster.StartProc(t, nil, bin(t), append([]string{"join", "-rpc-addr", a.RPCAddr}, addrs...)...)
	select {
	case <-accepted[0]:
	case <-time.After(converge):
		t.Fatalf("join never reached the first host\n%s", a.Output())
	}
	a.Interrupt()
	deadline := time.After(exitWait)
	for !a.Exited() {
		select {
		case <-accepted[1]:
			t.Fatalf("agent still running when the join moved on to the second host\n%s", a.Output())
		case <-deadline:
			t.Fatalf("agent did not exit\n%s", a.Output())
		case <-time.After(20 * time.Millisecond): // poll interval
		}
	}
	if code := a.Wait(t, exitWait); code != 0 {
		t.Errorf("exit code %d after a graceful leave\n%s", code, a.Output())
	}
	// The client sees its connection end instead of an answer.
	if code := join.Wait(t, exitWait); code == 0 {
		t.Errorf("join reported success\n%s", join.Output())
	}
}
