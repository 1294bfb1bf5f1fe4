package serf

import (
	"sync/atomic"
	"time"
)

// Copies of gossip dropped on arrival (see "Copies of gossip cost nothing"
// in doc.go).
//
// Gossip reaches every member about as many times as it is retransmitted
// (RetransmitMult·ceil(log10(N+1)): 12 copies of each message at 256
// members), and memberlist decodes every copy it receives, by reflection,
// and takes its node lock for it, only to find it knows it already. In a
// join storm of 256 agents on two cores that was an eighth of the
// machine. Worse, memberlist hands received gossip to one goroutine in
// two queues, alive messages always first: while copies of alive
// messages keep coming, a suspicion of this node waits in the other
// queue, so this node refuted seconds late (5–20 s after the suspicion
// reached its socket, against a suspicion timeout of 10 s at that size)
// and live members were declared failed by the thousand.
//
// So Serf's transport drops a received gossip message (alive, suspect,
// dead, or one of Serf's own user messages) whose bytes equal one it
// handed memberlist within the last gossipCopyWindow. Nothing that would
// have happened is lost: the same bytes say the same thing, memberlist
// acts on an alive, suspect or dead message only when it tells more than
// memberlist knows, which after the first copy it does not (a suspicion
// confirmed by another accuser names that accuser, so it is other
// bytes), and Serf ignores a join or leave intent, user event or query it
// has seen. Two things could make the first copy not count, and both are
// covered. memberlist drops received gossip when its queue is full; it
// logs that, and Serf then forgets every message (forget), so the next
// copies go through. And memberlist forgets a dead member
// GossipToTheDeadTime after its death, after which a copy is news to it
// again; a message is remembered for at most two windows, at most half
// that time, so such a copy reaches memberlist as it always did.
type gossipCopies struct {
	handedOn  *recentHashes // the messages handed memberlist
	forgetAll atomic.Bool   // set by forget; taken by the next filter
	parts     [][]byte      // scratch for one compound message's parts
	dropped   atomic.Uint64 // messages dropped, for tests
}

// gossipCopyWindow is how long a handed-on message is remembered at least:
// in a storm the copies of one message arrive over several seconds, as
// members work through their retransmission queues.
const gossipCopyWindow = 5 * time.Second

// maxGossipCopies bounds the messages remembered in one window; at the
// bound the window is cut short (and copies pass again sooner).
const maxGossipCopies = 1 << 16

// newGossipCopies remembers messages for a window of gossipCopyWindow, cut
// to a quarter of deadTime (memberlist's GossipToTheDeadTime) where that
// is shorter.
func newGossipCopies(deadTime time.Duration) *gossipCopies {
	window := gossipCopyWindow
	if deadTime > 0 && deadTime/4 < window {
		window = deadTime / 4
	}
	return &gossipCopies{handedOn: newRecentHashes(window, maxGossipCopies)}
}

// forget makes every message count as new again. It is safe to call from
// any goroutine; filter applies it to the next packet.
func (c *gossipCopies) forget() { c.forgetAll.Store(true) }

// gossipMessage reports whether t is a message type memberlist passes to
// its gossip handler (mlSuspectMsg, mlAliveMsg, mlDeadMsg, mlUserMsg), the
// only ones filter drops copies of.
func gossipMessage(t byte) bool {
	switch t {
	case mlSuspectMsg, mlAliveMsg, mlDeadMsg, mlUserMsg:
		return true
	}
	return false
}

// filter returns what memberlist is to be handed of the packet p,
// received at now: p as it came, p without its gossip messages memberlist
// has already been handed, or nil when nothing is left. It is called by
// the transport's one reading goroutine. A packet it cannot read (a
// truncated header, a CRC that does not match, a compound message whose
// parts run past its end) goes to memberlist as it came, to be rejected
// and logged there.
func (c *gossipCopies) filter(p []byte, now time.Time) []byte {
	if c.forgetAll.Swap(false) {
		c.handedOn.forgetAll()
	}
	c.handedOn.rotate(now)
	out, dropped := withoutMessages(p, &c.parts, false, func(label, msg []byte) bool {
		return gossipMessage(msg[0]) && c.handedOn.seenBefore(label, msg)
	})
	c.dropped.Add(uint64(dropped))
	return out
}
