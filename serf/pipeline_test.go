package serf_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// With coalescing on, the joins of a forming cluster arrive as one event.
func TestMemberEventsCoalesce(t *testing.T) {
	c := serftest.NewCluster(t, 3, func(_ int, conf *serf.Config) {
		conf.CoalescePeriod = 2 * time.Second
		conf.QuiescentPeriod = 300 * time.Millisecond
		conf.UserCoalescePeriod = 2 * time.Second
		conf.UserQuiescentPeriod = 300 * time.Millisecond
	})
	col := c.Members[0].Events
	c.JoinAll()
	serftest.Eventually(t, 5*time.Second, func() error {
		if got := col.MemberEvents(serf.EventMemberJoin); len(got) != 3 {
			return fmt.Errorf("joins %v, want 3 members", got)
		}
		return nil
	})
	joins := 0
	for _, e := range col.All() {
		if me, ok := e.(serf.MemberEvent); ok && me.Type == serf.EventMemberJoin {
			joins++
		}
	}
	if joins > 2 {
		t.Fatalf("%d separate join events for 3 members", joins)
	}

	// Coalescable user events of one name collapse to the newest.
	for i := 0; i < 3; i++ {
		if err := c.Members[0].Serf.UserEvent("deploy", []byte{byte(i)}, true); err != nil {
			t.Fatal(err)
		}
	}
	serftest.Eventually(t, 5*time.Second, func() error {
		if len(col.UserEvents()) == 0 {
			return errors.New("no coalesced user event")
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond)
	evs := col.UserEvents()
	if len(evs) != 1 || evs[0].Payload[0] != 2 {
		t.Fatalf("user events %+v", evs)
	}
}

// At shutdown every coalescer flushes, the user coalescer into the member
// coalescer: what both held reaches EventCh, none of it is lost.
func TestShutdownFlushesChainedCoalescers(t *testing.T) {
	events := make(chan serf.Event, 64) // read here, not by a collector
	s := serftest.NewCluster(t, 1, func(_ int, conf *serf.Config) {
		conf.EventCh = events
		conf.CoalescePeriod = time.Hour
		conf.QuiescentPeriod = time.Hour
		conf.UserCoalescePeriod = time.Hour
		conf.UserQuiescentPeriod = time.Hour
	}).Members[0].Serf
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
	for len(events) > 0 {
		got = append(got, (<-events).String())
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
	events := make(chan serf.Event, 64) // read here, not by a collector
	s := serftest.NewCluster(t, 1, func(_ int, conf *serf.Config) {
		conf.EventCh = events
		conf.CoalescePeriod = time.Hour
		conf.QuiescentPeriod = time.Hour
		conf.UserCoalescePeriod = time.Hour
		conf.UserQuiescentPeriod = time.Hour
	}).Members[0].Serf
	if err := s.UserEvent("a", nil, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Leave(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(events) > 0 {
		got = append(got, (<-events).String())
	}
	if len(got) != 2 || !serftest.Contains(got, "member-leave") || !serftest.Contains(got, "user-event: a") {
		t.Fatalf("events after Leave %q", got)
	}
}

// An application that does not read EventCh cannot hang Leave.
func TestLeaveDoesNotWaitForeverOnApplication(t *testing.T) {
	s := serftest.NewCluster(t, 1, func(_ int, conf *serf.Config) {
		conf.CoalescePeriod = time.Hour
		conf.QuiescentPeriod = time.Hour
		conf.EventCh = make(chan serf.Event) // never read
	}).Members[0].Serf
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
