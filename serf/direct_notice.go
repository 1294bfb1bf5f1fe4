package serf

import (
	"net"
	"sync"
	"sync/atomic"
)

// Notices sent straight to those they concern: a suspicion to the
// accused (see "A suspicion reaches its accused at once" in doc.go), and
// this node's leave to every member (see "A leave reaches every member at
// once").
//
// When this node's probe of a member fails, memberlist marks the member
// suspect and gossips a suspect message; the member refutes it only when
// the message reaches it, and memberlist sends it there only by chance
// (the accused is one of GossipNodes random peers of each gossip round
// of each member that holds the message) or with its next probe of the
// accused, which comes after a probe of every other member. In storms of
// 256 agents on two cores the suspicion reached its accused within a
// second in fewer than half the cases and 5 s or later in a fifth, against
// a suspicion timeout of about 10 s: live members were declared failed
// for want of hearing that they were suspected.
//
// So the transport reads what memberlist sends, and the first time a
// packet carries a suspect message this node raised (From is this node)
// about another member at an incarnation it has not told that member of,
// it also sends that suspect message, as it is, in a packet of its own
// to the accused. memberlist does the same when it probes a suspect member
// (Lifeguard's "buddy system"); this only does it at once. A peer of any
// kind refutes it as it refutes a gossiped one, and others never receive
// it. One packet per suspicion this node raises.
//
// A graceful leave is memberlist's dead message about this node, from
// this node, which memberlist gossips like any other: the last members
// hear it after a few gossip rounds, or from anti-entropy. The first time
// a packet carries it, the transport also sends it, alone, to every other
// member Serf holds as alive or leaving: one packet each, once per leave.
type directNotices struct {
	self  string
	codec *wireCodec
	// pending holds notices to tell, for the transport's notice loop;
	// when it is full, a suspicion or leave is left to gossip.
	pending chan directNotice

	// addrOf gives the UDP address of a member by name, from Serf's
	// member table; nil turns the suspicion notices off.
	addrOf func(name string) (*net.UDPAddr, bool)
	// everyone gives the UDP addresses of the other members Serf holds as
	// alive or leaving; nil turns the leave notice off.
	everyone func() []*net.UDPAddr

	mu   sync.Mutex
	told map[string]uint32 // per accused (this node for its leave), 1 + the highest incarnation told

	sent atomic.Uint64 // notices sent, for tests
}

// directNotice is one message to send straight to those it concerns:
// a suspect message to the member it accuses, or this node's leave to
// everyone. packet is what goes out (label header, CRC header when the
// original had one, then the message).
type directNotice struct {
	accused  string // the member a suspicion accuses; this node for a leave
	everyone bool
	packet   []byte
}

// maxToldAccused bounds the accused remembered; at the bound the memory
// is cleared, and at worst a suspicion is told twice.
const maxToldAccused = 4096

// directNoticesFor is what conf asks to tell (TellAccused, TellLeave),
// nil for nothing.
func (s *Serf) directNoticesFor(conf *Config) *directNotices {
	if !conf.TellAccused && !conf.TellLeave {
		return nil
	}
	var addrOf func(string) (*net.UDPAddr, bool)
	var everyone func() []*net.UDPAddr
	if conf.TellAccused {
		addrOf = s.memberUDPAddr
	}
	if conf.TellLeave {
		everyone = s.othersUDPAddrs
	}
	return newDirectNotices(conf.NodeName, s.codec, addrOf, everyone)
}

// newDirectNotices tells suspicions to the accused found by addrOf when
// addrOf is not nil, and leaves to everyone when everyone is not nil.
func newDirectNotices(self string, wc *wireCodec, addrOf func(name string) (*net.UDPAddr, bool), everyone func() []*net.UDPAddr) *directNotices {
	return &directNotices{
		self:     self,
		codec:    wc,
		addrOf:   addrOf,
		everyone: everyone,
		pending:  make(chan directNotice, 16),
		told:     make(map[string]uint32),
	}
}

// scan looks through the packet p that memberlist is sending for suspect
// messages this node raised and for its leave, and queues a notice for
// each one it has not told yet. It never blocks and never changes p.
// Called concurrently, from every goroutine of memberlist that sends.
func (n *directNotices) scan(p []byte) {
	eachSentMessage(p, func(label []byte, withCRC bool, msg []byte) {
		if msg[0] == mlSuspectMsg || msg[0] == mlDeadMsg {
			n.consider(label, withCRC, msg)
		}
	})
}

// accusationBody is memberlist's suspect message and its dead message,
// which have the same fields (its net.go).
type accusationBody struct {
	Incarnation uint32
	Node        string
	From        string
}

// consider queues a notice for the suspect or dead message msg (type
// byte included): a suspicion this node raised of another member whose
// accused it has not told of this incarnation, or a later one; this
// node's leave, if it has not told it for this incarnation.
func (n *directNotices) consider(label []byte, withCRC bool, msg []byte) {
	var s accusationBody
	if err := n.codec.decode(msg[1:], &s); err != nil || s.From != n.self || s.Node == "" {
		return
	}
	leave := msg[0] == mlDeadMsg
	switch {
	case leave && (s.Node != n.self || n.everyone == nil):
		return
	case !leave && (s.Node == n.self || n.addrOf == nil):
		return
	}
	// A leave is remembered under this node's own name, which no
	// suspicion is.
	if !n.firstTelling(s.Node, s.Incarnation) {
		return
	}
	select {
	case n.pending <- directNotice{accused: s.Node, everyone: leave, packet: packetAlone(label, withCRC, msg)}:
	default:
	}
}

// firstTelling records that accused is told of incarnation inc, and
// reports whether it had not been told of it, or of a later one, before.
func (n *directNotices) firstTelling(accused string, inc uint32) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.told[accused] > inc {
		return false
	}
	if len(n.told) >= maxToldAccused {
		clear(n.told)
	}
	n.told[accused] = inc + 1
	return true
}

// othersUDPAddrs are where the other members Serf holds as alive or
// leaving receive gossip.
func (s *Serf) othersUDPAddrs() []*net.UDPAddr {
	s.memberLock.RLock()
	defer s.memberLock.RUnlock()
	out := make([]*net.UDPAddr, 0, len(s.members))
	for name, m := range s.members {
		if name == s.config.NodeName || (m.Status != StatusAlive && m.Status != StatusLeaving) {
			continue
		}
		out = append(out, &net.UDPAddr{IP: m.Addr, Port: int(m.Port)})
	}
	return out
}

// memberUDPAddr is where the member called name receives gossip, if it is
// another member Serf knows.
func (s *Serf) memberUDPAddr(name string) (*net.UDPAddr, bool) {
	s.memberLock.RLock()
	defer s.memberLock.RUnlock()
	m, ok := s.members[name]
	if !ok || name == s.config.NodeName {
		return nil, false
	}
	return &net.UDPAddr{IP: m.Addr, Port: int(m.Port)}, true
}
