package main

import (
	"fmt"
	"io"
	"log"
	"math/rand"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf"
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
}

// dilate scales a base-profile duration by the time-dilation factor.
func (o Options) dilate(d time.Duration) time.Duration {
	return time.Duration(float64(d) * o.Scale)
}

// Profile is the base profile (memberlist's LAN defaults, Serf's library
// defaults) with every interval and timeout scaled by opt.Scale. Multipliers
// (SuspicionMult, RetransmitMult, QueryTimeoutMult, ...) stay as they are,
// so behaviour measured in gossip rounds and probe periods is the one of
// the base profile.
func Profile(name string, tr memberlist.Transport, opt Options, logs io.Writer) *serf.Config {
	conf := serf.DefaultConfig()
	conf.NodeName = name
	conf.Logger = log.New(logs, "", log.LstdFlags)
	conf.BroadcastTimeout = opt.dilate(conf.BroadcastTimeout)
	conf.LeavePropagateDelay = opt.dilate(conf.LeavePropagateDelay)
	conf.ReconnectInterval = opt.dilate(conf.ReconnectInterval)
	conf.ReconnectTimeout = opt.dilate(conf.ReconnectTimeout)
	conf.TombstoneTimeout = opt.dilate(conf.TombstoneTimeout)
	conf.ReapInterval = opt.dilate(conf.ReapInterval)
	conf.RecentIntentTimeout = opt.dilate(conf.RecentIntentTimeout)
	conf.QueueCheckInterval = opt.dilate(conf.QueueCheckInterval)
	conf.CoalescePeriod = opt.dilate(conf.CoalescePeriod)
	conf.QuiescentPeriod = opt.dilate(conf.QuiescentPeriod)
	conf.UserCoalescePeriod = opt.dilate(conf.UserCoalescePeriod)
	conf.UserQuiescentPeriod = opt.dilate(conf.UserQuiescentPeriod)

	ml := memberlist.DefaultLANConfig()
	ml.Name = name
	ml.Transport = tr
	ml.Logger = conf.Logger
	ml.GossipInterval = opt.dilate(ml.GossipInterval)
	ml.ProbeInterval = opt.dilate(ml.ProbeInterval)
	ml.ProbeTimeout = opt.dilate(ml.ProbeTimeout)
	ml.PushPullInterval = opt.dilate(ml.PushPullInterval)
	ml.GossipToTheDeadTime = opt.dilate(ml.GossipToTheDeadTime)
	ml.TCPTimeout = opt.dilate(ml.TCPTimeout)
	ml.DeadNodeReclaimTime = opt.dilate(ml.DeadNodeReclaimTime)
	if opt.Fanout > 0 {
		ml.GossipNodes = opt.Fanout
	}
	// memberlist fills a packet up to UDPBufferSize before it compresses
	// it, so compression changes CPU cost, not what a round carries; it is
	// off unless asked for, to fit more members on the machine.
	ml.EnableCompression = opt.Compress
	conf.MemberlistConfig = ml
	return conf
}

// Sim is N serf.Serf members on one in-memory network, each with a
// recorder of what its event channel delivers. Close stops everything.
type Sim struct {
	opt    Options
	Net    *serftest.Network
	Nodes  []*Node
	Gossip time.Duration // one round
	Probe  time.Duration // one probe period
	Base   *serf.Config  // node 0's config, for the profile's numbers
	start  time.Time

	watch  atomic.Pointer[map[string]bool] // names whose failure is recorded
	stopCh chan struct{}
	wg     sync.WaitGroup
}

// Node is one member and what it has seen, as offsets from the Sim's start.
type Node struct {
	Name string
	Tr   *serftest.Transport
	Serf *serf.Serf

	mu      sync.Mutex
	alive   map[string]bool
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

// NewSim starts opt.N members, not yet joined.
func NewSim(opt Options) (*Sim, error) {
	s := &Sim{opt: opt, Net: serftest.NewNetwork(opt.Seed), stopCh: make(chan struct{}), start: time.Now()}
	empty := map[string]bool{}
	s.watch.Store(&empty)
	s.Net.SetDefaultLink(linkOf(opt))
	for i := 0; i < opt.N; i++ {
		name := fmt.Sprintf("node%04d", i)
		tr := s.Net.NewTransport(name)
		logs := opt.Logs
		if logs == nil {
			logs = io.Discard
		}
		conf := Profile(name, tr, opt, logs)
		events := make(chan serf.Event, 1024)
		conf.EventCh = events
		n := &Node{Name: name, Tr: tr, alive: map[string]bool{},
			users: map[string]time.Duration{}, queries: map[string]time.Duration{}, failed: map[string]time.Duration{}}
		s.wg.Add(1)
		go s.record(n, events)
		sf, err := serf.Create(conf)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		n.Serf = sf
		s.Nodes = append(s.Nodes, n)
		if i == 0 {
			s.Base = conf
			s.Gossip = conf.MemberlistConfig.GossipInterval
			s.Probe = conf.MemberlistConfig.ProbeInterval
		}
	}
	return s, nil
}

// now is the time since the Sim started.
func (s *Sim) now() time.Duration { return time.Since(s.start) }

// record keeps node n's view from its events until Close.
func (s *Sim) record(n *Node, events <-chan serf.Event) {
	defer s.wg.Done()
	for {
		select {
		case <-s.stopCh:
			return
		case e := <-events:
			at := s.now()
			// Serf sends member events as values, its coalescer as
			// pointers; take both.
			if me, ok := e.(serf.MemberEvent); ok {
				e = &me
			}
			n.mu.Lock()
			switch e := e.(type) {
			case *serf.MemberEvent:
				watch := *s.watch.Load()
				for _, m := range e.Members {
					switch e.Type {
					case serf.EventMemberJoin:
						n.alive[m.Name] = true
					case serf.EventMemberFailed, serf.EventMemberLeave, serf.EventMemberReap:
						delete(n.alive, m.Name)
						if e.Type == serf.EventMemberFailed && watch[m.Name] {
							if _, ok := n.failed[m.Name]; !ok {
								n.failed[m.Name] = at
							}
						}
					}
				}
				if last := len(n.history); last == 0 || int(n.history[last-1].alive) != len(n.alive) {
					n.history = append(n.history, countAt{at, int32(len(n.alive))})
				}
			case serf.UserEvent:
				if _, ok := n.users[e.Name]; !ok {
					n.users[e.Name] = at
				}
			case *serf.Query:
				if _, ok := n.queries[e.Name]; !ok {
					n.queries[e.Name] = at
				}
			}
			n.mu.Unlock()
		}
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
	_ = s.Nodes[i].Serf.Shutdown()
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

// Close shuts every member down and stops the recorders.
func (s *Sim) Close() {
	parallel(s.Nodes, 64, func(n *Node) {
		if n.Serf != nil {
			_ = n.Serf.Shutdown()
		}
	})
	close(s.stopCh)
	s.wg.Wait()
	s.Net.Close()
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

// aliveCount is how many members n sees alive now.
func (n *Node) aliveCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.alive)
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

// linkOf is every link's behaviour under opt, latency scaled.
func linkOf(opt Options) serftest.LinkConfig {
	return serftest.LinkConfig{Loss: opt.Loss, Latency: opt.dilate(opt.Latency)}
}
