package serf_test

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// Which failed joins count as a busy peer, on the texts memberlist v0.7.0
// really produces.
func TestPeerWasBusy(t *testing.T) {
	one := func(msgs ...string) error {
		var errs *multierror.Error
		for _, m := range msgs {
			errs = multierror.Append(errs, errors.New(m))
		}
		return errs
	}
	const (
		eof      = "failed to join 127.0.0.1:7946: EOF"
		reset    = "failed to join 127.0.0.1:7946: read tcp 127.0.0.1:40000->127.0.0.1:7946: read: connection reset by peer"
		timeout  = "failed to join 127.0.0.1:7946: read tcp 127.0.0.1:47348->127.0.0.1:7946: i/o timeout"
		refused  = "failed to join 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused"
		unreach  = "failed to join 10.0.0.1:7946: dial tcp 10.0.0.1:7946: i/o timeout"
		resolve  = "failed to resolve nosuch: lookup nosuch: no such host"
		pipe     = "failed to join 127.0.0.1:20001: i/o timeout"
		memdial  = "failed to join 127.0.0.1:20001: dial 127.0.0.1:20001: i/o timeout"
		mismatch = "failed to join 127.0.0.1:7946: remote state is encrypted and encryption is not configured"
	)
	for _, c := range []struct {
		err  error
		busy bool
	}{
		{nil, false},
		{one(eof), true},
		{one(reset), true},
		{one(timeout), true},
		{one(eof, timeout), true},
		{one(pipe), true},
		{one(memdial), false},
		{one(refused), false},
		{one(unreach), false},
		{one(resolve), false},
		{one(mismatch), false},
		{one(eof, refused), false},
	} {
		if got := serf.PeerWasBusy(c.err); got != c.busy {
			t.Errorf("PeerWasBusy(%q) = %v, want %v", c.err, got, c.busy)
		}
	}
}

// busyProxy stands in front of a real member's TCP port: it closes the
// first `refuse` connections at once, as a seed past memberlist's limit of
// pending push/pulls does, and relays the later ones.
type busyProxy struct {
	l        net.Listener
	target   string
	refuse   int64
	accepted atomic.Int64
	wg       sync.WaitGroup
}

func newBusyProxy(t *testing.T, target string, refuse int64) *busyProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &busyProxy{l: l, target: target, refuse: refuse}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { _ = l.Close(); p.wg.Wait() })
	return p
}

func (p *busyProxy) addr() string { return p.l.Addr().String() }

func (p *busyProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		if p.accepted.Add(1) <= p.refuse {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer c.Close()
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
			go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
			// Either side hanging up ends the relay: closing both ends
			// the other copy, which is waited for too.
			<-done
			_ = c.Close()
			_ = up.Close()
			<-done
		}()
	}
}

// memberAddr is where s's memberlist listens.
func memberAddr(s *serf.Serf) string {
	m := s.LocalMember()
	return net.JoinHostPort(m.Addr.String(), strconv.Itoa(int(m.Port)))
}

func startOnLoopback(t *testing.T, name string, logs io.Writer, tweak func(*serf.Config)) *serf.Serf {
	t.Helper()
	conf := onLoopback(name, 0, logs)
	conf.JoinBusyBackoff = 20 * time.Millisecond
	if tweak != nil {
		tweak(conf)
	}
	s, err := serf.Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	return s
}

// A seed that turns the first tries away is tried again, and the join
// succeeds.
func TestJoinRetriesABusySeed(t *testing.T) {
	seed := startOnLoopback(t, "seed", io.Discard, nil)
	proxy := newBusyProxy(t, memberAddr(seed), 2)
	logs := &serftest.SyncBuffer{}
	joiner := startOnLoopback(t, "joiner", logs, nil)

	n, err := joiner.Join([]string{proxy.addr()}, false)
	if n != 1 || err != nil {
		t.Fatalf("join: %d, %v\nlogs:\n%s", n, err, logs)
	}
	if got := proxy.accepted.Load(); got != 3 {
		t.Fatalf("the seed's address was tried %d times, want 3 (2 turned away)", got)
	}
	if !logs.Contains("seems busy, trying again (2 of 2)") {
		t.Fatalf("no retry logged:\n%s", logs)
	}
	serftest.Eventually(t, 10*time.Second, func() error {
		if got := len(seed.Members()); got != 2 {
			return errors.New("the seed has " + strconv.Itoa(got) + " members, want 2")
		}
		return nil
	})
}

// A seed that keeps turning joiners away is tried JoinBusyRetries more
// times, then the join fails with the last try's error; with no retries
// it is tried once, as Serf does.
func TestJoinBusyRetriesAreBounded(t *testing.T) {
	for _, retries := range []int{0, 2} {
		seed := startOnLoopback(t, "seed"+strconv.Itoa(retries), io.Discard, nil)
		proxy := newBusyProxy(t, memberAddr(seed), 1<<30)
		joiner := startOnLoopback(t, "joiner"+strconv.Itoa(retries), io.Discard,
			func(c *serf.Config) { c.JoinBusyRetries = retries })

		n, err := joiner.Join([]string{proxy.addr()}, false)
		if n != 0 || err == nil {
			t.Fatalf("retries %d: join to a seed that refuses everybody: %d, %v", retries, n, err)
		}
		if !strings.HasPrefix(err.Error(), "1 error occurred:\n\t* Failed to join "+proxy.addr()+": ") {
			t.Fatalf("retries %d: error %q", retries, err)
		}
		if got, want := proxy.accepted.Load(), int64(retries+1); got != want {
			t.Fatalf("retries %d: tried %d times, want %d", retries, got, want)
		}
	}
}

// An address nobody listens on is not retried: it fails with Serf's
// message and no retry is logged.
func TestJoinDoesNotRetryARefusal(t *testing.T) {
	logs := &serftest.SyncBuffer{}
	joiner := startOnLoopback(t, "joiner", logs, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	if n, err := joiner.Join([]string{addr}, false); n != 0 || err == nil ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("join to a closed port: %d, %v", n, err)
	}
	if logs.Contains("seems busy") {
		t.Fatalf("a refusal was retried:\n%s", logs)
	}
}
