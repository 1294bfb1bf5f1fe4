package main

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
	s := &Sim{Net: net}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("node%04d", i)
		s.Nodes = append(s.Nodes, &Node{Name: name, Tr: net.NewTransport(name), alive: map[string]bool{}})
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
	for _, i := range []int{3, 7} {
		for _, m := range s.Nodes {
			s.Nodes[i].alive[m.Name] = true
		}
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
		s.Nodes[i].alive = map[string]bool{}
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
