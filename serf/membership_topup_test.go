package serf

import (
	"bytes"
	"net"
	"strings"
	"testing"
)

// takeTopUps takes what scan queued so far.
func takeTopUps(u *membershipTopUp) []topUp { return drain(u.pending) }

// fixedSize is a member count that tests set.
type fixedSize struct{ n int }

func (f *fixedSize) get() int { return f.n }

// In a small cluster each membership message (memberlist's alive, suspect
// and dead messages, Serf's join intents) is topped up once, with
// RetransmitMult − MembershipRetransmitMult transmissions per log10 of the
// cluster; other messages, repeats and large clusters are not.
func TestMembershipTopUpCoversMembershipGossipInSmallClusters(t *testing.T) {
	size := &fixedSize{n: 5}
	u := newMembershipTopUp(2, 32, size.get, nil)
	alive, suspect, dead := aliveBytes("b"), suspectBytes("c"), deadMsg(t, "d", "a", 1)
	join := userBytes(string([]byte{byte(messageJoinType), 0x80}))
	event := userBytes(string([]byte{byte(messageUserEventType), 0x80}))
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7946}

	u.scan(compound(pingBytes(1), alive, suspect, dead, join, event), to)
	got := takeTopUps(u)
	if len(got) != 4 {
		t.Fatalf("queued %d top-ups, want 4 (alive, suspect, dead, join intent)", len(got))
	}
	for i, want := range [][]byte{alive, suspect, dead, join} {
		if !bytes.Equal(got[i].packet, want) || got[i].copies != 2 || got[i].skip != to {
			t.Errorf("top-up %d: %q ×%d skipping %v, want %q ×2 skipping %v", i, got[i].packet, got[i].copies, got[i].skip, want, to)
		}
	}

	u.scan(alive, to) // memberlist's next transmission of it
	if got := takeTopUps(u); len(got) != 0 {
		t.Fatalf("a repeated message topped up again: %q", got[0].packet)
	}

	size.n = 15 // ceil(log10(16)) = 2
	u.scan(withCRC(aliveBytes("e")), to)
	got = takeTopUps(u)
	if len(got) != 1 || got[0].copies != 4 || !bytes.Equal(got[0].packet, withCRC(aliveBytes("e"))) {
		t.Fatalf("at 15 members: %+v, want one top-up of 4 copies with its CRC header", got)
	}

	size.n = 32
	u.scan(aliveBytes("f"), to)
	if got := takeTopUps(u); len(got) != 0 {
		t.Fatalf("topped up at 32 members: %q", got[0].packet)
	}
	size.n = 5
	u.scan(compound(aliveBytes("g"), aliveBytes("g"))[:6], to) // runs past its end
	u.scan([]byte{mlHasLabelMsg, 9, 'x'}, to)
	if got := takeTopUps(u); len(got) != 0 {
		t.Fatalf("topped up an unreadable packet: %q", got[0].packet)
	}
}

// The copies go to distinct random members, never to the one the
// carrying packet went to, and to all of them when there are few.
func TestMembershipTopUpPicksOtherRecipients(t *testing.T) {
	var members []*net.UDPAddr
	for port := 1; port <= 6; port++ {
		members = append(members, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	}
	u := newMembershipTopUp(2, 32, func() int { return 7 }, func() []*net.UDPAddr {
		return append([]*net.UDPAddr(nil), members...)
	})
	skip := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 3}
	picked := map[int]int{}
	for range 200 {
		to := u.recipients(topUp{copies: 2, skip: skip})
		if len(to) != 2 || to[0].Port == to[1].Port {
			t.Fatalf("picked %v, want two distinct members", to)
		}
		for _, a := range to {
			if a.Port == skip.Port {
				t.Fatalf("picked the member the gossip went to: %v", to)
			}
			picked[a.Port]++
		}
	}
	if len(picked) != 5 {
		t.Errorf("over 200 picks only %v were chosen, want each of the 5 others", picked)
	}
	if to := u.recipients(topUp{copies: 9, skip: skip}); len(to) != 5 {
		t.Errorf("9 copies among 5 others went to %d", len(to))
	}
}

// Over real sockets: the first packet memberlist sends with an alive
// message also sends the message alone to two other members, once.
func TestNetTransportTopsUpMembershipGossip(t *testing.T) {
	gossipTo, _ := testTransport(t, &strings.Builder{})
	second, _ := testTransport(t, &strings.Builder{})
	third, _ := testTransport(t, &strings.Builder{})
	var members []*net.UDPAddr
	for _, tr := range []*netTransport{gossipTo, second, third} {
		members = append(members, tr.udp.LocalAddr().(*net.UDPAddr))
	}
	u := newMembershipTopUp(2, 32, func() int { return 4 }, func() []*net.UDPAddr {
		return append([]*net.UDPAddr(nil), members...)
	})
	sender, _ := testTransportWith(t, &strings.Builder{}, wireOptions{topUp: u})

	alive := aliveBytes("b")
	gossip := compound(pingBytes(1), alive)
	writeTwice(t, sender, gossipTo, gossip)
	for _, tr := range []*netTransport{second, third} {
		if got := receivePacket(t, tr, "the top-up"); !bytes.Equal(got, alive) {
			t.Fatalf("received %q, want the alive message %q", got, alive)
		}
	}
	for range 2 {
		if got := receivePacket(t, gossipTo, "the gossip"); !bytes.Equal(got, gossip) {
			t.Fatalf("the gossip's addressee received %q", got)
		}
	}
	nothingMore(t, gossipTo, second, third)
	awaitSent(t, &u.copies, 2)
}

// A top-up is made only when FullRetransmitBelow asks for one and
// memberlist's own count is below RetransmitMult.
func TestMembershipTopUpForFollowsTheConfig(t *testing.T) {
	s := &Serf{}
	for _, tc := range []struct {
		name              string
		membership, below int
		wantExtra         int
	}{
		{"defaults", DefaultConfig().MembershipRetransmitMult, DefaultConfig().FullRetransmitBelow, 2},
		{"membership at 1", 1, 32, 3},
		{"no top-up asked", 2, 0, 0},
		{"membership at RetransmitMult", 4, 32, 0},
		{"membership unset", 0, 32, 0},
	} {
		conf := DefaultConfig()
		conf.MemberlistConfig.RetransmitMult = 4
		conf.MembershipRetransmitMult, conf.FullRetransmitBelow = tc.membership, tc.below
		u := s.membershipTopUpFor(conf)
		switch {
		case tc.wantExtra == 0 && u != nil:
			t.Errorf("%s: a top-up of ×%d made", tc.name, u.extraMult)
		case tc.wantExtra != 0 && (u == nil || u.extraMult != tc.wantExtra || u.below != tc.below):
			t.Errorf("%s: top-up %+v, want ×%d below %d", tc.name, u, tc.wantExtra, tc.below)
		}
	}
}
