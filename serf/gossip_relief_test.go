package serf_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// The members of these tests keep memberlist's own queue full for the
// whole test: every alive message is retransmitted 10,000 times, padded
// tags make each one about 180 bytes, and a gossip packet holds 400. So
// memberlist never leaves more than one alive message's worth of room,
// and the 200-byte user event below never fits beside its messages.
// Periodic push/pull and anti-entropy are off, which leaves gossip
// relief as the only way the event can travel; without it the event
// stays where it was sent, whatever the timing. Probes are slow and
// patient: under the race detector this load made members suspect each
// other, and a small suspect message in place of an alive one left room
// for what must not fit.
const reliefMembers = 5

// Members named in names come last, under those names.
func starvedCluster(t *testing.T, relief bool, names ...string) *serftest.Cluster {
	t.Helper()
	c := serftest.NewCluster(t, reliefMembers-len(names), func(_ int, conf *serf.Config) {
		conf.Tags = map[string]string{"pad": strings.Repeat("x", 120)}
		conf.AntiEntropyInterval = 0
		conf.GossipRelief = relief
		conf.MemberlistConfig.UDPBufferSize = 400
		conf.MemberlistConfig.RetransmitMult = 10000
		conf.MemberlistConfig.PushPullInterval = 0
		conf.MemberlistConfig.ProbeInterval = time.Second
		conf.MemberlistConfig.ProbeTimeout = 500 * time.Millisecond
	})
	for _, name := range names {
		c.Add(name)
	}
	// Everybody joins everybody, so membership needs no gossip either.
	for i := range c.Members {
		for j := 0; j < i; j++ {
			c.Join(i, j)
		}
	}
	c.WaitMembers(reliefMembers)
	return c
}

func TestGossipReliefDeliversAStarvedUserEvent(t *testing.T) {
	for _, relief := range []bool{true, false} {
		t.Run(fmt.Sprintf("relief=%v", relief), func(t *testing.T) {
			c := starvedCluster(t, relief)
			sender := c.Members[3]
			waitStarved(t, sender)
			if err := sender.Serf.UserEvent("deploy", []byte(strings.Repeat("p", 200)), false); err != nil {
				t.Fatal(err)
			}
			everyone := func() error {
				for _, m := range c.Members {
					if n := len(m.Events.UserEvents()); n != 1 {
						return fmt.Errorf("%s has %d user events", m.Name, n)
					}
				}
				return nil
			}
			if !relief {
				// The wait gives gossip a fair chance; it can never win.
				if err := serftest.Poll(time.Second, everyone); err == nil {
					t.Fatal("the event fitted beside memberlist's own gossip: the test no longer starves it")
				}
				for _, m := range c.Members {
					if n := serf.ReliefSent(m.Serf); n != 0 {
						t.Fatalf("%s sent %d messages directly with relief off", m.Name, n)
					}
				}
				return
			}
			serftest.Eventually(t, serftest.MembersTimeout, everyone)
			if serf.ReliefSent(sender.Serf) == 0 {
				t.Fatalf("%s sent nothing directly", sender.Name)
			}
		})
	}
}

// A query is relieved as an event is, and its acks come straight back.
func TestGossipReliefDeliversAStarvedQuery(t *testing.T) {
	c := starvedCluster(t, true)
	asker := c.Members[1]
	waitStarved(t, asker)
	resp, err := asker.Serf.Query("ping", []byte(strings.Repeat("q", 200)), &serf.QueryParam{RequestAck: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	acks := map[string]bool{}
	for from := range resp.AckCh() {
		acks[from] = true
		if len(acks) == reliefMembers {
			break
		}
	}
	if len(acks) != reliefMembers {
		t.Fatalf("acks from %d of %d members: %v", len(acks), reliefMembers, acks)
	}
}

// A leave intent is relieved as an event is, so the others record a
// graceful leave; without relief only memberlist's dead message, which goes
// first, gets out, and they record a failure. The leaver's long name makes
// its intent (about 180 bytes) too big for the room memberlist leaves.
func TestGossipReliefDeliversAStarvedLeave(t *testing.T) {
	for _, relief := range []bool{true, false} {
		t.Run(fmt.Sprintf("relief=%v", relief), func(t *testing.T) {
			c := starvedCluster(t, relief, "leaver-"+strings.Repeat("l", 150))
			leaver := c.Members[reliefMembers-1]
			waitStarved(t, leaver)
			if err := leaver.Serf.Leave(); err != nil {
				t.Fatal(err)
			}
			_ = leaver.Serf.Shutdown()
			others := c.Members[:reliefMembers-1]
			leaveSeen := func(m *serftest.Member) bool {
				return slices.Contains(m.Events.MemberEvents(serf.EventMemberLeave), leaver.Name)
			}
			if !relief {
				c.WaitStatus(leaver.Name, serf.StatusFailed)
				for _, m := range others {
					if leaveSeen(m) {
						t.Fatalf("%s saw the leave: the intent fitted beside memberlist's gossip, the test no longer starves it", m.Name)
					}
				}
				return
			}
			// The events, not the final status: the relief of this test's
			// endless retransmissions loads a race-detector run enough that
			// members suspect each other and may see the leaver revived and
			// failed long after its leave.
			serftest.Eventually(t, serftest.StatusTimeout, func() error {
				for _, m := range others {
					if !leaveSeen(m) {
						return fmt.Errorf("%s has no leave event for the leaver", m.Name)
					}
				}
				return nil
			})
		})
	}
}

// waitStarved waits until memberlist has stopped offering m room.
func waitStarved(t *testing.T, m *serftest.Member) {
	t.Helper()
	serftest.Eventually(t, serftest.StatusTimeout, func() error {
		if !serf.GossipStarved(m.Serf) {
			return fmt.Errorf("%s: memberlist still offers room", m.Name)
		}
		return nil
	})
}

// TestGossipReliefSendsAtOnce: with gossip and probes an hour apart and no
// push/pull, only relief's first round, sent the moment an event is
// queued, can carry it, and GossipNodes (3) reaches all three others. A
// second event queued right after must wait: no two rounds within half a
// gossip interval, so it waits for gossip, here an hour.
func TestGossipReliefSendsAtOnce(t *testing.T) {
	for _, relief := range []bool{true, false} {
		t.Run(fmt.Sprintf("relief=%v", relief), func(t *testing.T) {
			c := serftest.NewCluster(t, 4, func(_ int, conf *serf.Config) {
				conf.AntiEntropyInterval = 0
				conf.GossipRelief = relief
				conf.MemberlistConfig.GossipInterval = time.Hour
				conf.MemberlistConfig.ProbeInterval = time.Hour
				conf.MemberlistConfig.PushPullInterval = 0
				conf.MemberlistConfig.GossipNodes = 3
			})
			for i := range c.Members {
				for j := 0; j < i; j++ {
					c.Join(i, j)
				}
			}
			c.WaitMembers(len(c.Members))
			sender := c.Members[2]
			have := func(name string, m *serftest.Member) bool {
				return slices.ContainsFunc(m.Events.UserEvents(), func(e serf.UserEvent) bool { return e.Name == name })
			}
			everyone := func(name string) func() error {
				return func() error {
					for _, m := range c.Members {
						if !have(name, m) {
							return fmt.Errorf("%s has no event %q", m.Name, name)
						}
					}
					return nil
				}
			}
			if err := sender.Serf.UserEvent("first", []byte("1"), false); err != nil {
				t.Fatal(err)
			}
			if !relief {
				if err := serftest.Poll(time.Second, everyone("first")); err == nil {
					t.Fatal("the event arrived without relief: something other than relief carries it")
				}
				return
			}
			serftest.Eventually(t, serftest.StatusTimeout, everyone("first"))

			if err := sender.Serf.UserEvent("second", []byte("2"), false); err != nil {
				t.Fatal(err)
			}
			anyoneElse := func() error {
				for _, m := range c.Members {
					if m != sender && have("second", m) {
						return nil
					}
				}
				return fmt.Errorf("nobody else has the second event")
			}
			if err := serftest.Poll(time.Second, anyoneElse); err == nil {
				t.Fatal("a second round went out within half a gossip interval of the first")
			}
		})
	}
}
