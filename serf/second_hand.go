package serf

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Second-hand news kept quiet (see "A member that joins alone does not
// gossip what it was told" in doc.go).
//
// memberlist gossips on every alive message that tells it something new,
// whether it came by gossip or in a push/pull's state: a node that joins
// a cluster of N merges N members it had never heard of and queues an
// alive message for each, every one retransmitted
// MembershipRetransmitMult × ceil(log10(N+1)) times. When it joined
// alone, that is news to nobody: every member it could tell is in the
// cluster the state came from.
//
// So when a push/pull this node started brings state while it holds no
// other member alive, Serf marks the alive members of that state it did
// not know (markSecondHand), and the transport then leaves out of what
// memberlist sends the alive message memberlist queued for each of them
// (filter). The first alive message about a marked member fixes which
// bytes are dropped, so a later one (a new incarnation, a refutation)
// goes out as usual. memberlist still counts the transmissions it was not
// allowed, so its queue empties no sooner than before; what goes on the
// wire is less. Only a push/pull this node started counts: a seed alone
// that several nodes join at once must still tell each of them of the
// others.
type secondHand struct {
	codec *wireCodec

	mu     sync.Mutex
	marked map[string]time.Time // members whose next alive message is second-hand, and when they were marked
	quiet  *recentHashes        // the alive messages being dropped
	parts  [][]byte             // scratch for one compound message's parts

	dropped atomic.Uint64 // messages dropped, for tests
}

// secondHandWindow is how long a member stays marked, and how long its
// alive message is dropped at least: memberlist sends all the
// transmissions of a queued message within that, even in a storm.
const secondHandWindow = 30 * time.Second

// maxSecondHand bounds the members marked and the messages dropped in one
// window; at the bound the oldest are forgotten, and their messages go
// out as memberlist queued them.
const maxSecondHand = 1 << 16

func newSecondHand(wc *wireCodec) *secondHand {
	return &secondHand{
		codec:  wc,
		marked: make(map[string]time.Time),
		quiet:  newRecentHashes(secondHandWindow, maxSecondHand),
	}
}

// mark records that the alive members named are about to be merged from
// a join's state by a node that holds no other member alive.
func (h *secondHand) mark(names []string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, at := range h.marked {
		if now.Sub(at) >= secondHandWindow {
			delete(h.marked, name)
		}
	}
	for _, name := range names {
		if len(h.marked) >= maxSecondHand {
			return
		}
		h.marked[name] = now
	}
}

// memberlistJoin is memberlist.Join, for every push/pull this node starts,
// counted so that a merge can tell the state came from a peer this node
// asked, not from a node that joined it.
func (s *Serf) memberlistJoin(addrs []string) (int, error) {
	s.joinsInFlight.Add(1)
	defer s.joinsInFlight.Add(-1)
	return s.memberlist.Join(addrs)
}

// markSecondHand marks for the transport the members of the state a
// push/pull this node started is about to merge that memberlist will
// gossip as new: those alive in it and unknown to this node, when this
// node holds no other member alive. A member it knows, as failed or left,
// is left unmarked: memberlist may not take its state as news, and then
// the mark would catch a later alive message that is.
func (s *Serf) markSecondHand(nodes []*memberlist.Node) {
	if s.secondHand == nil || s.joinsInFlight.Load() == 0 || s.anyoneElseAlive() {
		return
	}
	news := make([]string, 0, len(nodes))
	s.memberLock.RLock()
	for _, n := range nodes {
		if _, known := s.members[n.Name]; !known && n.State == memberlist.StateAlive {
			news = append(news, n.Name)
		}
	}
	s.memberLock.RUnlock()
	s.secondHand.mark(news, time.Now())
}

// aliveName is the part of memberlist's alive message filter needs.
type aliveName struct {
	Node string
}

// filter returns what of the packet p, which memberlist is sending, is to
// go out: p as it is, p without the second-hand alive messages it
// carries, or nil when nothing is left. Called concurrently, from every
// goroutine of memberlist that sends; a packet it cannot read goes out as
// it is.
func (h *secondHand) filter(p []byte, now time.Time) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.marked) == 0 && h.quiet.empty() {
		return p
	}
	h.quiet.rotate(now)
	out, dropped := withoutMessages(p, &h.parts, true, func(label, msg []byte) bool {
		return msg[0] == mlAliveMsg && h.secondHandAlive(label, msg)
	})
	h.dropped.Add(uint64(dropped))
	return out
}

// secondHandAlive reports whether the alive message msg (type byte first)
// behind label is one to drop: the first one about a marked member, which
// fixes it, or one fixed before. h.mu is held.
func (h *secondHand) secondHandAlive(label, msg []byte) bool {
	if h.quiet.seen(label, msg) {
		return true
	}
	if len(h.marked) == 0 {
		return false
	}
	var a aliveName
	if err := h.codec.decode(msg[1:], &a); err != nil {
		return false
	}
	if _, ok := h.marked[a.Node]; !ok {
		return false
	}
	delete(h.marked, a.Node)
	h.quiet.seenBefore(label, msg)
	return true
}
