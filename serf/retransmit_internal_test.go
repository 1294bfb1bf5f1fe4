package serf

import (
	"testing"

	"github.com/hashicorp/memberlist"
)

// Membership gossip (memberlist's own queue, Serf's join intents) is
// retransmitted MembershipRetransmitMult times per log10 of the cluster
// where Serf's transport tops small clusters up (or no top-up is asked
// for); leave intents, user events and queries keep memberlist's
// RetransmitMult, and so does membership gossip where the top-up is asked
// for and the transport is the caller's.
func TestMembershipGossipHasItsOwnRetransmitMult(t *testing.T) {
	for _, tc := range []struct {
		name              string
		membership, below int
		callerTransport   bool
		want              int
		wantTopUp         bool
	}{
		{"defaults", DefaultConfig().MembershipRetransmitMult, DefaultConfig().FullRetransmitBelow, false, 2, true},
		{"defaults, caller's transport", 2, 32, true, 4, false},
		{"no top-up asked", 2, 0, false, 2, false},
		{"no top-up asked, caller's transport", 2, 0, true, 2, false},
		{"unset", 0, 32, false, 4, false},
	} {
		conf := loopbackConfig()
		conf.MemberlistConfig.RetransmitMult = 4
		conf.MembershipRetransmitMult, conf.FullRetransmitBelow = tc.membership, tc.below
		conf.TransportCompression = true // the agent's: the transport sees plain messages
		if tc.callerTransport {
			tr, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{"127.0.0.1"}, Logger: conf.Logger})
			if err != nil {
				t.Fatal(err)
			}
			conf.MemberlistConfig.Transport = tr
		}
		s, err := Create(conf)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.joinBroadcasts.RetransmitMult; got != tc.want {
			t.Errorf("%s: join intents retransmitted ×%d, want ×%d", tc.name, got, tc.want)
		}
		own, _ := s.config.MemberlistConfig.Transport.(*netTransport)
		if got := own != nil && own.wire.topUp != nil; got != tc.wantTopUp {
			t.Errorf("%s: topped up %v, want %v", tc.name, got, tc.wantTopUp)
		}
		for _, q := range []*memberlist.TransmitLimitedQueue{s.leaveBroadcasts, s.eventBroadcasts, s.queryBroadcasts} {
			if q.RetransmitMult != 4 {
				t.Errorf("%s: leaves, events or queries retransmitted ×%d, want ×4", tc.name, q.RetransmitMult)
			}
		}
		if got := s.config.MemberlistConfig.RetransmitMult; got != 4 {
			t.Errorf("%s: Serf's copy of the memberlist config says ×%d, want the caller's ×4", tc.name, got)
		}
		_ = s.Shutdown()
	}

	// What memberlist itself is given.
	c := memberlist.DefaultLANConfig()
	if got := withRetransmitMult(c, 4); got != c {
		t.Error("a copy was made where nothing changes")
	}
	got := withRetransmitMult(c, 2)
	if got.RetransmitMult != 2 || c.RetransmitMult != 4 || got.ProbeInterval != c.ProbeInterval {
		t.Errorf("memberlist gets ×%d (the original now ×%d)", got.RetransmitMult, c.RetransmitMult)
	}
}
