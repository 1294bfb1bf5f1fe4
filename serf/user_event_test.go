package serf_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf/serftest"
)

func TestUserEventDeliveredOnceEverywhere(t *testing.T) {
	c := serftest.NewCluster(t, 4, nil)
	c.JoinAll()

	for i := 0; i < 5; i++ {
		if err := c.Members[i%4].Serf.UserEvent("deploy", []byte{byte(i)}, false); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range c.Members {
		col, name := m.Events, m.Name
		serftest.Eventually(t, waitFor, func() error {
			if n := len(col.UserEvents()); n < 5 {
				return fmt.Errorf("%s has %d of 5 user events", name, n)
			}
			return nil
		})
		// Give duplicates a chance to show up before counting.
		time.Sleep(100 * time.Millisecond)
		seen := map[byte]int{}
		for _, e := range col.UserEvents() {
			seen[e.Payload[0]]++
			if e.Name != "deploy" || e.Coalesce {
				t.Fatalf("%s bad event %+v", name, e)
			}
		}
		for p, n := range seen {
			if n != 1 {
				t.Fatalf("%s got payload %d %d times", name, p, n)
			}
		}
	}
}

func TestUserEventLimits(t *testing.T) {
	s := serftest.NewCluster(t, 1, nil).Members[0].Serf
	err := s.UserEvent("big", make([]byte, 600), false)
	if err == nil || err.Error() != "user event exceeds configured limit of 512 bytes before encoding" {
		t.Fatalf("got %v", err)
	}
	err = s.UserEvent("x", make([]byte, 505), false)
	if err == nil || err.Error() != "encoded user event exceeds configured limit of 512 bytes after encoding" {
		t.Fatalf("got %v", err)
	}
}

func TestEventReplayOnJoin(t *testing.T) {
	for _, ignoreOld := range []bool{false, true} {
		c := serftest.NewCluster(t, 2, nil)
		c.JoinAll()
		n0, n1 := c.Members[0].Serf, c.Members[1].Serf
		if err := n0.UserEvent("old", []byte("1"), false); err != nil {
			t.Fatal(err)
		}
		serftest.Eventually(t, waitFor, func() error {
			if got, _ := strconv.Atoi(n1.Stats()["event_time"]); got < 2 {
				return fmt.Errorf("n1 event clock at %d, not past the event", got)
			}
			return nil
		})
		// Until its retransmissions are used up, the event can still reach
		// n2 by gossip during the join, before the push/pull that sets the
		// ignore threshold: that would be a live delivery, not a replay.
		serftest.Eventually(t, waitFor, func() error {
			if q0, q1 := n0.Stats()["event_queue"], n1.Stats()["event_queue"]; q0 != "0" || q1 != "0" {
				return fmt.Errorf("event queues %s and %s", q0, q1)
			}
			return nil
		})

		late := c.Add("n2")
		if _, err := late.Serf.Join([]string{c.Members[1].Addr()}, ignoreOld); err != nil {
			t.Fatal(err)
		}
		names := func() []string {
			var out []string
			for _, e := range late.Events.UserEvents() {
				out = append(out, e.Name)
			}
			return out
		}
		if ignoreOld {
			if err := n0.UserEvent("new", nil, false); err != nil {
				t.Fatal(err)
			}
			serftest.Eventually(t, waitFor, hasAll("user events on n2", names, "new"))
			if serftest.Contains(names(), "old") {
				t.Fatal("old event replayed despite ignoreOld")
			}
		} else {
			serftest.Eventually(t, waitFor, func() error {
				if got := names(); len(got) != 1 || got[0] != "old" {
					return fmt.Errorf("user events on n2: %v, want the replayed old", got)
				}
				return nil
			})
		}
	}
}
