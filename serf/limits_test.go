package serf

import (
	"fmt"
	"log"
	"net"
	"strings"
	"testing"
	"time"
)

// limitSerf is a lone Serf whose log the test reads.
func limitSerf(t *testing.T) (*Serf, chan Event, *syncBuffer) {
	t.Helper()
	logs := new(syncBuffer)
	s, events := loneSerf(t, "me", func(c *Config) { c.Logger = log.New(logs, "", 0) })
	return s, events, logs
}

func encodeMsg(t *testing.T, s *Serf, mt messageType, body any) []byte {
	t.Helper()
	buf, err := s.codec.encodeMessage(mt, body)
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

// eventsUntil receives events until one whose String is marker, and
// returns those before it.
func eventsUntil(t *testing.T, ch chan Event, marker string) []Event {
	t.Helper()
	var before []Event
	for {
		e := recvEvent(t, ch)
		if e.String() == marker {
			return before
		}
		before = append(before, e)
	}
}

func countLines(logs *syncBuffer, s string) int { return strings.Count(logs.String(), s) }

// A user event over UserEventSizeLimit that arrives anyway (by gossip or
// in a push/pull) is neither delivered nor gossiped on, and a run of them
// warns once.
func TestReceivedOversizedUserEventIsDropped(t *testing.T) {
	s, events, logs := limitSerf(t)
	d := &delegate{serf: s}
	d.NotifyMsg(encodeMsg(t, s, messageUserEventType, &messageUserEvent{LTime: 1, Name: "big", Payload: make([]byte, 600)}))
	d.NotifyMsg(encodeMsg(t, s, messageUserEventType, &messageUserEvent{LTime: 1, Name: "big2", Payload: make([]byte, 600)}))
	d.MergeRemoteState(encodeMsg(t, s, messagePushPullType, &messagePushPull{
		EventLTime: 3,
		Events:     []*userEventSlot{{LTime: 2, Events: []userEventEntry{{Name: "big3", Payload: make([]byte, 600)}}}},
	}), false)
	d.NotifyMsg(encodeMsg(t, s, messageUserEventType, &messageUserEvent{LTime: 3, Name: "marker"}))

	if before := eventsUntil(t, events, "user-event: marker"); len(before) != 0 {
		t.Fatalf("oversized events delivered: %v", before)
	}
	if n := s.eventBroadcasts.NumQueued(); n != 1 {
		t.Fatalf("%d user events queued for gossip, want only the marker", n)
	}
	if n := countLines(logs, "[WARN] serf: Dropping user event of"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs)
	}
	if n := s.limits.bigUserEvents.count(); n != 3 {
		t.Fatalf("%d drops counted, want 3", n)
	}
}

func TestReceivedOversizedQueryIsDropped(t *testing.T) {
	s, events, logs := limitSerf(t)
	d := &delegate{serf: s}
	for id := range uint32(2) {
		d.NotifyMsg(encodeMsg(t, s, messageQueryType, &messageQuery{LTime: 1, ID: id, Name: "big", Payload: make([]byte, 1100), Timeout: time.Second}))
	}
	d.NotifyMsg(encodeMsg(t, s, messageQueryType, &messageQuery{LTime: 2, ID: 9, Name: "marker", Timeout: time.Second}))
	if before := eventsUntil(t, events, "query: marker"); len(before) != 0 {
		t.Fatalf("oversized queries delivered: %v", before)
	}
	if n := s.queryBroadcasts.NumQueued(); n != 1 {
		t.Fatalf("%d queries queued for gossip, want only the marker", n)
	}
	if n := countLines(logs, "[WARN] serf: Dropping query of"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs)
	}
}

// Responses over QueryResponseSizeLimit never reach the collector, nor
// are oversized relays forwarded.
func TestReceivedOversizedQueryResponseIsDropped(t *testing.T) {
	s, _, logs := limitSerf(t)
	d := &delegate{serf: s}
	resp, err := s.Query("q", nil, &QueryParam{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	d.NotifyMsg(encodeMsg(t, s, messageQueryResponseType, &messageQueryResponse{LTime: resp.lTime, ID: resp.id, From: "big", Payload: make([]byte, 1100)}))
	d.NotifyMsg(encodeMsg(t, s, messageQueryResponseType, &messageQueryResponse{LTime: resp.lTime, ID: resp.id, From: "small", Payload: []byte("ok")}))
	select {
	case r := <-resp.ResponseCh():
		if r.From != "small" {
			t.Fatalf("got response from %s first", r.From)
		}
	case <-time.After(testWait):
		t.Fatal("no response")
	}

	inner := encodeMsg(t, s, messageQueryResponseType, &messageQueryResponse{LTime: 1, ID: 1, From: "x", Payload: make([]byte, 1100)})
	local := s.memberlist.LocalNode()
	relay, err := s.codec.encodeRelay(&net.UDPAddr{IP: local.Addr, Port: int(local.Port)}, "me", inner)
	if err != nil {
		t.Fatal(err)
	}
	d.NotifyMsg(relay)
	if logs.Contains("Relaying response to addr") {
		t.Fatal("oversized relay forwarded")
	}
	if n := countLines(logs, "over the limit of 1024 bytes"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs)
	}
}

// A query from the network keeps its relay factor and timeout only up to
// the caps; the bytes gossiped on are those that arrived.
func TestRemoteQueryRelayFactorAndTimeoutAreCapped(t *testing.T) {
	s, events, _ := limitSerf(t)
	raw := encodeMsg(t, s, messageQueryType, &messageQuery{LTime: 1, ID: 1, Name: "q", RelayFactor: 255, Timeout: 24 * time.Hour})
	start := time.Now()
	(&delegate{serf: s}).NotifyMsg(raw)
	e := recvEvent(t, events)
	q, ok := e.(*Query)
	if !ok {
		t.Fatalf("got %v", e)
	}
	if q.relayFactor != maxRelayFactor {
		t.Fatalf("relay factor %d, want the cap %d", q.relayFactor, maxRelayFactor)
	}
	if limit := s.maxRemoteQueryTimeout(); q.Deadline().After(time.Now().Add(limit)) || q.Deadline().Before(start.Add(limit)) {
		t.Fatalf("deadline in %v, want the cap %v", time.Until(q.Deadline()), limit)
	}
	if s.maxRemoteQueryTimeout() != minQueryTimeoutCap {
		t.Fatalf("cap %v for a lone node, want %v", s.maxRemoteQueryTimeout(), minQueryTimeoutCap)
	}
}

// Distinct user events at one Lamport time are kept (and delivered) only
// up to maxEventsPerLTime; the rest are dropped with one warning.
func TestUserEventsPerLTimeAreCapped(t *testing.T) {
	s, events, logs := limitSerf(t)
	d := &delegate{serf: s}
	for i := range maxEventsPerLTime + 10 {
		d.NotifyMsg(encodeMsg(t, s, messageUserEventType, &messageUserEvent{LTime: 7, Name: fmt.Sprint("e", i)}))
	}
	d.NotifyMsg(encodeMsg(t, s, messageUserEventType, &messageUserEvent{LTime: 8, Name: "marker"}))
	if n := len(eventsUntil(t, events, "user-event: marker")); n != maxEventsPerLTime {
		t.Fatalf("%d events at one time delivered, want %d", n, maxEventsPerLTime)
	}
	if n := s.eventBroadcasts.NumQueued(); n != maxEventsPerLTime+1 {
		t.Fatalf("%d events queued for gossip, want %d", n, maxEventsPerLTime+1)
	}
	if n := countLines(logs, "[WARN] serf: Too many user events at time 7"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs)
	}
}

// However the event ring is filled, the Events of our push/pull stay
// within maxEventBufferBytes (plus the framing of the slots).
func TestPushPullEventsAreBounded(t *testing.T) {
	r := newEventRing(512)
	refused := 0
	for lt := range LamportTime(512) {
		for i := range 20 {
			if r.admit(lt, 511, userEventEntry{Name: fmt.Sprint("event-", i), Payload: make([]byte, 480)}) == ringFull {
				refused++
			}
		}
	}
	if refused == 0 {
		t.Fatal("nothing refused: the test does not reach the bound")
	}
	buf, err := newWireCodec(false).encodeMessage(messagePushPullType, &messagePushPull{Events: r.slots})
	if err != nil {
		t.Fatal(err)
	}
	if limit := maxEventBufferBytes + 512*32; len(buf) > limit {
		t.Fatalf("push/pull state of %d bytes, want at most %d", len(buf), limit)
	}
}

func (b *syncBuffer) Contains(s string) bool { return strings.Contains(b.String(), s) }
