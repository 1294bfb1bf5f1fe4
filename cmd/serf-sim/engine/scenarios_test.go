package engine

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/serf-clone/serf/serf/serftest"
)

// fakeSim is n members without Serf instances: enough for the choice of
// origins and join addresses.
func fakeSim(t *testing.T, n int) *Sim {
	t.Helper()
	net := serftest.NewNetwork(1)
	t.Cleanup(net.Close)
	s := &Sim{Net: net, index: map[string]int{}}
	s.Watch()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("node%04d", i)
		s.index[name] = i
		s.Nodes = append(s.Nodes, &Node{Name: name, Idx: i, Tr: net.NewTransport(name), alive: make(bitset, (n+63)/64)})
	}
	return s
}

func TestPickOnlyFullyJoinedMembers(t *testing.T) {
	s := fakeSim(t, 10)
	// node3 and node7 joined and know all ten; node5 joined but knows only
	// itself; the rest never joined.
	for _, i := range []int{3, 5, 7} {
		s.Nodes[i].joined.Store(true)
	}
	var all []string
	for _, m := range s.Nodes {
		all = append(all, m.Name)
	}
	for _, i := range []int{3, 7} {
		s.apply(s.Nodes[i], Event{Kind: MemberJoin, Members: all}, 0)
	}
	r := &Runner{S: s, Rng: rand.New(rand.NewSource(1))}
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		seen[r.pick().Name] = true
	}
	if len(seen) != 2 || !seen["node0003"] || !seen["node0007"] {
		t.Errorf("picked %v, want only node0003 and node0007", seen)
	}
	// With nobody knowing all, a member whose join returned.
	for _, i := range []int{3, 7} {
		s.apply(s.Nodes[i], Event{Kind: MemberFailed, Members: all}, 0)
	}
	for i := 0; i < 50; i++ {
		if n := r.pick(); !n.joined.Load() {
			t.Fatalf("picked %s, which never joined", n.Name)
		}
	}
}

func TestJoinedAddrsAreDistinctJoinedOthers(t *testing.T) {
	s := fakeSim(t, 20)
	for _, i := range []int{2, 4, 6, 8} {
		s.Nodes[i].joined.Store(true)
	}
	rng := rand.New(rand.NewSource(1))
	self := s.Nodes[4]
	for i := 0; i < 100; i++ {
		addrs := s.joinedAddrs(rng, 2, self)
		if len(addrs) > 2 {
			t.Fatalf("%d addresses, want at most 2", len(addrs))
		}
		seen := map[string]bool{}
		for _, a := range addrs {
			if seen[a] {
				t.Fatalf("duplicate %s in %v", a, addrs)
			}
			seen[a] = true
			ok := false
			for _, j := range []int{2, 6, 8} {
				ok = ok || s.Nodes[j].Tr.Addr() == a
			}
			if !ok {
				t.Fatalf("%s is not a joined member other than self", a)
			}
		}
	}
	none := fakeSim(t, 5)
	if got := none.joinedAddrs(rng, 2, none.Nodes[1]); len(got) != 0 {
		t.Errorf("no member joined, got %v", got)
	}
}

// The recorder counts each member once, whatever the order of its events.
func TestApplyCountsMembersOnce(t *testing.T) {
	s := fakeSim(t, 70)
	s.Watch("node0065")
	n := s.Nodes[0]
	s.apply(n, Event{Kind: MemberJoin, Members: []string{"node0000", "node0065", "node0065", "nobody"}}, 1)
	s.apply(n, Event{Kind: MemberJoin, Members: []string{"node0001"}}, 2)
	s.apply(n, Event{Kind: MemberFailed, Members: []string{"node0065"}}, 3)
	s.apply(n, Event{Kind: MemberLeave, Members: []string{"node0069"}}, 4)
	s.apply(n, Event{Kind: MemberOther, Members: []string{"node0002"}}, 5)
	if got := n.aliveCount(); got != 2 {
		t.Errorf("alive %d, want 2", got)
	}
	if at, ok := n.failed["node0065"]; !ok || at != 3 {
		t.Errorf("failure of the watched member at %v %v", at, ok)
	}
	if at, ok := n.firstReach(0, func(a int) bool { return a >= 3 }); !ok || at != 2 {
		t.Errorf("3 alive first at %v %v, want 2", at, ok)
	}
}
