package serf

import (
	"testing"
	"time"
)

// With coalescing on, the joins of a forming cluster arrive as one event.
func TestMemberEventsCoalesce(t *testing.T) {
	c := newTestCluster(t, 3, func(conf *Config) {
		conf.CoalescePeriod = 2 * time.Second
		conf.QuiescentPeriod = 300 * time.Millisecond
		conf.UserCoalescePeriod = 2 * time.Second
		conf.UserQuiescentPeriod = 300 * time.Millisecond
	})
	col := c.collect(0)
	c.startAll()
	waitUntil(t, 5*time.Second, "coalesced join", func() bool {
		return len(col.memberEvents(EventMemberJoin)) == 3
	})
	joins := 0
	for _, e := range col.snapshot() {
		if me, ok := e.(*MemberEvent); ok && me.Type == EventMemberJoin {
			joins++
		}
	}
	if joins > 2 {
		t.Fatalf("%d separate join events for 3 members", joins)
	}

	// Coalescable user events of one name collapse to the newest.
	for i := 0; i < 3; i++ {
		if err := c.nodes[0].serf.UserEvent("deploy", []byte{byte(i)}, true); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 5*time.Second, "coalesced user event", func() bool { return len(col.userEvents()) > 0 })
	time.Sleep(500 * time.Millisecond)
	evs := col.userEvents()
	if len(evs) != 1 || evs[0].Payload[0] != 2 {
		t.Fatalf("user events %+v", evs)
	}
}

// Protocol 2 only carries the "role" tag.
func TestProtocol2CarriesRoleOnly(t *testing.T) {
	c := newTestCluster(t, 2, nil)
	c.nodes[0].conf.ProtocolVersion = 2
	c.nodes[0].conf.Tags = map[string]string{"role": "web", "dc": "east"}
	c.startAll()
	waitUntil(t, 5*time.Second, "n1 to see n0", func() bool {
		m, ok := findMember(c.nodes[1].serf, "n0")
		return ok && m.Tags["role"] == "web" && len(m.Tags) == 1 && m.DelegateCur == 2
	})
}

// At shutdown every coalescer flushes, the user coalescer into the member
// coalescer: what both held reaches EventCh, none of it is lost.
func TestShutdownFlushesChainedCoalescers(t *testing.T) {
	c := newTestCluster(t, 1, func(conf *Config) {
		conf.CoalescePeriod = time.Hour
		conf.QuiescentPeriod = time.Hour
		conf.UserCoalescePeriod = time.Hour
		conf.UserQuiescentPeriod = time.Hour
	})
	s := c.start(0)
	for _, name := range []string{"a", "b", "c"} {
		if err := s.UserEvent(name, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	// Shutdown has returned, so everything flushed is already queued.
	var got []string
	for len(c.nodes[0].events) > 0 {
		got = append(got, (<-c.nodes[0].events).String())
	}
	want := map[string]bool{"member-join": true, "user-event: a": true, "user-event: b": true, "user-event: c": true}
	if len(got) != len(want) {
		t.Fatalf("events after shutdown %q", got)
	}
	for _, e := range got {
		if !want[e] {
			t.Fatalf("events after shutdown %q", got)
		}
	}
}

// Leave has the coalescers hand over what they hold before it returns, so
// the application sees our own member-leave while still running.
func TestLeaveFlushesCoalescers(t *testing.T) {
	c := newTestCluster(t, 1, func(conf *Config) {
		conf.CoalescePeriod = time.Hour
		conf.QuiescentPeriod = time.Hour
		conf.UserCoalescePeriod = time.Hour
		conf.UserQuiescentPeriod = time.Hour
	})
	s := c.start(0)
	if err := s.UserEvent("a", nil, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Leave(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(c.nodes[0].events) > 0 {
		got = append(got, (<-c.nodes[0].events).String())
	}
	if len(got) != 2 || !contains(got, "member-leave") || !contains(got, "user-event: a") {
		t.Fatalf("events after Leave %q", got)
	}
}

// An application that does not read EventCh cannot hang Leave.
func TestLeaveDoesNotWaitForeverOnApplication(t *testing.T) {
	c := newTestCluster(t, 1, func(conf *Config) {
		conf.CoalescePeriod = time.Hour
		conf.QuiescentPeriod = time.Hour
		conf.EventCh = make(chan Event) // never read
	})
	s := c.start(0)
	done := make(chan error, 1)
	go func() { done <- s.Leave() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Leave hung")
	}
}
