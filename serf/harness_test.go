package serf

import (
	"fmt"
	"log"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf/serftest"
)

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			if path := os.Getenv("SERF_TEST_STACKS"); path != "" {
				buf := make([]byte, 1<<22)
				_ = os.WriteFile(path, buf[:runtime.Stack(buf, true)], 0o644)
			}
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testNode is one Serf of a testCluster.
type testNode struct {
	name      string
	transport *memTransport
	conf      *Config
	serf      *Serf
	events    chan Event
	logs      *serftest.SyncBuffer
}

// addr is the node's address on the mock network.
func (n *testNode) addr() string { return n.transport.String() }

// testCluster runs Serf instances over an in-memory network (memnet_test.go).
type testCluster struct {
	t      testing.TB
	net    *memNetwork
	nodes  []*testNode
	stopCh chan struct{}
	wg     sync.WaitGroup
}

// newTestCluster prepares n nodes named n0..n(n-1); start them with start.
// tweak, if set, adjusts every node's config.
func newTestCluster(t testing.TB, n int, tweak func(*Config)) *testCluster {
	c := &testCluster{t: t, net: newMemNetwork(), stopCh: make(chan struct{})}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("n%d", i)
		tr := c.net.newTransport(name)
		logs := &serftest.SyncBuffer{}
		events := make(chan Event, 1024)
		conf := testConfig(name, tr, logs, events)
		if tweak != nil {
			tweak(conf)
		}
		c.nodes = append(c.nodes, &testNode{name: name, transport: tr, conf: conf, events: events, logs: logs})
	}
	// Registered first, so it runs last: after every node has shut down.
	t.Cleanup(func() {
		for _, node := range c.nodes {
			if node.serf != nil {
				node.serf.Shutdown()
			}
		}
		close(c.stopCh)
		c.wg.Wait()
		if t.Failed() {
			for _, node := range c.nodes {
				t.Logf("---- log of %s ----\n%s", node.name, node.logs)
			}
		}
	})
	return c
}

// testConfig is a Config with timings fast enough for tests.
func testConfig(name string, tr memberlist.Transport, logs *serftest.SyncBuffer, events chan Event) *Config {
	conf := DefaultConfig()
	conf.NodeName = name
	conf.ProtocolVersion = 5
	conf.Logger = log.New(logs, "", log.LstdFlags)
	conf.EventCh = events
	conf.BroadcastTimeout = 2 * time.Second
	conf.LeavePropagateDelay = 20 * time.Millisecond
	conf.QueueCheckInterval = 100 * time.Millisecond

	ml := memberlist.DefaultLocalConfig()
	ml.Name = name
	ml.Transport = tr
	ml.Logger = conf.Logger
	ml.GossipInterval = 10 * time.Millisecond
	ml.ProbeInterval = 100 * time.Millisecond
	ml.ProbeTimeout = 50 * time.Millisecond
	// Tiny clusters get few retransmissions; piggy-backing on probes of a
	// dead node can use them all up, so be generous.
	ml.RetransmitMult = 4
	ml.PushPullInterval = 300 * time.Millisecond
	ml.SuspicionMult = 1
	ml.GossipToTheDeadTime = 200 * time.Millisecond
	ml.TCPTimeout = 500 * time.Millisecond
	conf.MemberlistConfig = ml
	return conf
}

// start creates the Serf of node i.
func (c *testCluster) start(i int) *Serf {
	c.t.Helper()
	node := c.nodes[i]
	s, err := Create(node.conf)
	if err != nil {
		c.t.Fatalf("create %s: %v", node.name, err)
	}
	node.serf = s
	return s
}

// startAll creates every node and joins each to n0.
func (c *testCluster) startAll() {
	c.t.Helper()
	for i := range c.nodes {
		c.start(i)
	}
	for i := 1; i < len(c.nodes); i++ {
		c.join(i, 0)
	}
	c.waitMembers(len(c.nodes))
}

// join makes node i join node j.
func (c *testCluster) join(i, j int) {
	c.t.Helper()
	if _, err := c.nodes[i].serf.Join([]string{c.nodes[j].addr()}, false); err != nil {
		c.t.Fatalf("join %s -> %s: %v", c.nodes[i].name, c.nodes[j].name, err)
	}
}

// kill shuts node i down without leaving, as if it crashed.
func (c *testCluster) kill(i int) {
	c.nodes[i].serf.Shutdown()
}

// waitMembers waits until every running node sees n alive members.
func (c *testCluster) waitMembers(n int) {
	c.t.Helper()
	for _, node := range c.nodes {
		if node.serf == nil || node.serf.State() == SerfShutdown {
			continue
		}
		s := node.serf
		waitUntil(c.t, 10*time.Second, fmt.Sprintf("%s to see %d alive members", node.name, n), func() bool {
			return countStatus(s, StatusAlive) == n
		})
	}
}

// waitStatus waits until every running node other than the subject sees
// member name in status want.
func (c *testCluster) waitStatus(name string, want MemberStatus) {
	c.t.Helper()
	for _, node := range c.nodes {
		if node.serf == nil || node.serf.State() == SerfShutdown || node.name == name {
			continue
		}
		s := node.serf
		waitUntil(c.t, 5*time.Second, fmt.Sprintf("%s to see %s %s", node.name, name, want), func() bool {
			m, ok := findMember(s, name)
			return ok && m.Status == want
		})
	}
}

func countStatus(s *Serf, st MemberStatus) int {
	n := 0
	for _, m := range s.Members() {
		if m.Status == st {
			n++
		}
	}
	return n
}

func findMember(s *Serf, name string) (Member, bool) {
	for _, m := range s.Members() {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

// collector gathers a node's events in the background for assertions.
type collector struct {
	mu     sync.Mutex
	events []Event
}

func (c *collector) snapshot() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

// collect starts gathering node i's events until the test ends.
func (c *testCluster) collect(i int) *collector {
	col := &collector{}
	ch := c.nodes[i].events
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			select {
			case e := <-ch:
				col.mu.Lock()
				col.events = append(col.events, e)
				col.mu.Unlock()
			case <-c.stopCh:
				return
			}
		}
	}()
	return col
}

// memberEvents returns the names in member events of type t, in order.
func (col *collector) memberEvents(t EventType) []string {
	var out []string
	for _, e := range col.snapshot() {
		if me, ok := e.(*MemberEvent); ok && me.Type == t {
			for _, m := range me.Members {
				out = append(out, m.Name)
			}
		}
	}
	return out
}

func (col *collector) userEvents() []UserEvent {
	var out []UserEvent
	for _, e := range col.snapshot() {
		if ue, ok := e.(UserEvent); ok {
			out = append(out, ue)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
