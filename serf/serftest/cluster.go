package serftest

import (
	"fmt"
	"io"
	"log"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf"
)

// Timeouts of the Cluster's waits: deadlines for gossip to converge on a
// busy machine, not expectations of speed.
const (
	MembersTimeout = 10 * time.Second
	StatusTimeout  = 5 * time.Second
)

// TestConfig is a serf.Config for node name on transport tr with timings
// fit for tests: memberlist's local profile, scaled down so that a failure
// is detected and gossip converges in well under a second. Both loggers
// write to logs.
func TestConfig(name string, tr memberlist.Transport, logs io.Writer) *serf.Config {
	conf := serf.DefaultConfig()
	conf.NodeName = name
	conf.ProtocolVersion = 5
	conf.Logger = log.New(logs, "", log.LstdFlags)
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

// Cluster is a set of serf.Serf members on one Network, stopped when the
// test ends. Members are numbered in the order they were made.
type Cluster struct {
	t       testing.TB
	Net     *Network
	Members []*Member
	tweak   func(i int, c *serf.Config)

	stopCh chan struct{}
	wg     sync.WaitGroup // the collectors
}

// Member is one serf.Serf of a Cluster.
type Member struct {
	Name      string
	Serf      *serf.Serf
	Transport *Transport
	Logs      *SyncBuffer
	// Events records what arrives on the member's EventCh. It is nil when
	// the tweak gave the member an EventCh of the test's own.
	Events *Collector
}

// Addr is the member's address on the network.
func (m *Member) Addr() string { return m.Transport.Addr() }

// NewCluster starts n members called n0..n(n-1), not yet joined, on a new
// Network. tweak, if not nil, adjusts member i's config before it starts;
// it also applies to members added or restarted later. On failure of the
// test the members' logs are printed.
func NewCluster(t testing.TB, n int, tweak func(i int, c *serf.Config)) *Cluster {
	t.Helper()
	c := &Cluster{t: t, Net: NewNetwork(1), tweak: tweak, stopCh: make(chan struct{})}
	t.Cleanup(c.stop)
	for i := 0; i < n; i++ {
		c.Add(fmt.Sprintf("n%d", i))
	}
	return c
}

func (c *Cluster) stop() {
	for _, m := range c.Members {
		if m.Serf != nil {
			_ = m.Serf.Shutdown()
		}
	}
	close(c.stopCh)
	c.wg.Wait()
	c.Net.Close()
	if c.t.Failed() {
		for _, m := range c.Members {
			c.t.Logf("---- log of %s ----\n%s", m.Name, m.Logs)
		}
	}
}

// Add starts one more member called name (a name may be taken twice, for
// name-conflict tests) and returns it.
func (c *Cluster) Add(name string) *Member {
	c.t.Helper()
	m := &Member{Name: name, Transport: c.Net.NewTransport(name)}
	c.Members = append(c.Members, m)
	c.start(len(c.Members)-1, m)
	return m
}

// start creates member i's Serf on its current transport.
func (c *Cluster) start(i int, m *Member) {
	c.t.Helper()
	m.Logs = &SyncBuffer{}
	conf := TestConfig(m.Name, m.Transport, m.Logs)
	events := make(chan serf.Event, 1024)
	conf.EventCh = events
	if c.tweak != nil {
		c.tweak(i, conf)
	}
	m.Serf, m.Events = nil, nil
	if conf.EventCh == events {
		m.Events = c.collect(events)
	}
	s, err := serf.Create(conf)
	if err != nil {
		c.t.Fatalf("create %s: %v", m.Name, err)
	}
	m.Serf = s
}

// Join makes member i join member j.
func (c *Cluster) Join(i, j int) {
	c.t.Helper()
	if _, err := c.Members[i].Serf.Join([]string{c.Members[j].Addr()}, false); err != nil {
		c.t.Fatalf("join %s -> %s: %v", c.Members[i].Name, c.Members[j].Name, err)
	}
}

// JoinAll joins every member to n0 and waits until all see each other.
func (c *Cluster) JoinAll() {
	c.t.Helper()
	for i := 1; i < len(c.Members); i++ {
		c.Join(i, 0)
	}
	c.WaitMembers(len(c.Members))
}

// Kill shuts member i down without leaving, as if it crashed.
func (c *Cluster) Kill(i int) {
	_ = c.Members[i].Serf.Shutdown()
}

// Restart kills member i if it runs and starts it again under the same
// name at the same address, with fresh logs and events, as a restarted
// process. The tweak applies again.
func (c *Cluster) Restart(i int) *Member {
	c.t.Helper()
	m := c.Members[i]
	c.Kill(i)
	m.Transport = c.Net.Restart(m.Name)
	c.start(i, m)
	return m
}

// running are the members that have not shut down.
func (c *Cluster) running() []*Member {
	var out []*Member
	for _, m := range c.Members {
		if m.Serf != nil && m.Serf.State() != serf.SerfShutdown {
			out = append(out, m)
		}
	}
	return out
}

// WaitMembers waits until every running member sees n alive members.
func (c *Cluster) WaitMembers(n int) {
	c.t.Helper()
	for _, m := range c.running() {
		s, name := m.Serf, m.Name
		Eventually(c.t, MembersTimeout, func() error {
			if got := CountStatus(s, serf.StatusAlive); got != n {
				return fmt.Errorf("%s sees %d alive members, want %d", name, got, n)
			}
			return nil
		})
	}
}

// WaitStatus waits until every running member other than name itself sees
// member name in status want.
func (c *Cluster) WaitStatus(name string, want serf.MemberStatus) {
	c.t.Helper()
	for _, m := range c.running() {
		if m.Name == name {
			continue
		}
		s, self := m.Serf, m.Name
		Eventually(c.t, StatusTimeout, func() error {
			got, ok := FindMember(s, name)
			if !ok || got.Status != want {
				return fmt.Errorf("%s sees %s as %v (known: %v), want %v", self, name, got.Status, ok, want)
			}
			return nil
		})
	}
}

// CountStatus is how many members s knows in status st.
func CountStatus(s *serf.Serf, st serf.MemberStatus) int {
	n := 0
	for _, m := range s.Members() {
		if m.Status == st {
			n++
		}
	}
	return n
}

// FindMember is the member s knows by name.
func FindMember(s *serf.Serf, name string) (serf.Member, bool) {
	for _, m := range s.Members() {
		if m.Name == name {
			return m, true
		}
	}
	return serf.Member{}, false
}

// Collector records a member's events in the background, until the test
// ends.
type Collector struct {
	mu     sync.Mutex
	events []serf.Event
	handle func(serf.Event)
}

func (c *Cluster) collect(ch <-chan serf.Event) *Collector {
	col := &Collector{}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			select {
			case e := <-ch:
				col.mu.Lock()
				col.events = append(col.events, e)
				h := col.handle
				col.mu.Unlock()
				if h != nil {
					h(e)
				}
			case <-c.stopCh:
				return
			}
		}
	}()
	return col
}

// Handle has f called, on the collector's goroutine, with every event
// recorded from now on (to answer queries, say).
func (col *Collector) Handle(f func(serf.Event)) {
	col.mu.Lock()
	defer col.mu.Unlock()
	col.handle = f
}

// All is every event recorded so far, in order.
func (col *Collector) All() []serf.Event {
	col.mu.Lock()
	defer col.mu.Unlock()
	return append([]serf.Event(nil), col.events...)
}

// MemberEvents is the member names in recorded member events of type t,
// in order.
func (col *Collector) MemberEvents(t serf.EventType) []string {
	var out []string
	for _, e := range col.All() {
		if me, ok := e.(serf.MemberEvent); ok && me.Type == t {
			for _, m := range me.Members {
				out = append(out, m.Name)
			}
		}
	}
	return out
}

// UserEvents is the recorded user events, in order.
func (col *Collector) UserEvents() []serf.UserEvent {
	var out []serf.UserEvent
	for _, e := range col.All() {
		if ue, ok := e.(serf.UserEvent); ok {
			out = append(out, ue)
		}
	}
	return out
}

// Contains reports whether list holds s.
func Contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
