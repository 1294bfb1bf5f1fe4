package serf

// dedupRing is how Serf recognises a user event or a query it has already
// seen. Both carry a Lamport time; the ring keeps one slot per time for the
// last len(slots) times (slot i holds time t with t mod len = i) and lists
// in it the distinct items seen at that time. A slot is reused once its
// time falls a whole ring behind. Items older than minTime, or older than
// the ring reaches back, are refused without being remembered; so are new
// items beyond the ring's bounds, if it has any (limit).
//
// The ring does no locking: its owner (eventRing, queryState) holds its
// own lock around every call.
type dedupRing[E any] struct {
	slots   []*dedupSlot[E]
	same    func(a, b E) bool
	minTime LamportTime

	// Optional bounds (see limit): at most perSlot items per time, and at
	// most maxBytes in all as measured by size. Zero means unbounded.
	perSlot  int
	maxBytes int
	size     func(E) int
	bytes    int // held now, by size
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
	slotFull                     // new, but perSlot items are held at its time
	ringFull                     // new, but it would take the ring past maxBytes
)

func newDedupRing[E any](size int, same func(a, b E) bool) dedupRing[E] {
	return dedupRing[E]{slots: make([]*dedupSlot[E], size), same: same}
}

// limit bounds the ring: perSlot items per time (0: unbounded) and
// maxBytes in all, each item counting size(item) (maxBytes 0 or size nil:
// unbounded). New items beyond either bound are refused, not remembered.
func (r *dedupRing[E]) limit(perSlot, maxBytes int, size func(E) int) {
	r.perSlot, r.maxBytes, r.size = perSlot, maxBytes, size
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
		if slot != nil && r.size != nil {
			for _, old := range slot.Events {
				r.bytes -= r.size(old)
			}
		}
		slot = &dedupSlot[E]{LTime: t}
		r.slots[t%size] = slot
	} else {
		for _, seen := range slot.Events {
			if r.same(seen, e) {
				return duplicate
			}
		}
	}
	if r.perSlot > 0 && len(slot.Events) >= r.perSlot {
		return slotFull
	}
	n := 0
	if r.size != nil {
		n = r.size(e)
		if r.maxBytes > 0 && r.bytes+n > r.maxBytes {
			return ringFull
		}
	}
	slot.Events = append(slot.Events, e)
	r.bytes += n
	return admitted
}

// raiseMinTime makes everything stamped before t count as already seen.
func (r *dedupRing[E]) raiseMinTime(t LamportTime) {
	if t > r.minTime {
		r.minTime = t
	}
}
