package engine

import (
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf/serftest"
)

// Options are the simulation's settings, from the flags.
type Options struct {
	N        int
	Scale    float64       // every protocol interval is its LAN value times Scale
	Loss     float64       // packet loss on every link, 0..1
	Latency  time.Duration // per-link latency in base-profile time (scaled too)
	Fanout   int           // memberlist GossipNodes; 0 keeps the LAN value
	Seed     int64
	MaxRound float64   // how long a scenario waits for 100 %, in rounds
	Logs     io.Writer // every member's log; nil discards them
	Compress bool      // memberlist's EnableCompression
	// JoinRounds bounds the bootstrap's joins: a join that has not
	// returned this many rounds after the start is counted as stuck and
	// no longer waited for. 0 means MaxRound.
	JoinRounds float64
	// SettleRounds bounds the wait for a converged cluster before each
	// scenario after the bootstrap.
	SettleRounds float64
}

// Dilate scales a base-profile duration by the time-dilation factor.
func (o Options) Dilate(d time.Duration) time.Duration {
	return time.Duration(float64(d) * o.Scale)
}

// DilateAll scales every duration pointed to by the time-dilation factor.
func (o Options) DilateAll(ds ...*time.Duration) {
	for _, d := range ds {
		*d = o.Dilate(*d)
	}
}

// DilateDurations scales every time.Duration field of the struct that
// config points to (a serf.Config of either implementation, a
// memberlist.Config): every interval and timeout, including those a
// hand-kept list would miss when a field is added. It panics if config is
// not a pointer to a struct.
func (o Options) DilateDurations(config any) {
	v := reflect.ValueOf(config).Elem()
	dur := reflect.TypeOf(time.Duration(0))
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Type() == dur && f.CanSet() {
			f.SetInt(int64(o.Dilate(time.Duration(f.Int()))))
		}
	}
}

// MemberlistProfile is memberlist's LAN defaults with every interval and
// timeout scaled by opt.Scale, for the member name on transport tr.
// Multipliers (SuspicionMult, RetransmitMult, ...) stay as they are, so
// behaviour measured in gossip rounds and probe periods is the one of the
// base profile. Implementations use it as their memberlist config and
// scale their own Serf config with DilateDurations.
func MemberlistProfile(name string, tr memberlist.Transport, opt Options) *memberlist.Config {
	ml := memberlist.DefaultLANConfig()
	ml.Name = name
	ml.Transport = tr
	opt.DilateDurations(ml)
	if opt.Fanout > 0 {
		ml.GossipNodes = opt.Fanout
	}
	// memberlist fills a packet up to UDPBufferSize before it compresses
	// it, so compression changes CPU cost, not what a round carries; it is
	// off unless asked for, to fit more members on the machine.
	ml.EnableCompression = opt.Compress
	return ml
}

// EventKind is the kind of an Event.
type EventKind uint8

// The events the simulator records.
const (
	MemberJoin EventKind = iota + 1
	MemberLeave
	MemberFailed
	MemberReap
	MemberOther // update and anything else about members: ignored
	UserEvent
	QueryEvent
)

// Event is what an implementation reports from its event channel: for a
// member event the names of the members, for a user event or a query its
// name.
type Event struct {
	Kind    EventKind
	Members []string
	Name    string
}

// Member is one running member of some Serf implementation, as the
// simulator drives it.
type Member interface {
	LocalName() string
	// Join joins the members at addrs (host:port), as Serf.Join with
	// ignoreOld false.
	Join(addrs []string) (int, error)
	// UserEvent sends a user event, not coalesced.
	UserEvent(name string, payload []byte) error
	// Query starts a query asking for acks; acks yields the name of each
	// member that acked and is closed when the query ends; done closes the
	// query early and drains what is left.
	Query(name string, payload []byte) (acks <-chan string, done func(), err error)
	// Members is how many members this one knows alive.
	Members() int
	// DefaultQueryTimeout is the member's query timeout.
	DefaultQueryTimeout() time.Duration
	Shutdown() error
}

// Spec is what an implementation needs to start one member.
type Spec struct {
	Name       string
	Memberlist *memberlist.Config // the dilated profile, transport set
	Opt        Options            // for Dilate of the Serf intervals
	Logs       io.Writer          // the member's log (io.Discard unless asked)
	// Events receives the member's events, converted; the implementation
	// forwards its event channel there until the member shuts down.
	Events chan<- Event
}

// Impl is one Serf implementation: it starts members.
type Impl interface {
	// Name names the implementation in the output.
	Name() string
	// StreamLimit is how many accepted streams the implementation's own
	// TCP transport hands memberlist at once, which the simulated network
	// then does too; 0 for all of them, as memberlist's NetTransport.
	StreamLimit() int
	Start(spec Spec) (Member, error)
}

// eventQueue is each member's event channel size: big enough for the
// coalesced bursts of a bootstrap, small enough for thousands of members.
const eventQueue = 256

// Sim is N members on one in-memory network, each with a recorder of
// what its event channel delivers. Close stops everything.
type Sim struct {
	opt    Options
	Impl   Impl
	Net    *serftest.Network
	Nodes  []*Node
	Gossip time.Duration // one round
	Probe  time.Duration // one probe period
	Base   *memberlist.Config
	start  time.Time

	sent   atomic.Int64                    // packets sent by all members
	index  map[string]int                  // member name -> index in Nodes
	watch  atomic.Pointer[map[string]bool] // names whose failure is recorded
	stopCh chan struct{}
	wg     sync.WaitGroup // the recorders
	joins  sync.WaitGroup // the bootstrap's join calls
}

// Node is one member and what it has seen, as offsets from the Sim's start.
type Node struct {
	Name string
	Idx  int
	Tr   *serftest.Transport
	M    Member

	mu    sync.Mutex
	alive bitset
	count int
	// shown is count, for readers that must not wait for the recorder's
	// lock: with tens of thousands of runnable goroutines every contended
	// lock costs a trip through the run queue, and a poll of 2,000 members
	// took minutes.
	shown atomic.Int32
	// firsts counts the first deliveries recorded (user events, queries,
	// watched failures), lock-free for the same reason.
	firsts  atomic.Int32
	history []countAt                // every change of the alive count
	users   map[string]time.Duration // user event name -> first delivery
	queries map[string]time.Duration // query name -> first delivery
	failed  map[string]time.Duration // watched member -> first failed event
	killed  bool
	joined  atomic.Bool // its Join returned without error (the seed: always)
}

type countAt struct {
	at    time.Duration
	alive int32
}

// bitset is a set of member indexes.
type bitset []uint64

func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) clear(i int)    { b[i/64] &^= 1 << (i % 64) }

// NewSim starts opt.N members of impl, not yet joined.
func NewSim(impl Impl, opt Options) (*Sim, error) {
	s := &Sim{opt: opt, Impl: impl, Net: serftest.NewNetwork(opt.Seed), stopCh: make(chan struct{}),
		start: time.Now(), index: make(map[string]int, opt.N)}
	empty := map[string]bool{}
	s.watch.Store(&empty)
	s.Net.SetDefaultLink(linkOf(opt))
	s.Net.SetStreamLimit(impl.StreamLimit())
	logs := opt.Logs
	if logs == nil {
		logs = io.Discard
	}
	for i := 0; i < opt.N; i++ {
		s.index[nodeName(i)] = i
	}
	for i := 0; i < opt.N; i++ {
		name := nodeName(i)
		tr := s.Net.NewTransport(name)
		ml := MemberlistProfile(name, countingTransport{tr, &s.sent}, opt)
		events := make(chan Event, eventQueue)
		n := &Node{Name: name, Idx: i, Tr: tr, alive: make(bitset, (opt.N+63)/64)}
		s.wg.Add(1)
		go s.record(n, events)
		m, err := impl.Start(Spec{Name: name, Memberlist: ml, Opt: opt, Logs: logs, Events: events})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		n.M = m
		s.Nodes = append(s.Nodes, n)
		if i == 0 {
			s.Base = ml
			s.Gossip = ml.GossipInterval
			s.Probe = ml.ProbeInterval
		}
	}
	return s, nil
}

func nodeName(i int) string { return fmt.Sprintf("node%04d", i) }

// now is the time since the Sim started.
func (s *Sim) now() time.Duration { return time.Since(s.start) }

// record keeps node n's view from its events until Close.
func (s *Sim) record(n *Node, events <-chan Event) {
	defer s.wg.Done()
	for {
		select {
		case <-s.stopCh:
			return
		case e := <-events:
			s.apply(n, e, s.now())
		}
	}
}

// first records at in *seen as when n first saw name, once, and counts
// it in n.firsts. The caller holds n.mu.
func (n *Node) first(seen *map[string]time.Duration, name string, at time.Duration) {
	if _, ok := (*seen)[name]; ok {
		return
	}
	if *seen == nil {
		*seen = map[string]time.Duration{}
	}
	(*seen)[name] = at
	n.firsts.Add(1)
}

// apply records one event of node n at time at.
func (s *Sim) apply(n *Node, e Event, at time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch e.Kind {
	case MemberJoin, MemberLeave, MemberFailed, MemberReap:
		watch := *s.watch.Load()
		for _, name := range e.Members {
			i, ok := s.index[name]
			if !ok {
				continue
			}
			if e.Kind == MemberJoin {
				if !n.alive.has(i) {
					n.alive.set(i)
					n.count++
				}
				continue
			}
			if n.alive.has(i) {
				n.alive.clear(i)
				n.count--
			}
			if e.Kind == MemberFailed && watch[name] {
				n.first(&n.failed, name, at)
			}
		}
		n.shown.Store(int32(n.count))
		if last := len(n.history); last == 0 || int(n.history[last-1].alive) != n.count {
			n.history = append(n.history, countAt{at, int32(n.count)})
		}
	case UserEvent:
		n.first(&n.users, e.Name, at)
	case QueryEvent:
		n.first(&n.queries, e.Name, at)
	}
}

// Watch makes the recorders note when members named names are reported
// failed.
func (s *Sim) Watch(names ...string) {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	s.watch.Store(&m)
}

// Live are the members not killed.
func (s *Sim) Live() []*Node {
	var out []*Node
	for _, n := range s.Nodes {
		if !n.killed {
			out = append(out, n)
		}
	}
	return out
}

// joinedAddrs is the addresses of up to k random live members other than
// self whose join has returned: the members a joiner may already know of.
func (s *Sim) joinedAddrs(rng *rand.Rand, k int, self *Node) []string {
	var out []string
	for tries := 0; tries < 8*k && len(out) < k; tries++ {
		n := s.Nodes[1+rng.Intn(len(s.Nodes)-1)]
		if n == self || n.killed || !n.joined.Load() {
			continue
		}
		dup := false
		for _, a := range out {
			dup = dup || a == n.Tr.Addr()
		}
		if !dup {
			out = append(out, n.Tr.Addr())
		}
	}
	return out
}

// Kill shuts member i down without leaving, as a crash.
func (s *Sim) Kill(i int) {
	s.Nodes[i].killed = true
	_ = s.Nodes[i].M.Shutdown()
}

// parallel runs f for every node, with at most workers at once.
func parallel(nodes []*Node, workers int, f func(*Node)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for _, n := range nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func(n *Node) {
			defer wg.Done()
			defer func() { <-sem }()
			f(n)
		}(n)
	}
	wg.Wait()
}

// Close shuts every member down, waits for the joins still running (they
// fail once their member is down) and stops the recorders.
func (s *Sim) Close() {
	parallel(s.Nodes, 64, func(n *Node) {
		if n.M != nil {
			_ = n.M.Shutdown()
		}
	})
	s.Net.Close()
	s.joins.Wait()
	close(s.stopCh)
	s.wg.Wait()
}

// firstReach is the first time at or after from when n's alive count
// satisfied cond: from itself if it already did then.
func (n *Node) firstReach(from time.Duration, cond func(alive int) bool) (time.Duration, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	alive := 0
	for _, h := range n.history {
		if h.at >= from {
			break
		}
		alive = int(h.alive)
	}
	if cond(alive) && len(n.history) > 0 && n.history[0].at < from {
		return from, true
	}
	for _, h := range n.history {
		if h.at >= from && cond(int(h.alive)) {
			return h.at, true
		}
	}
	return 0, false
}

// aliveCount is how many members n sees alive now, from its events.
func (n *Node) aliveCount() int {
	return int(n.shown.Load())
}

// Wait polls done every quarter round until it returns true or maxRounds
// rounds have passed since from; it reports whether done did.
func (s *Sim) Wait(from time.Duration, maxRounds float64, done func() bool) bool {
	tick := s.Gossip / 4
	if tick < time.Millisecond {
		tick = time.Millisecond
	}
	deadline := s.start.Add(from + time.Duration(maxRounds*float64(s.Gossip)))
	for {
		if done() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(tick)
	}
}

// countingTransport is a member's transport that counts the packets it
// sends, so the simulator can tell when gossip has gone quiet (memberlist
// sends a gossip packet only when it has something to broadcast).
type countingTransport struct {
	*serftest.Transport
	sent *atomic.Int64
}

func (c countingTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	c.sent.Add(1)
	return c.Transport.WriteTo(b, addr)
}

func (c countingTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	c.sent.Add(1)
	return c.Transport.WriteToAddress(b, a)
}

// PacketRate is the packets sent per live member per round over the next
// window rounds.
func (s *Sim) PacketRate(window float64) float64 {
	a, t := s.sent.Load(), time.Now()
	time.Sleep(time.Duration(window * float64(s.Gossip)))
	b, d := s.sent.Load(), time.Since(t)
	return float64(b-a) / float64(len(s.Live())) / Rounds(d, s.Gossip)
}

// linkOf is every link's behaviour under opt, latency scaled.
func linkOf(opt Options) serftest.LinkConfig {
	return serftest.LinkConfig{Loss: opt.Loss, Latency: opt.Dilate(opt.Latency)}
}
