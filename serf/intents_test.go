package serf

import (
	"io"
	"log"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf/serftest"
)

// bareSerf is a Serf with no memberlist underneath, for exercising the
// state machine directly. Its events land in the returned channel.
func bareSerf(t *testing.T, name string) (*Serf, chan Event) {
	t.Helper()
	conf := DefaultConfig()
	conf.NodeName = name
	events := make(chan Event, 64)
	s := &Serf{
		config:        conf,
		logger:        log.New(io.Discard, "", 0),
		codec:         newWireCodec(),
		members:       map[string]*memberState{},
		failed:        map[string]*memberState{},
		left:          map[string]*memberState{},
		recentIntents: map[string]nodeIntent{},
		events:        newEventRing(conf.EventBuffer),
		queries:       newQueryState(conf.QueryBuffer),
		shutdownCh:    make(chan struct{}),
		eventCh:       events,
	}
	numNodes := func() int { return 1 }
	s.intentBroadcasts = &memberlist.TransmitLimitedQueue{NumNodes: numNodes, RetransmitMult: 4}
	s.eventBroadcasts = &memberlist.TransmitLimitedQueue{NumNodes: numNodes, RetransmitMult: 4}
	s.queryBroadcasts = &memberlist.TransmitLimitedQueue{NumNodes: numNodes, RetransmitMult: 4}
	t.Cleanup(func() {
		close(s.shutdownCh)
		s.wg.Wait()
	})
	return s, events
}

func addMember(s *Serf, name string, st MemberStatus, lt LamportTime) *memberState {
	m := &memberState{Member: Member{Name: name, Status: st}, statusLTime: lt}
	s.members[name] = m
	switch st {
	case StatusFailed:
		s.failed[name] = m
	case StatusLeft:
		s.left[name] = m
	}
	return m
}

func TestLamportClockRules(t *testing.T) {
	var c LamportClock
	if c.Time() != 0 || c.Increment() != 1 {
		t.Fatal("fresh clock")
	}
	c.Witness(0) // older: no change
	if c.Time() != 1 {
		t.Fatalf("witness older moved clock to %d", c.Time())
	}
	c.Witness(1) // equal: advances past it
	if c.Time() != 2 {
		t.Fatalf("witness equal gave %d", c.Time())
	}
	c.Witness(41)
	if c.Time() != 42 {
		t.Fatalf("witness newer gave %d", c.Time())
	}
}

func TestIntentsForUnknownNodesAreBuffered(t *testing.T) {
	s, _ := bareSerf(t, "me")
	if !s.handleJoinIntent(&messageJoin{LTime: 5, Node: "x"}) {
		t.Fatal("first intent not news")
	}
	if s.handleJoinIntent(&messageJoin{LTime: 5, Node: "x"}) || s.handleJoinIntent(&messageJoin{LTime: 3, Node: "x"}) {
		t.Fatal("stale intent rebroadcast")
	}
	if !s.handleLeaveIntent(&messageLeave{LTime: 7, Node: "x"}) {
		t.Fatal("newer leave not news")
	}
	if it := s.recentIntents["x"]; it.Type != messageLeaveType || it.LTime != 7 {
		t.Fatalf("intent %+v", it)
	}
	if s.clock.Time() != 8 {
		t.Fatalf("clock %d after witnessing 7", s.clock.Time())
	}

	// memberlist now reports the node: it starts out leaving, at LTime 7.
	s.nodeJoined(&memberlist.Node{Name: "x", Addr: []byte{127, 0, 0, 1}, Port: 1})
	m := s.members["x"]
	if m.Status != StatusLeaving || m.statusLTime != 7 {
		t.Fatalf("member %+v", m)
	}

	s.expireIntents(time.Now().Add(time.Hour))
	s.handleJoinIntent(&messageJoin{LTime: 1, Node: "y"})
	s.expireIntents(time.Now().Add(time.Hour))
	if len(s.recentIntents) != 0 {
		t.Fatalf("intents not expired: %v", s.recentIntents)
	}
}

func TestJoinIntentRules(t *testing.T) {
	s, _ := bareSerf(t, "me")
	m := addMember(s, "a", StatusLeaving, 10)
	if s.handleJoinIntent(&messageJoin{LTime: 10, Node: "a"}) {
		t.Fatal("join at equal LTime accepted")
	}
	if !s.handleJoinIntent(&messageJoin{LTime: 11, Node: "a"}) || m.Status != StatusAlive || m.statusLTime != 11 {
		t.Fatalf("newer join: %+v", m)
	}
}

func TestLeaveIntentTransitions(t *testing.T) {
	s, events := bareSerf(t, "me")
	alive := addMember(s, "alive", StatusAlive, 1)
	failed := addMember(s, "failed", StatusFailed, 1)
	left := addMember(s, "left", StatusLeft, 1)

	if !s.handleLeaveIntent(&messageLeave{LTime: 2, Node: "alive"}) || alive.Status != StatusLeaving {
		t.Fatalf("alive -> %v", alive.Status)
	}
	if s.handleLeaveIntent(&messageLeave{LTime: 2, Node: "alive"}) {
		t.Fatal("repeated leave rebroadcast")
	}
	if !s.handleLeaveIntent(&messageLeave{LTime: 3, Node: "failed"}) || failed.Status != StatusLeft {
		t.Fatalf("failed -> %v", failed.Status)
	}
	if _, ok := s.left["failed"]; !ok || len(s.failed) != 0 {
		t.Fatal("failed member not moved to the left list")
	}
	e := <-events
	if me := e.(*MemberEvent); me.Type != EventMemberLeave || me.Members[0].Name != "failed" {
		t.Fatalf("event %+v", e)
	}
	if !s.handleLeaveIntent(&messageLeave{LTime: 4, Node: "left"}) || left.Status != StatusLeft || left.statusLTime != 4 {
		t.Fatalf("left: %+v", left)
	}
	addMember(s, "none", StatusNone, 1)
	if s.handleLeaveIntent(&messageLeave{LTime: 5, Node: "none"}) {
		t.Fatal("leave for status none rebroadcast")
	}
}

func TestLeaveIntentPruneErasesFailedMember(t *testing.T) {
	s, events := bareSerf(t, "me")
	addMember(s, "f", StatusFailed, 1)
	if !s.handleLeaveIntent(&messageLeave{LTime: 2, Node: "f", Prune: true}) {
		t.Fatal("not rebroadcast")
	}
	if _, ok := s.members["f"]; ok {
		t.Fatal("not erased")
	}
	if e := (<-events).(*MemberEvent); e.Type != EventMemberLeave {
		t.Fatalf("first event %v", e.Type)
	}
	if e := (<-events).(*MemberEvent); e.Type != EventMemberReap {
		t.Fatalf("second event %v", e.Type)
	}
}

func TestOldLeaveIntentAboutUsIsRefuted(t *testing.T) {
	s, _ := bareSerf(t, "me")
	me := addMember(s, "me", StatusAlive, 3)
	if s.handleLeaveIntent(&messageLeave{LTime: 4, Node: "me"}) {
		t.Fatal("leave about us rebroadcast")
	}
	if me.Status != StatusAlive {
		t.Fatalf("we became %v", me.Status)
	}
	waitUntil(t, time.Second, "refuting join intent", func() bool {
		return s.intentBroadcasts.NumQueued() == 1
	})
	if me.statusLTime <= 4 {
		t.Fatalf("refutation did not move our LTime past the leave: %d", me.statusLTime)
	}
}

func TestUserEventDedupAndAge(t *testing.T) {
	s, events := bareSerf(t, "me")
	ev := func(lt LamportTime, name, payload string) bool {
		return s.handleUserEvent(&messageUserEvent{LTime: lt, Name: name, Payload: []byte(payload)})
	}
	if !ev(1, "a", "x") || ev(1, "a", "x") {
		t.Fatal("duplicate not dropped")
	}
	if !ev(1, "a", "y") || !ev(1, "b", "x") {
		t.Fatal("distinct events at one LTime dropped")
	}
	if len(s.events.slots[1].Events) != 3 {
		t.Fatalf("slot %+v", s.events.slots[1])
	}
	if !ev(513, "c", "") || s.events.slots[1].LTime != 513 {
		t.Fatal("slot not reused a ring later")
	}
	if ev(1, "a", "z") {
		t.Fatal("event older than the ring accepted")
	}
	s.events.raiseMinTime(600)
	if ev(599, "d", "") {
		t.Fatal("event before eventMinTime accepted")
	}
	if n := len(events); n != 4 {
		t.Fatalf("%d events delivered, want 4", n)
	}
}

func TestQueryDedup(t *testing.T) {
	s, events := bareSerf(t, "me")
	q := &messageQuery{LTime: 3, ID: 77, Name: "q", Timeout: time.Second}
	if !s.handleQuery(q) || s.handleQuery(q) {
		t.Fatal("duplicate query not dropped")
	}
	q2 := *q
	q2.ID = 78
	q2.Flags = queryFlagNoBroadcast
	if s.handleQuery(&q2) {
		t.Fatal("NoBroadcast query rebroadcast")
	}
	if len(events) != 2 {
		t.Fatalf("%d queries delivered", len(events))
	}
}

func TestQueueDepthWarningAndPruning(t *testing.T) {
	s, _ := bareSerf(t, "me")
	logs := &serftest.SyncBuffer{}
	s.logger = log.New(logs, "", 0)
	s.config.QueueDepthWarning = 2
	s.config.MaxQueueDepth = 3
	for i := 0; i < 5; i++ {
		s.intentBroadcasts.QueueBroadcast(&broadcast{msg: []byte{byte(i)}})
	}
	s.checkQueue("Intent", s.intentBroadcasts)
	if !logs.Contains("[WARN] serf: Intent queue depth: 5") ||
		!logs.Contains("[WARN] serf: Intent queue depth (5) exceeds limit (3), dropping messages!") {
		t.Fatalf("logs:\n%s", logs)
	}
	if n := s.intentBroadcasts.NumQueued(); n != 3 {
		t.Fatalf("%d queued after pruning", n)
	}
	// With MinQueueDepth the limit follows the cluster size.
	s.config.MinQueueDepth = 10
	if got := s.maxQueueDepth(); got != 10 {
		t.Fatalf("limit %d", got)
	}
}
