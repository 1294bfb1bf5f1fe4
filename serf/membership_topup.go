package serf

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The membership top-up (see "Membership gossip is sent less often, but
// not in small clusters" in doc.go).
//
// Each member gossips each membership message it learns (memberlist's
// alive, suspect and dead messages, Serf's join intents) RetransmitMult ×
// ceil(log10(N+1)) times: 4 in a cluster of 5, 12 at 256. memberlist
// gossips while its queue holds anything, so in a join storm of 256
// agents those transmissions are the storm's packets, and halving them
// (MembershipRetransmitMult 2) cut the packets to about a third and the
// time the storm took to converge from a median of 24 s to 18 s. But a
// small cluster has few transmissions to spare: at 2 instead of 4 each,
// 5 members on a network losing 30 % of packets declared live members
// failed.
//
// memberlist takes its count once, when it is created, for every
// cluster size. So it gets the lower count, and while the cluster is
// smaller than FullRetransmitBelow Serf's transport makes up the rest:
// the first time a packet memberlist sends carries a membership message,
// the transport also sends that message, alone, to as many other random
// live members as memberlist's own count would have sent it more, so
// that each member still sends it RetransmitMult × ceil(log10(N+1))
// times. A peer receives it as gossip like any other.
type membershipTopUp struct {
	// extraMult is RetransmitMult − MembershipRetransmitMult: the
	// transmissions per log10 of the cluster added.
	extraMult int
	// below is the cluster size from which nothing is added.
	below int
	// numNodes is how many members Serf knows.
	numNodes func() int
	// others gives the UDP addresses of the other members Serf holds as
	// alive or leaving.
	others func() []*net.UDPAddr
	// pending holds the copies to send, for the transport's loop; when it
	// is full, a message gets only memberlist's transmissions.
	pending chan topUp

	mu   sync.Mutex
	sent *recentHashes // the messages topped up

	copies atomic.Uint64 // copies sent, for tests
}

// topUp is one membership message to send alone to copies random
// members other than skip, the member the packet that carried it went to.
type topUp struct {
	packet []byte
	copies int
	skip   *net.UDPAddr
}

// topUpWindow is how long a topped-up message is remembered at least; in
// a small cluster memberlist sends all its transmissions of a message
// within a few gossip rounds.
const topUpWindow = 30 * time.Second

// maxToppedUp bounds the messages remembered in one window.
const maxToppedUp = 4096

// membershipTopUpFor is the top-up conf asks for, nil for none: none
// where FullRetransmitBelow is 0 or memberlist's own count is no lower
// than RetransmitMult.
func (s *Serf) membershipTopUpFor(conf *Config) *membershipTopUp {
	extra := conf.MemberlistConfig.RetransmitMult - conf.membershipRetransmitMult(true)
	if conf.FullRetransmitBelow <= 0 || extra <= 0 {
		return nil
	}
	return newMembershipTopUp(extra, conf.FullRetransmitBelow, s.NumNodes, s.othersUDPAddrs)
}

func newMembershipTopUp(extraMult, below int, numNodes func() int, others func() []*net.UDPAddr) *membershipTopUp {
	return &membershipTopUp{
		extraMult: extraMult,
		below:     below,
		numNodes:  numNodes,
		others:    others,
		pending:   make(chan topUp, 256),
		sent:      newRecentHashes(topUpWindow, maxToppedUp),
	}
}

// scan queues a top-up for each membership message in the packet p, which
// memberlist is sending to to, that it has not topped up yet, while the
// cluster is small. It never blocks and never changes p. Called
// concurrently, from every goroutine of memberlist that sends.
func (u *membershipTopUp) scan(p []byte, to *net.UDPAddr) {
	n := u.numNodes()
	if n >= u.below {
		return
	}
	copies := u.extraMult * clusterScale(n)
	now := time.Now()
	eachSentMessage(p, func(label []byte, withCRC bool, msg []byte) {
		if !membershipMessage(msg) || u.toppedUp(label, msg, now) {
			return
		}
		select {
		case u.pending <- topUp{packet: packetAlone(label, withCRC, msg), copies: copies, skip: to}:
		default:
		}
	})
}

// toppedUp reports whether msg behind label was topped up within the
// window, and remembers it when it was not.
func (u *membershipTopUp) toppedUp(label, msg []byte, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.sent.rotate(now)
	return u.sent.seenBefore(label, msg)
}

// recipients picks up to c.copies of the other live members, at random,
// leaving out c.skip.
func (u *membershipTopUp) recipients(c topUp) []*net.UDPAddr {
	all := u.others()
	candidates := all[:0]
	for _, a := range all {
		if c.skip == nil || !a.IP.Equal(c.skip.IP) || a.Port != c.skip.Port {
			candidates = append(candidates, a)
		}
	}
	rand.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	return candidates[:min(c.copies, len(candidates))]
}

// membershipMessage reports whether msg (type byte first) is membership
// gossip: memberlist's alive, suspect or dead message, or Serf's join
// intent in a memberlist user message.
func membershipMessage(msg []byte) bool {
	switch msg[0] {
	case mlAliveMsg, mlSuspectMsg, mlDeadMsg:
		return true
	case mlUserMsg:
		return len(msg) > 1 && messageType(msg[1]) == messageJoinType
	}
	return false
}
