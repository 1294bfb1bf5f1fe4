package serf

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// aliveMsg encodes memberlist's alive message about node as memberlist
// does (its fields, in its order).
func aliveMsg(t *testing.T, node string, inc uint32) []byte {
	t.Helper()
	body := struct {
		Incarnation uint32
		Node        string
		Addr        []byte
		Port        uint16
		Meta        []byte
		Vsn         []uint8
	}{inc, node, net.IPv4(127, 0, 0, 1).To4(), 7946, nil, []uint8{1, 5, 2, 2, 5, 4}}
	msg, err := newWireCodec(false).encodeMessage(messageType(mlAliveMsg), body)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// The first alive message about a marked member is dropped, and every
// later copy of the same bytes; a new incarnation, unmarked members and
// other messages go out.
func TestSecondHandDropsTheMarkedMembersAliveMessage(t *testing.T) {
	h := newSecondHand(newWireCodec(false))
	now := copiesTestStart
	unmarked := compound(aliveMsg(t, "a", 1), pingBytes(1))
	if got := h.filter(unmarked, now); !bytes.Equal(got, unmarked) {
		t.Fatalf("nothing marked: got %q", got)
	}
	h.mark([]string{"b", "c"}, now)

	first := compound(aliveMsg(t, "a", 1), aliveMsg(t, "b", 3), suspectMsg(t, "c", "a", 1))
	if got, want := h.filter(first, now), compound(aliveMsg(t, "a", 1), suspectMsg(t, "c", "a", 1)); !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := h.filter(aliveMsg(t, "b", 3), now.Add(time.Second)); got != nil {
		t.Fatalf("a retransmission of the second-hand message went out: %q", got)
	}
	if got := h.filter(compound(aliveMsg(t, "b", 3), aliveMsg(t, "c", 2)), now.Add(time.Second)); got != nil {
		t.Fatalf("a packet of second-hand messages went out: %q", got)
	}
	refuted := aliveMsg(t, "b", 4)
	if got := h.filter(refuted, now.Add(time.Second)); !bytes.Equal(got, refuted) {
		t.Fatalf("a new incarnation was dropped: %q", got)
	}
	if got := h.dropped.Load(); got != 4 {
		t.Fatalf("dropped %d, want 4", got)
	}
}

// A label stays in front, a CRC is recomputed over what is left, and a
// packet that cannot be read goes out as it is.
func TestSecondHandKeepsHeaders(t *testing.T) {
	h := newSecondHand(newWireCodec(false))
	now := copiesTestStart
	h.mark([]string{"b"}, now)
	packet := withLabel("dc1", withCRC(compound(aliveMsg(t, "b", 1), pingBytes(1))))
	if got, want := h.filter(packet, now), withLabel("dc1", withCRC(compound(pingBytes(1)))); !bytes.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	badCRC := withCRC(aliveMsg(t, "b", 1))
	badCRC[1] ^= 0xff
	truncated := compound(aliveMsg(t, "b", 1), pingBytes(2))
	truncated = truncated[:len(truncated)-1]
	for name, p := range map[string][]byte{"bad CRC": badCRC, "truncated compound": truncated, "empty": {}} {
		if got := h.filter(p, now); !bytes.Equal(got, p) {
			t.Fatalf("%s: got %q", name, got)
		}
	}
}

// A mark and a dropped message last one to two windows: what memberlist
// sends after that goes out.
func TestSecondHandForgetsAfterItsWindow(t *testing.T) {
	h := newSecondHand(newWireCodec(false))
	now := copiesTestStart
	h.mark([]string{"b", "c"}, now)
	if h.filter(aliveMsg(t, "b", 1), now) != nil {
		t.Fatal("marked member's alive message went out")
	}
	later := now.Add(2*secondHandWindow + time.Second)
	h.mark(nil, later)
	if got := h.filter(aliveMsg(t, "c", 1), later); got == nil {
		t.Fatal("a mark outlived its window")
	}
	if got := h.filter(aliveMsg(t, "b", 1), later.Add(secondHandWindow)); got == nil {
		t.Fatal("a dropped message outlived two windows")
	}
}

// Serf marks the alive members of a join's state it does not know, only
// for a push/pull it started and only while it holds no other member
// alive.
func TestMergeMarksOnlyWhileAlone(t *testing.T) {
	state := func(name string, status MemberStatus) *memberState {
		return &memberState{Member: Member{Name: name, Status: status}}
	}
	joinState := []*memberlist.Node{
		{Name: "x", State: memberlist.StateAlive},
		{Name: "y", State: memberlist.StateDead},
		{Name: "z", State: memberlist.StateLeft},
		{Name: "self", State: memberlist.StateAlive},
		{Name: "w", State: memberlist.StateAlive},
	}
	for _, tc := range []struct {
		others MemberStatus
		want   []string
	}{
		{StatusNone, []string{"w", "x"}},
		{StatusFailed, []string{"x"}},
		{StatusLeft, []string{"x"}},
		{StatusAlive, nil},
		{StatusLeaving, []string{"x"}},
	} {
		s := &Serf{config: DefaultConfig(), members: map[string]*memberState{"self": state("self", StatusAlive)}}
		s.config.NodeName = "self"
		s.secondHand = newSecondHand(newWireCodec(false))
		if tc.others != StatusNone {
			s.members["w"] = state("w", tc.others)
		}
		md := &mergeDelegate{serf: s}
		if err := md.NotifyMerge(joinState); err != nil {
			t.Fatal(err)
		}
		if len(s.secondHand.marked) != 0 {
			t.Fatalf("member w %v: a join this node did not start marked %v", tc.others, s.secondHand.marked)
		}
		s.joinsInFlight.Add(1)
		if err := md.NotifyMerge(joinState); err != nil {
			t.Fatal(err)
		}
		var marked []string
		for name := range s.secondHand.marked {
			marked = append(marked, name)
		}
		slices.Sort(marked)
		if !slices.Equal(marked, tc.want) {
			t.Fatalf("member w %v: marked %v, want %v", tc.others, marked, tc.want)
		}
	}
}

// Over real sockets: a node that joins alone gossips its own alive
// message but not those of the members it was told of, and the seed
// gossips its joiners on.
func TestJoinAloneDoesNotGossipTheClusterBack(t *testing.T) {
	start := func(name string) *Serf {
		conf := loopbackConfig()
		conf.NodeName = name
		conf.MemberlistConfig.GossipInterval = 20 * time.Millisecond
		conf.TransportCompression = true // so that the transport reads what memberlist sends
		conf.AntiEntropyInterval = 0
		s, err := Create(conf)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Shutdown() })
		return s
	}
	addr := func(s *Serf) string { return s.memberlist.LocalNode().Address() }
	a, b, c := start("a"), start("b"), start("c")
	if _, err := b.Join([]string{addr(a)}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Join([]string{addr(a)}, false); err != nil {
		t.Fatal(err)
	}
	// b hears of c by gossip (the seed's, or c's own); c's marks of a
	// and b are used up when the alive messages memberlist queued for
	// them are dropped.
	eventually(t, 10*time.Second, func() error {
		if n := b.NumNodes(); n != 3 {
			return fmt.Errorf("b knows %d members", n)
		}
		for _, s := range []*Serf{b, c} {
			s.secondHand.mu.Lock()
			marked := len(s.secondHand.marked)
			s.secondHand.mu.Unlock()
			if marked != 0 || s.secondHand.dropped.Load() == 0 {
				return fmt.Errorf("%s: %d members still marked, %d messages dropped", s.config.NodeName, marked, s.secondHand.dropped.Load())
			}
		}
		return nil
	})
	if n := a.secondHand.dropped.Load(); n != 0 {
		t.Fatalf("the seed dropped %d alive messages", n)
	}
}
