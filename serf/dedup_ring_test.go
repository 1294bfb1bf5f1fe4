package serf

import "testing"

func TestDedupRing(t *testing.T) {
	r := newDedupRing(4, func(a, b string) bool { return a == b })
	steps := []struct {
		t, now LamportTime
		item   string
		want   admission
	}{
		{1, 1, "a", admitted},
		{1, 1, "b", admitted},  // another item at the same time
		{1, 2, "a", duplicate}, // same time, same item
		{2, 2, "a", admitted},  // same item, other time
		{5, 5, "c", admitted},  // takes over slot 1, a whole ring later
		{5, 5, "a", admitted},  // "a" at time 1 is forgotten with its slot
		{5, 6, "c", duplicate}, // the new slot remembers its own items
	}
	for i, s := range steps {
		if got := r.admit(s.t, s.now, s.item); got != s.want {
			t.Fatalf("step %d: admit(%d, %d, %q) = %d, want %d", i, s.t, s.now, s.item, got, s.want)
		}
	}
	if got := r.admit(0, 10, "old"); got != outOfWindow {
		t.Errorf("old item: %d, want outOfWindow", got)
	}
	r.raiseMinTime(8)
	r.raiseMinTime(3) // never lowers
	if got := r.admit(7, 8, "x"); got != beforeMin {
		t.Errorf("before min: %d, want beforeMin", got)
	}
	if got := r.admit(8, 8, "x"); got != admitted {
		t.Errorf("at min: %d, want admitted", got)
	}
	if s := r.slots[0]; s == nil || s.LTime != 8 || len(s.Events) != 1 || s.Events[0] != "x" {
		t.Errorf("slot 0 = %+v", s)
	}
}

// The ring remembers at most perSlot items per time and at most maxBytes
// in all; a slot taken over by a later time gives its bytes back.
func TestDedupRingLimits(t *testing.T) {
	r := newDedupRing(4, func(a, b string) bool { return a == b })
	r.limit(2, 9, func(s string) int { return len(s) })
	steps := []struct {
		t, now LamportTime
		item   string
		want   admission
		bytes  int // held afterwards
	}{
		{1, 1, "a", admitted, 1},
		{1, 1, "b", admitted, 2},
		{1, 1, "c", slotFull, 2},  // third item at one time
		{1, 1, "a", duplicate, 2}, // duplicates are still recognised
		{2, 2, "dddd", admitted, 6},
		{3, 3, "eeee", ringFull, 6}, // 10 bytes would be too many
		{3, 3, "eee", admitted, 9},
		{5, 5, "ff", admitted, 9},    // takes slot 1 over: "a" and "b" freed
		{6, 6, "ggggg", ringFull, 5}, // slot 2 taken over, still too big
		{6, 6, "gggg", admitted, 9},
	}
	for i, s := range steps {
		if got := r.admit(s.t, s.now, s.item); got != s.want || r.bytes != s.bytes {
			t.Fatalf("step %d: admit(%d, %d, %q) = %d holding %d bytes, want %d holding %d",
				i, s.t, s.now, s.item, got, r.bytes, s.want, s.bytes)
		}
	}
}
