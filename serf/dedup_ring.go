package serf

// dedupRing is how Serf recognises a user event or a query it has already
// seen. Both carry a Lamport time; the ring keeps one slot per time for the
// last len(slots) times (slot i holds time t with t mod len = i) and lists
// in it the distinct items seen at that time. A slot is reused once its
// time falls a whole ring behind. Items older than minTime, or older than
// the ring reaches back, are refused without being remembered.
//
// The ring does no locking: its owner (eventRing, queryState) holds its
// own lock around every call.
type dedupRing[E any] struct {
	slots   []*dedupSlot[E]
	same    func(a, b E) bool
	minTime LamportTime
}

// dedupSlot is the items seen at one Lamport time. For user events it is
// also a wire type: push/pull carries the slots verbatim, so the field
// names (the msgpack keys) are fixed by the protocol.
type dedupSlot[E any] struct {
	LTime  LamportTime
	Events []E
}

// admission is what dedupRing.admit decided.
type admission int

const (
	admitted    admission = iota // new: remembered now
	duplicate                    // seen before at the same time
	beforeMin                    // older than minTime
	outOfWindow                  // older than the ring reaches back
)

func newDedupRing[E any](size int, same func(a, b E) bool) dedupRing[E] {
	return dedupRing[E]{slots: make([]*dedupSlot[E], size), same: same}
}

// admit decides about item e stamped t when the clock reads now, and
// remembers it if it is new.
func (r *dedupRing[E]) admit(t, now LamportTime, e E) admission {
	if t < r.minTime {
		return beforeMin
	}
	size := LamportTime(len(r.slots))
	if now > size && t < now-size {
		return outOfWindow
	}
	slot := r.slots[t%size]
	if slot == nil || slot.LTime != t {
		slot = &dedupSlot[E]{LTime: t}
		r.slots[t%size] = slot
	} else {
		for _, seen := range slot.Events {
			if r.same(seen, e) {
				return duplicate
			}
		}
	}
	slot.Events = append(slot.Events, e)
	return admitted
}

// raiseMinTime makes everything stamped before t count as already seen.
func (r *dedupRing[E]) raiseMinTime(t LamportTime) {
	if t > r.minTime {
		r.minTime = t
	}
}
