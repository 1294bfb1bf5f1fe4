package serf

import (
	"testing"
)

func userEv(name string, ltime LamportTime, payload string) UserEvent {
	return UserEvent{LTime: ltime, Name: name, Payload: []byte(payload), Coalesce: true}
}

func TestUserCoalescerHandles(t *testing.T) {
	c := newUserEventCoalescer()
	if !c.handles(userEv("a", 1, "")) {
		t.Error("coalescable user event not handled")
	}
	ptr := userEv("a", 1, "")
	if c.handles(&ptr) {
		t.Error("pointer to a user event handled (Serf delivers them by value only)")
	}
	if c.handles(UserEvent{Name: "a", LTime: 1}) {
		t.Error("user event with Coalesce=false handled")
	}
	if c.handles(joinOf("a")) {
		t.Error("member event handled")
	}
	if c.handles((*UserEvent)(nil)) {
		t.Error("nil user event handled")
	}
}

func TestUserCoalescerKeepsHighestLTimePerName(t *testing.T) {
	c := newUserEventCoalescer()
	got := flushed(c,
		userEv("deploy", 1, "v1"),
		userEv("restart", 7, "web"),
		userEv("deploy", 3, "v3a"),
		userEv("deploy", 2, "v2"), // older than 3: superseded
		userEv("deploy", 3, "v3b"),
		userEv("restart", 5, "db"), // older than 7: superseded
	)
	var desc []string
	for _, e := range got {
		u := e.(UserEvent)
		desc = append(desc, u.Name+"@"+string(rune('0'+u.LTime))+":"+string(u.Payload))
	}
	want := []string{"deploy@3:v3a", "deploy@3:v3b", "restart@7:web"}
	if !sameStrings(desc, want) {
		t.Fatalf("flushed %v, want %v", desc, want)
	}
	if more := c.flush(); len(more) != 0 {
		t.Fatalf("second flush without input returned %v", more)
	}
	// Batches are independent: an older time after a flush is delivered.
	if got := flushed(c, userEv("deploy", 1, "late")); len(got) != 1 {
		t.Fatalf("late event in a new batch: got %v", got)
	}
}
