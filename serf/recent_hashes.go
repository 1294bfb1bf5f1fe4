package serf

import (
	"hash/maphash"
	"time"
)

// recentHashes remembers the hashes of messages for one to two windows:
// recent holds those seen since rotatedAt, older those of the window
// before, so its memory is two maps' worth of a window. It is not safe
// for concurrent use.
type recentHashes struct {
	window    time.Duration
	limit     int // hashes in one window; at the limit the window is cut short
	seed      maphash.Seed
	recent    map[uint64]struct{}
	older     map[uint64]struct{}
	rotatedAt time.Time
}

func newRecentHashes(window time.Duration, limit int) *recentHashes {
	return &recentHashes{
		window: window,
		limit:  limit,
		seed:   maphash.MakeSeed(),
		recent: make(map[uint64]struct{}),
		older:  make(map[uint64]struct{}),
	}
}

// forgetAll forgets every hash.
func (r *recentHashes) forgetAll() {
	clear(r.recent)
	clear(r.older)
}

// rotate starts a new window when the current one is over at now, or
// full.
func (r *recentHashes) rotate(now time.Time) {
	if now.Sub(r.rotatedAt) >= r.window || len(r.recent) >= r.limit {
		r.recent, r.older = r.older, r.recent
		clear(r.recent)
		r.rotatedAt = now
	}
}

// seenBefore reports whether label followed by msg was seen within the
// window, and remembers it when it was not.
func (r *recentHashes) seenBefore(label, msg []byte) bool {
	h := r.hash(label, msg)
	if r.contains(h) {
		return true
	}
	r.recent[h] = struct{}{}
	return false
}

// seen reports whether label followed by msg was seen within the window,
// without remembering it.
func (r *recentHashes) seen(label, msg []byte) bool {
	return r.contains(r.hash(label, msg))
}

// empty reports whether nothing is remembered.
func (r *recentHashes) empty() bool { return len(r.recent) == 0 && len(r.older) == 0 }

func (r *recentHashes) hash(label, msg []byte) uint64 {
	var hash maphash.Hash
	hash.SetSeed(r.seed)
	_, _ = hash.Write(label)
	_, _ = hash.Write(msg)
	return hash.Sum64()
}

func (r *recentHashes) contains(h uint64) bool {
	_, inRecent := r.recent[h]
	_, inOlder := r.older[h]
	return inRecent || inOlder
}
