package engine

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what one scenario measured: when each of N members reached the
// scenario's state, counted from the scenario's start.
type Result struct {
	Name  string
	N     int
	Times []time.Duration
	// Model, if not nil, is the epidemic model the result is compared with;
	// Offset rounds are added to it first (the expected detection time of
	// a failure, say).
	Model  *Model
	Offset float64
	Notes  []string
}

// ModelRounds is the model's rounds to frac, NaN without a model and for
// frac 1, which the model approaches but never reaches.
func (r *Result) ModelRounds(frac float64) float64 {
	if r.Model == nil || frac >= 1 {
		return math.NaN()
	}
	return r.Offset + r.Model.RoundsTo(frac)
}

// scenarios is every scenario, in the order "all" runs them.
var scenarioNames = []string{"bootstrap", "user-event", "query", "failure", "partition"}

// Runner runs scenarios on one Sim.
type Runner struct {
	S   *Sim
	Opt Options
	Rng *rand.Rand
	// HealAfter is how many rounds the partition lasts; 0 heals once every
	// member sees the other half failed.
	HealAfter float64
}

func (r *Runner) model(n int) *Model {
	return &Model{N: n, Fanout: float64(r.S.Base.GossipNodes), Loss: r.Opt.Loss}
}

// pick is a random live member that is fully joined: its join returned
// and it knows every live member alive. If none is, it is a random live
// member whose join returned, and failing that any live member.
func (r *Runner) pick() *Node {
	live := r.S.Live()
	var full, joined []*Node
	for _, n := range live {
		if !n.joined.Load() {
			continue
		}
		joined = append(joined, n)
		if n.aliveCount() >= len(live) {
			full = append(full, n)
		}
	}
	switch {
	case len(full) > 0:
		return full[r.Rng.Intn(len(full))]
	case len(joined) > 0:
		return joined[r.Rng.Intn(len(joined))]
	}
	return live[r.Rng.Intn(len(live))]
}

func (r *Runner) Run(name string) (*Result, error) {
	switch name {
	case "bootstrap":
		return r.Bootstrap(), nil
	case "user-event":
		return r.UserEvent()
	case "query":
		return r.Query()
	case "failure":
		return r.Failure(), nil
	case "partition":
		return r.Partition(), nil
	}
	return nil, fmt.Errorf("unknown scenario %q", name)
}

// Bootstrap has every member join the first one at the same moment and
// measures when each knows all N alive.
func (r *Runner) Bootstrap() *Result { return r.bootstrap(1) }

// Join retry backoff, in rounds: a refused join is tried again after a
// jittered wait that starts at joinBackoffMin rounds and doubles up to
// joinBackoffMax, as an agent's retry_join would.
const (
	joinBackoffMin = 1.0
	joinBackoffMax = 8.0
	// joinExtra is how many members already in the cluster a retry asks
	// besides the seed, so the storm spreads over the cluster.
	joinExtra = 2
)

// bootstrap is Bootstrap that stops waiting once the share until of the
// members know all N.
func (r *Runner) bootstrap(until float64) *Result {
	s := r.S
	seed := s.Nodes[0].Tr.Addr()
	s.Nodes[0].joined.Store(true)
	t0 := s.now()
	// memberlist serves at most 128 push/pulls at once and refuses the
	// rest, so most of a big storm fails at first. Every member first
	// joins the seed alone; a refused member waits a jittered backoff
	// (1 round doubling to 8) and then joins the seed and a few members it
	// knows are already in, so later tries land all over the cluster.
	// Each member's randomness comes from the -seed RNG. A join call is
	// bounded only by memberlist's TCPTimeout per address, so the joins
	// run on their own and the bootstrap stops waiting for them at the
	// join deadline: those still inside Join then are counted as stuck.
	rngs := make(map[*Node]*rand.Rand, len(s.Nodes))
	for _, n := range s.Nodes[1:] {
		rngs[n] = rand.New(rand.NewSource(r.Rng.Int63()))
	}
	joinRounds := r.Opt.JoinRounds
	if joinRounds <= 0 || joinRounds > r.Opt.MaxRound {
		joinRounds = r.Opt.MaxRound
	}
	deadline := time.Duration(joinRounds * float64(s.Gossip))
	var refused, tries, retries, gaveUp, inJoin, finished atomic.Int64
	var lastReturn atomic.Int64 // offset from t0 of the last join that returned
	allDone := make(chan struct{})
	var pending sync.WaitGroup
	for _, n := range s.Nodes[1:] {
		pending.Add(1)
		s.joins.Add(1)
		go func(n *Node) {
			defer s.joins.Done()
			defer pending.Done()
			rng := rngs[n]
			backoff := joinBackoffMin
			for try := 0; ; try++ {
				addrs := []string{seed}
				if try > 0 {
					addrs = append(addrs, s.joinedAddrs(rng, joinExtra, n)...)
					retries.Add(1)
				}
				tries.Add(1)
				inJoin.Add(1)
				_, err := n.M.Join(addrs)
				inJoin.Add(-1)
				lastReturn.Store(int64(s.now() - t0))
				if err == nil {
					n.joined.Store(true)
					finished.Add(1)
					return
				}
				if try == 0 {
					refused.Add(1)
				}
				if s.now()-t0 >= deadline {
					gaveUp.Add(1)
					return
				}
				wait := backoff * (0.5 + rng.Float64()) // jitter: 0.5..1.5 × backoff
				backoff = math.Min(2*backoff, joinBackoffMax)
				select {
				case <-time.After(time.Duration(wait * float64(s.Gossip))):
				case <-s.stopCh:
					return
				}
			}
		}(n)
	}
	go func() { pending.Wait(); close(allDone) }()
	select {
	case <-allDone:
	case <-time.After(deadline - (s.now() - t0)):
	}
	stuck := inJoin.Load()
	res := &Result{Name: "bootstrap", N: len(s.Nodes)}
	res.Notes = append(res.Notes, fmt.Sprintf("joins: %d of %d returned without error; %d refused at first (memberlist's limit of pending push/pulls) and retried after a jittered backoff of %g..%g rounds with the seed and %d joined members; %d tries (%d retries); last return after %.1f rounds; at the join deadline of %.0f rounds %d joins had not returned and %d had given up",
		finished.Load(), len(s.Nodes)-1, refused.Load(), joinBackoffMin, joinBackoffMax, joinExtra, tries.Load(), retries.Load(),
		Rounds(time.Duration(lastReturn.Load()), s.Gossip), joinRounds, stuck, gaveUp.Load()))
	want := len(s.Nodes)
	full := func(a int) bool { return a >= want }
	need := Needed(until, want)
	s.Wait(t0, r.Opt.MaxRound, func() bool {
		got := 0
		for _, n := range s.Nodes {
			if n.aliveCount() >= want {
				got++
			}
		}
		return got >= need
	})
	for _, n := range s.Nodes {
		if at, ok := n.firstReach(t0, full); ok {
			res.Times = append(res.Times, at-t0)
		}
	}
	res.Notes = append(res.Notes, "at the end "+s.knownSpread())
	return res
}

// knownSpread is how many members the live members know alive: least,
// median and most.
func (s *Sim) knownSpread() string {
	var counts []int
	for _, n := range s.Live() {
		counts = append(counts, n.aliveCount())
	}
	if len(counts) == 0 {
		return "no live member"
	}
	sort.Ints(counts)
	return fmt.Sprintf("the live members knew %d (least), %d (median), %d (most) of %d alive",
		counts[0], counts[len(counts)/2], counts[len(counts)-1], len(counts))
}

// quietRate is the packets per member per round below which gossip counts
// as quiet: an idle member sends a probe and answers one per probe period
// (0.4 packets a round at the LAN profile's 5 rounds), a gossiping one up
// to fanout (3) packets every round.
const quietRate = 1.0

// Settle waits, at most SettleRounds in all, until every live member knows
// every live member alive and then until gossip is quiet (the broadcast
// queues of the bootstrap or of the last scenario have drained), and says
// how far it got.
func (r *Runner) Settle() string {
	s := r.S
	t0 := s.now()
	live := s.Live()
	full := func() int {
		got := 0
		for _, n := range live {
			if n.aliveCount() >= len(live) {
				got++
			}
		}
		return got
	}
	ok := s.Wait(t0, r.Opt.SettleRounds, func() bool { return full() == len(live) })
	state := "converged"
	if !ok {
		state = "NOT converged"
	}
	t1 := s.now()
	rate := 0.0
	quiet := false
	for ok && Rounds(s.now()-t0, s.Gossip) < r.Opt.SettleRounds {
		if rate = s.PacketRate(2); rate < quietRate {
			quiet = true
			break
		}
	}
	q := "quiet not checked"
	if ok {
		q = fmt.Sprintf("gossip NOT quiet (%.2f packets/member/round, quiet is < %g)", rate, quietRate)
	}
	if quiet {
		q = fmt.Sprintf("gossip quiet (%.2f packets/member/round) after %.1f more rounds", rate, Rounds(s.now()-t1, s.Gossip))
	}
	spread := ""
	if !ok {
		spread = " (" + s.knownSpread() + ")"
	}
	return fmt.Sprintf("start: %s, %d of %d live members know all %d alive after %.1f rounds%s; %s (at most %.0f rounds in all)",
		state, full(), len(live), len(live), Rounds(t1-t0, s.Gossip), spread, q, r.Opt.SettleRounds)
}

// UserEvent sends one user event from a random member and measures when
// each live member delivered it.
func (r *Runner) UserEvent() (*Result, error) {
	s := r.S
	origin := r.pick()
	const name = "sim-event"
	live := s.Live()
	before := firstsOf(live)
	t0 := s.now()
	if err := origin.M.UserEvent(name, []byte("x")); err != nil {
		return nil, fmt.Errorf("user event from %s: %w", origin.Name, err)
	}
	got := func(n *Node) (time.Duration, bool) {
		n.mu.Lock()
		defer n.mu.Unlock()
		at, ok := n.users[name]
		return at, ok
	}
	s.Wait(t0, r.Opt.MaxRound, allPast(live, before))
	res := &Result{Name: "user-event", N: len(live), Model: r.model(len(live))}
	res.Notes = append(res.Notes, "origin "+origin.Name)
	for _, n := range live {
		if at, ok := got(n); ok {
			res.Times = append(res.Times, at-t0)
		}
	}
	return res, nil
}

// Query sends one query with acks from a random member and measures when
// the acks of the live members arrived at it.
func (r *Runner) Query() (*Result, error) {
	s := r.S
	origin := r.pick()
	live := s.Live()
	overflows := origin.Tr.Overflows()
	t0 := s.now()
	acks, done, err := origin.M.Query("sim-query", nil)
	if err != nil {
		return nil, fmt.Errorf("query from %s: %w", origin.Name, err)
	}
	res := &Result{Name: "query", N: len(live), Model: r.model(len(live))}
	seen := map[string]bool{}
	for from := range acks {
		if !seen[from] {
			seen[from] = true
			res.Times = append(res.Times, s.now()-t0)
		}
		if len(seen) == len(live) {
			break
		}
	}
	done()
	res.Notes = append(res.Notes, fmt.Sprintf("origin %s, timeout %.0f rounds (DefaultQueryTimeout); %d packets to it lost meanwhile to its full receive queue",
		origin.Name, Rounds(origin.M.DefaultQueryTimeout(), s.Gossip), origin.Tr.Overflows()-overflows))
	return res, nil
}

// Failure kills a random member and measures when each live member
// reported it failed.
func (r *Runner) Failure() *Result {
	s := r.S
	victim := r.pick()
	s.Watch(victim.Name)
	idx := 0
	for i, n := range s.Nodes {
		if n == victim {
			idx = i
		}
	}
	s.Nodes[idx].killed = true
	live := s.Live()
	before := firstsOf(live)
	s.Nodes[idx].killed = false
	t0 := s.now()
	s.Kill(idx)
	got := func(n *Node) (time.Duration, bool) {
		n.mu.Lock()
		defer n.mu.Unlock()
		at, ok := n.failed[victim.Name]
		return at, ok
	}
	s.Wait(t0, r.Opt.MaxRound, allPast(live, before))
	ml := s.Base
	perProbe := Rounds(s.Probe, s.Gossip)
	det := DetectionPeriods(len(s.Nodes), ml.SuspicionMult)
	susp := SuspicionPeriods(len(s.Nodes), ml.SuspicionMult)
	res := &Result{Name: "failure", N: len(live), Model: r.model(len(live)), Offset: det * perProbe}
	res.Notes = append(res.Notes,
		"victim "+victim.Name,
		fmt.Sprintf("SWIM/Lifeguard: detection ≈ ProbeInterval·(1 + %d·log10(%d)) = %.1f probe periods = %.1f rounds; "+
			"suspicion timeout %.1f..%.1f probe periods (Lifeguard min..max), then dissemination as for events",
			ml.SuspicionMult, len(s.Nodes), det, det*perProbe, susp, susp*float64(ml.SuspicionMaxTimeoutMult)))
	for _, n := range live {
		if at, ok := got(n); ok {
			res.Times = append(res.Times, at-t0)
		}
	}
	return res
}

// Partition splits the live members into two halves, heals the network
// after HealAfter rounds (or once each half sees the other failed) and
// measures when each member sees every live member alive again, counted
// from the heal.
func (r *Runner) Partition() *Result {
	s := r.S
	live := s.Live()
	var a, b []string
	for i, n := range live {
		if i < len(live)/2 {
			a = append(a, n.Name)
		} else {
			b = append(b, n.Name)
		}
	}
	res := &Result{Name: "partition", N: len(live)}
	t0 := s.now()
	s.Net.Partition(a, b)
	half := map[string]int{}
	for _, x := range a {
		half[x] = len(a)
	}
	for _, x := range b {
		half[x] = len(b)
	}
	split := func(n *Node) (time.Duration, bool) {
		return n.firstReach(t0, func(alive int) bool { return alive <= half[n.Name] })
	}
	if r.HealAfter > 0 {
		s.Wait(t0, r.HealAfter, func() bool { return false })
	} else {
		s.Wait(t0, r.Opt.MaxRound, func() bool {
			for _, n := range live {
				if _, ok := split(n); !ok {
					return false
				}
			}
			return true
		})
	}
	var det []time.Duration
	for _, n := range live {
		if at, ok := split(n); ok {
			det = append(det, at-t0)
		}
	}
	t1 := s.now()
	s.Net.Heal()
	s.Net.SetDefaultLink(linkOf(r.Opt))
	res.Notes = append(res.Notes, fmt.Sprintf("halves of %d and %d; healed after %.1f rounds; split seen by %d/%d members: %s",
		len(a), len(b), Rounds(t1-t0, s.Gossip), len(det), len(live), summary(det, len(live), s.Gossip)))
	want := len(live)
	full := func(a int) bool { return a >= want }
	s.Wait(t1, r.Opt.MaxRound, func() bool {
		for _, n := range live {
			if n.aliveCount() < want {
				return false
			}
		}
		return true
	})
	for _, n := range live {
		if at, ok := n.firstReach(t1, full); ok {
			res.Times = append(res.Times, at-t1)
		}
	}
	res.Notes = append(res.Notes, fmt.Sprintf("reconnect interval %.0f rounds, push-pull interval %.0f rounds (base, before memberlist scales it by cluster size)",
		Rounds(r.Opt.Dilate(reconnectInterval), s.Gossip), Rounds(s.Base.PushPullInterval, s.Gossip)))
	return res
}

// firstsOf is each node's count of first deliveries now.
func firstsOf(nodes []*Node) []int32 {
	out := make([]int32, len(nodes))
	for i, n := range nodes {
		out[i] = n.firsts.Load()
	}
	return out
}

// allPast is a Wait condition: every node has recorded a first since
// before (taken with firstsOf).
func allPast(nodes []*Node, before []int32) func() bool {
	return func() bool {
		for i, n := range nodes {
			if n.firsts.Load() == before[i] {
				return false
			}
		}
		return true
	}
}

// reconnectInterval is Serf's default ReconnectInterval, the same in both
// implementations.
const reconnectInterval = 30 * time.Second

// summary is "50%=a 99%=b 99.99%=c 100%=d" in rounds.
func summary(times []time.Duration, n int, gossip time.Duration) string {
	out := ""
	for i, f := range reportFractions {
		if i > 0 {
			out += " "
		}
		out += fracLabel(f) + "%="
		if d, ok := TimeTo(times, n, f); ok {
			out += fmt.Sprintf("%.1f", Rounds(d, gossip))
		} else {
			out += "-"
		}
	}
	return out
}
