package serf

import (
	"testing"
	"time"
)

func TestJoinSeesEveryone(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	col := c.collect(0)
	c.startAll()

	waitUntil(t, 5*time.Second, "join events on n0", func() bool {
		joins := col.memberEvents(EventMemberJoin)
		return contains(joins, "n0") && contains(joins, "n1") && contains(joins, "n2")
	})
	if !c.nodes[0].logs.Contains("[INFO] serf: EventMemberJoin: n1 127.0.0.1") {
		t.Fatalf("missing join log line:\n%s", c.nodes[0].logs)
	}
	m := c.nodes[0].serf.LocalMember()
	if m.Name != "n0" || m.Status != StatusAlive || m.DelegateCur != 5 || m.DelegateMin != 2 || m.DelegateMax != 5 || m.ProtocolCur != 2 {
		t.Fatalf("local member %+v", m)
	}
}

func TestGracefulLeaveIsSeenAsLeft(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	col := c.collect(0)
	c.startAll()

	if err := c.nodes[2].serf.Leave(); err != nil {
		t.Fatal(err)
	}
	if st := c.nodes[2].serf.State(); st != SerfLeft {
		t.Fatalf("state %v", st)
	}
	c.waitStatus("n2", StatusLeft)
	waitUntil(t, 5*time.Second, "leave event", func() bool {
		return contains(col.memberEvents(EventMemberLeave), "n2")
	})
	if err := c.nodes[2].serf.Leave(); err != nil {
		t.Fatalf("second leave: %v", err)
	}
	c.kill(2)
	if err := c.nodes[2].serf.Leave(); err == nil || err.Error() != "Leave called after Shutdown" {
		t.Fatalf("leave after shutdown: %v", err)
	}
	if c.nodes[2].logs.Contains("Shutdown without a Leave") {
		t.Fatal("warned about shutdown after a leave")
	}
}

func TestFailureIsSeenAsFailed(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	col := c.collect(0)
	c.startAll()

	c.kill(2)
	if !c.nodes[2].logs.Contains("[WARN] serf: Shutdown without a Leave") {
		t.Fatal("missing shutdown warning")
	}
	c.waitStatus("n2", StatusFailed)
	waitUntil(t, 5*time.Second, "failed event", func() bool {
		return contains(col.memberEvents(EventMemberFailed), "n2")
	})
	if st := c.nodes[0].serf.Stats(); st["failed"] != "1" || st["members"] != "3" {
		t.Fatalf("stats %v", st)
	}
}

func TestForceLeaveMovesFailedToLeft(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	col := c.collect(1)
	c.startAll()
	c.kill(2)
	c.waitStatus("n2", StatusFailed)

	if err := c.nodes[0].serf.RemoveFailedNode("n2"); err != nil {
		t.Fatal(err)
	}
	c.waitStatus("n2", StatusLeft)
	waitUntil(t, 5*time.Second, "forced leave event on n1", func() bool {
		return contains(col.memberEvents(EventMemberLeave), "n2")
	})
	if !c.nodes[1].logs.Contains("[INFO] serf: EventMemberLeave (forced): n2 127.0.0.1") {
		t.Fatalf("missing forced leave log")
	}
}

func TestForceLeavePruneErases(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	col := c.collect(1)
	c.startAll()
	c.kill(2)
	c.waitStatus("n2", StatusFailed)

	if err := c.nodes[0].serf.RemoveFailedNodePrune("n2"); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1} {
		s := c.nodes[i].serf
		waitUntil(t, 5*time.Second, "n2 pruned", func() bool {
			_, ok := findMember(s, "n2")
			return !ok
		})
	}
	waitUntil(t, 5*time.Second, "reap event", func() bool {
		return contains(col.memberEvents(EventMemberReap), "n2")
	})
	if _, ok := c.nodes[0].serf.GetCachedCoordinate("n2"); ok {
		t.Fatal("coordinate of pruned node still cached")
	}
}

func TestForceLeaveUnknownNodeSucceeds(t *testing.T) {
	c := newTestCluster(t, 2, nil)
	c.startAll()
	if err := c.nodes[0].serf.RemoveFailedNode("nobody"); err != nil {
		t.Fatal(err)
	}
}

func TestReapAfterTimeouts(t *testing.T) {
	c := newTestCluster(t, 3, func(conf *Config) {
		conf.ReapInterval = 20 * time.Millisecond
		conf.ReconnectTimeout = 300 * time.Millisecond
		conf.TombstoneTimeout = 300 * time.Millisecond
	})
	col := c.collect(0)
	c.startAll()
	c.kill(2)
	waitUntil(t, 5*time.Second, "n2 reaped", func() bool {
		return contains(col.memberEvents(EventMemberReap), "n2")
	})
	if _, ok := findMember(c.nodes[0].serf, "n2"); ok {
		t.Fatal("n2 still a member after reap")
	}
	if !c.nodes[0].logs.Contains("[INFO] serf: EventMemberReap: n2") {
		t.Fatal("missing reap log")
	}
}

func TestSetTagsUpdatesPeers(t *testing.T) {
	c := newTestCluster(t, 2, nil)
	col := c.collect(1)
	c.startAll()

	if err := c.nodes[0].serf.SetTags(map[string]string{"role": "web"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "tag update", func() bool {
		m, _ := findMember(c.nodes[1].serf, "n0")
		return m.Tags["role"] == "web" && contains(col.memberEvents(EventMemberUpdate), "n0")
	})
	if got := c.nodes[0].serf.LocalMember().Tags["role"]; got != "web" {
		t.Fatalf("local member tags not updated: %q", got)
	}
	big := map[string]string{"x": string(make([]byte, 600))}
	err := c.nodes[0].serf.SetTags(big)
	if err == nil || err.Error() != "Encoded length of tags exceeds limit of 512 bytes" {
		t.Fatalf("big tags: %v", err)
	}
}

func TestUserEventDeliveredOnceEverywhere(t *testing.T) {
	c := newTestCluster(t, 4, nil)
	var cols []*collector
	for i := range c.nodes {
		cols = append(cols, c.collect(i))
	}
	c.startAll()

	for i := 0; i < 5; i++ {
		if err := c.nodes[i%4].serf.UserEvent("deploy", []byte{byte(i)}, false); err != nil {
			t.Fatal(err)
		}
	}
	for i, col := range cols {
		waitUntil(t, 5*time.Second, "5 user events", func() bool { return len(col.userEvents()) >= 5 })
		// Give duplicates a chance to show up before counting.
		time.Sleep(100 * time.Millisecond)
		seen := map[byte]int{}
		for _, e := range col.userEvents() {
			seen[e.Payload[0]]++
			if e.Name != "deploy" || e.Coalesce {
				t.Fatalf("node %d bad event %+v", i, e)
			}
		}
		for p, n := range seen {
			if n != 1 {
				t.Fatalf("node %d got payload %d %d times", i, p, n)
			}
		}
	}
}

func TestUserEventLimits(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	s := c.start(0)
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
		c := newTestCluster(t, 3, nil)
		late := c.collect(2)
		c.start(0)
		c.start(1)
		c.join(1, 0)
		c.waitMembers(2)
		if err := c.nodes[0].serf.UserEvent("old", []byte("1"), false); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 5*time.Second, "n1 to record the event", func() bool {
			return c.nodes[1].serf.eventClock.Time() >= 2
		})
		// Until its retransmissions are used up, the event can still reach
		// n2 by gossip during the join, before the push/pull that sets the
		// ignore threshold: that would be a live delivery, not a replay.
		waitUntil(t, 5*time.Second, "event gossip to finish", func() bool {
			return c.nodes[0].serf.Stats()["event_queue"] == "0" && c.nodes[1].serf.Stats()["event_queue"] == "0"
		})

		c.start(2)
		if _, err := c.nodes[2].serf.Join([]string{c.nodes[1].addr()}, ignoreOld); err != nil {
			t.Fatal(err)
		}
		if ignoreOld {
			if err := c.nodes[0].serf.UserEvent("new", nil, false); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, 5*time.Second, "new event", func() bool {
				for _, e := range late.userEvents() {
					if e.Name == "new" {
						return true
					}
				}
				return false
			})
			for _, e := range late.userEvents() {
				if e.Name == "old" {
					t.Fatal("old event replayed despite ignoreOld")
				}
			}
		} else {
			waitUntil(t, 5*time.Second, "replayed event", func() bool {
				evs := late.userEvents()
				return len(evs) == 1 && evs[0].Name == "old"
			})
		}
	}
}

func TestShutdownIsIdempotentAndClosesCh(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	s := c.start(0)
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.ShutdownCh():
	default:
		t.Fatal("ShutdownCh not closed")
	}
	if _, err := s.Join([]string{"127.0.0.1:1"}, false); err == nil {
		t.Fatal("join after shutdown worked")
	}
}

func TestCreateValidation(t *testing.T) {
	for _, tc := range []struct {
		tweak func(*Config)
		want  string
	}{
		{func(c *Config) { c.ProtocolVersion = 1 }, "Protocol version '1' too low. Must be in range: [2, 5]"},
		{func(c *Config) { c.ProtocolVersion = 6 }, "Protocol version '6' too high. Must be in range: [2, 5]"},
		{func(c *Config) { c.UserEventSizeLimit = 9217 }, "user event size limit exceeds limit of 9216 bytes"},
		{func(c *Config) { c.Tags = map[string]string{"x": string(make([]byte, 600))} }, "Encoded length of tags exceeds limit of 512 bytes"},
	} {
		conf := DefaultConfig()
		tc.tweak(conf)
		_, err := Create(conf)
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

func TestStatsKeys(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	s := c.start(0)
	st := s.Stats()
	for _, k := range []string{"members", "failed", "left", "health_score", "member_time", "event_time",
		"query_time", "intent_queue", "event_queue", "query_queue", "encrypted", "coordinate_resets"} {
		if _, ok := st[k]; !ok {
			t.Errorf("missing %s", k)
		}
	}
	if st["encrypted"] != "false" {
		t.Errorf("encrypted %q", st["encrypted"])
	}
}
