package serf

import (
	"testing"

	"github.com/hashicorp/memberlist"
)

// Membership gossip (memberlist's own queue, Serf's join intents) is
// retransmitted MembershipRetransmitMult times per log10 of the cluster
// when that is set; leave intents, user events and queries keep
// memberlist's RetransmitMult, which 0 (the default) means for
// everything.
func TestMembershipGossipHasItsOwnRetransmitMult(t *testing.T) {
	for _, tc := range []struct {
		name             string
		membership, want int
	}{
		{"default: off", DefaultConfig().MembershipRetransmitMult, 4},
		{"set", 2, 2},
	} {
		conf := loopbackConfig()
		conf.MemberlistConfig.RetransmitMult = 4
		conf.MembershipRetransmitMult = tc.membership
		s, err := Create(conf)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.joinBroadcasts.RetransmitMult; got != tc.want {
			t.Errorf("%s: join intents retransmitted ×%d, want ×%d", tc.name, got, tc.want)
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
