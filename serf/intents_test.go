package serf

import (
	"fmt"
	"io"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// loneSerf is a Serf made by Create with no peers, for driving its state
// machine directly: its memberlist runs on memberlist's own mock network,
// where nobody else ever joins. The event of its own join is consumed;
// later events land in the returned channel.
func loneSerf(t *testing.T, name string, tweak func(*Config)) (*Serf, chan Event) {
	t.Helper()
	conf := DefaultConfig()
	conf.NodeName = name
	conf.Logger = log.New(io.Discard, "", 0)
	conf.MemberlistConfig = memberlist.DefaultLocalConfig()
	conf.MemberlistConfig.Transport = (&memberlist.MockNetwork{}).NewTransport(name)
	conf.MemberlistConfig.Logger = log.New(io.Discard, "", 0)
	events := make(chan Event, 64)
	conf.EventCh = events
	if tweak != nil {
		tweak(conf)
	}
	s, err := Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	if e := recvEvent(t, events); e.String() != "member-join" {
		t.Fatalf("first event %v", e)
	}
	return s, events
}

func addMember(s *Serf, name string, st MemberStatus, lt LamportTime) *memberState {
	s.memberLock.Lock()
	defer s.memberLock.Unlock()
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

func TestIntentsForUnknownNodesAreBuffered(t *testing.T) {
	s, _ := loneSerf(t, "me", nil)
	if !s.handleJoinIntent(&messageJoin{LTime: 5, Node: "x"}) {
		t.Fatal("first intent not news")
	}
	if s.handleJoinIntent(&messageJoin{LTime: 5, Node: "x"}) || s.handleJoinIntent(&messageJoin{LTime: 3, Node: "x"}) {
		t.Fatal("stale intent rebroadcast")
	}
	if !s.handleLeaveIntent(&messageLeave{LTime: 7, Node: "x"}) {
		t.Fatal("newer leave not news")
	}
	if it, _ := s.recentIntents.get("x"); it.Type != messageLeaveType || it.LTime != 7 {
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
	if n := s.recentIntents.len(); n != 0 {
		t.Fatalf("%d intents not expired", n)
	}
}

func TestJoinIntentRules(t *testing.T) {
	s, _ := loneSerf(t, "me", nil)
	m := addMember(s, "a", StatusLeaving, 10)
	if s.handleJoinIntent(&messageJoin{LTime: 10, Node: "a"}) {
		t.Fatal("join at equal LTime accepted")
	}
	if !s.handleJoinIntent(&messageJoin{LTime: 11, Node: "a"}) || m.Status != StatusAlive || m.statusLTime != 11 {
		t.Fatalf("newer join: %+v", m)
	}
}

func TestLeaveIntentTransitions(t *testing.T) {
	s, events := loneSerf(t, "me", nil)
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
	if me := e.(MemberEvent); me.Type != EventMemberLeave || me.Members[0].Name != "failed" {
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
	s, events := loneSerf(t, "me", nil)
	addMember(s, "f", StatusFailed, 1)
	if !s.handleLeaveIntent(&messageLeave{LTime: 2, Node: "f", Prune: true}) {
		t.Fatal("not rebroadcast")
	}
	if _, ok := s.members["f"]; ok {
		t.Fatal("not erased")
	}
	if e := (<-events).(MemberEvent); e.Type != EventMemberLeave {
		t.Fatalf("first event %v", e.Type)
	}
	if e := (<-events).(MemberEvent); e.Type != EventMemberReap {
		t.Fatalf("second event %v", e.Type)
	}
}

func TestOldLeaveIntentAboutUsIsRefuted(t *testing.T) {
	s, _ := loneSerf(t, "me", nil)
	me := addMember(s, "me", StatusAlive, 3)
	queued := s.joinBroadcasts.NumQueued() // our own join, never sent
	if s.handleLeaveIntent(&messageLeave{LTime: 4, Node: "me"}) {
		t.Fatal("leave about us rebroadcast")
	}
	if me.Status != StatusAlive {
		t.Fatalf("we became %v", me.Status)
	}
	// The refutation is broadcast in the background, which Shutdown
	// waits for.
	_ = s.Shutdown()
	if n := s.joinBroadcasts.NumQueued(); n != queued+1 {
		t.Fatalf("%d intents queued, want %d: no refuting join intent", n, queued+1)
	}
	if me.statusLTime <= 4 {
		t.Fatalf("refutation did not move our LTime past the leave: %d", me.statusLTime)
	}
}

func TestUserEventDedupAndAge(t *testing.T) {
	s, events := loneSerf(t, "me", nil)
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
	// The pipeline keeps order, so a wrongly accepted event would show
	// among the first four.
	var got []string
	for i := 0; i < 4; i++ {
		e := recvEvent(t, events).(UserEvent)
		got = append(got, e.Name+"="+string(e.Payload))
	}
	if want := "a=x a=y b=x c="; strings.Join(got, " ") != want {
		t.Fatalf("events delivered %q, want %q", got, want)
	}
}

func TestQueryDedup(t *testing.T) {
	s, events := loneSerf(t, "me", nil)
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
	// In order, so a duplicate of 77 would come second.
	for _, id := range []uint32{77, 78} {
		if q := recvEvent(t, events).(*Query); q.id != id {
			t.Fatalf("query %d delivered, want %d", q.id, id)
		}
	}
}

func TestQueueDepthWarningAndPruning(t *testing.T) {
	// Only serf logs here (memberlist's logger is another), and Shutdown
	// stops everything of serf's, so logs is read safely after it.
	var logs strings.Builder
	s, _ := loneSerf(t, "me", func(c *Config) {
		c.Logger = log.New(&logs, "", 0)
		c.QueueDepthWarning = 2
		c.MaxQueueDepth = 3
	})
	// The intent queue is the leave and the join queues together; pruning
	// keeps leaves first.
	depth := s.joinBroadcasts.NumQueued() + 5 + 2 // our own join is queued
	for i := 0; i < 5; i++ {
		s.joinBroadcasts.QueueBroadcast(&broadcast{msg: []byte{byte(i)}})
	}
	for i := 0; i < 2; i++ {
		s.leaveBroadcasts.QueueBroadcast(&broadcast{msg: []byte{byte(10 + i)}})
	}
	s.checkQueue("Intent", s.leaveBroadcasts, s.joinBroadcasts)
	if leaves, joins := s.leaveBroadcasts.NumQueued(), s.joinBroadcasts.NumQueued(); leaves != 2 || joins != 1 {
		t.Fatalf("%d leaves and %d joins queued after pruning to 3, want 2 and 1", leaves, joins)
	}
	// With MinQueueDepth the limit follows the cluster size.
	s.config.MinQueueDepth = 10
	if got := s.maxQueueDepth(); got != 10 {
		t.Fatalf("limit %d", got)
	}
	_ = s.Shutdown()
	if !strings.Contains(logs.String(), fmt.Sprintf("[WARN] serf: Intent queue depth: %d", depth)) ||
		!strings.Contains(logs.String(), fmt.Sprintf("[WARN] serf: Intent queue depth (%d) exceeds limit (3), dropping messages!", depth)) {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

// Names a push/pull mentions that we do not know each leave an intent
// behind; the table of them stays bounded however many names arrive, the
// newest are kept, implausible names are ignored, and overflowing it warns
// once, not once per name.
func TestRecentIntentsAreBounded(t *testing.T) {
	logs := new(syncBuffer)
	s, _ := loneSerf(t, "me", func(c *Config) { c.Logger = log.New(logs, "", 0) })
	pp := messagePushPull{LTime: 1, StatusLTimes: map[string]LamportTime{}}
	for i := range maxRecentIntents + 500 {
		pp.StatusLTimes[fmt.Sprintf("ghost-%06d", i)] = LamportTime(i + 1)
	}
	pp.StatusLTimes[""] = 3
	pp.StatusLTimes[strings.Repeat("x", maxIntentNameLen+1)] = 3
	pp.StatusLTimes["bad\nname"] = 3
	pp.LeftMembers = []string{"nul\x00name"}
	buf, err := s.codec.encodeMessage(messagePushPullType, &pp)
	if err != nil {
		t.Fatal(err)
	}
	(&delegate{serf: s}).MergeRemoteState(buf, false)

	s.memberLock.RLock()
	n := s.recentIntents.len()
	_, hasEmpty := s.recentIntents.get("")
	_, hasLong := s.recentIntents.get(strings.Repeat("x", maxIntentNameLen+1))
	_, hasNL := s.recentIntents.get("bad\nname")
	_, hasNUL := s.recentIntents.get("nul\x00name")
	s.memberLock.RUnlock()
	if n != maxRecentIntents {
		t.Fatalf("%d intents kept, want the cap %d", n, maxRecentIntents)
	}
	if hasEmpty || hasLong || hasNL || hasNUL {
		t.Fatal("implausible node name kept as an intent")
	}
	if got := strings.Count(logs.String(), "[WARN] serf: Too many intents about unknown nodes"); got != 1 {
		t.Fatalf("%d overflow warnings, want 1:\n%.2000s", got, logs.String())
	}
}

// The table drops the oldest intent when full and expires in order.
func TestIntentTableEvictsOldest(t *testing.T) {
	var tab intentTable
	now := time.Now()
	for i := range 3 {
		evicted := tab.put(fmt.Sprint(i), nodeIntent{LTime: 1, WallTime: now.Add(time.Duration(i) * time.Second)}, 2)
		if evicted != (i == 2) {
			t.Fatalf("put %d: evicted %v", i, evicted)
		}
	}
	if tab.len() != 2 {
		t.Fatalf("len %d", tab.len())
	}
	if _, ok := tab.get("0"); ok {
		t.Fatal("oldest intent not evicted")
	}
	tab.expire(now.Add(2500*time.Millisecond), time.Second)
	if _, ok := tab.get("1"); ok || tab.len() != 1 {
		t.Fatal("expired intent kept")
	}
	tab.remove("2")
	if tab.len() != 0 {
		t.Fatal("remove failed")
	}
}

// A push/pull that reaches a peer between our leave intent and its gossip
// must not undo the leave: the leaving member is listed as left, so the
// peer marks it leaving, and memberlist's dead notice then means "left".
// Serf v0.10.2 sends it as a plain status time, the peer takes that for a
// join at the leave's time, ignores the leave gossip as old and reports the
// member failed.
func TestPushPullDuringLeaveKeepsTheLeave(t *testing.T) {
	leaving, _ := loneSerf(t, "leaving", nil)
	peer, _ := loneSerf(t, "peer", nil)
	addMember(peer, "leaving", StatusAlive, 1)

	// What Leave does before it gossips the intent.
	leaving.stateLock.Lock()
	leaving.state = SerfLeaving
	leaving.stateLock.Unlock()
	intent := messageLeave{LTime: leaving.clock.Time() + 5, Node: "leaving"}
	leaving.clock.Witness(intent.LTime)
	leaving.handleLeaveIntent(&intent)

	state := (&delegate{serf: leaving}).LocalState(false)
	(&delegate{serf: peer}).MergeRemoteState(state, false)
	peer.handleLeaveIntent(&intent) // the gossip, arriving after

	peer.memberLock.RLock()
	status := peer.members["leaving"].Status
	peer.memberLock.RUnlock()
	if status != StatusLeaving {
		t.Fatalf("peer has the leaving member %v, want leaving", status)
	}
}
