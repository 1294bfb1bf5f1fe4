package serf

import (
	"math/rand/v2"
	"net"
	"time"
)

// Recovery after long outages (serf#333, serf#605):
//
//   - At start the members the snapshot remembers, alive or failed, are all
//     tried, and those not reached are tried again with backoff
//     (RejoinRetryInterval doubling to RejoinRetryMax) until each is known
//     to Serf again, the reconnect window (ReconnectTimeout) has passed, or
//     Serf shuts down (rejoin, below).
//   - Members reaped after failing go into a bounded address book
//     (AddressBookSize, kept in the snapshot when there is one), and every
//     RejoinReapedInterval a few of them (RejoinReapedCount) that are not
//     members are joined, so halves separated for longer than
//     ReconnectTimeout merge once the network heals (reapedRejoinLoop).

// addressBook is a bounded set of node names and addresses, oldest first;
// adding past max evicts the oldest. max <= 0 means unbounded. Not safe for
// concurrent use: its owner locks.
type addressBook struct {
	max   int
	order []string
	addr  map[string]string
}

func newAddressBook(max int) *addressBook {
	return &addressBook{max: max, addr: make(map[string]string)}
}

// add records name at addr as the newest entry.
func (b *addressBook) add(name, addr string) {
	b.remove(name)
	b.order = append(b.order, name)
	b.addr[name] = addr
	b.trim(b.max)
}

// remove forgets name.
func (b *addressBook) remove(name string) {
	if _, ok := b.addr[name]; !ok {
		return
	}
	delete(b.addr, name)
	for i, n := range b.order {
		if n == name {
			b.order = append(b.order[:i], b.order[i+1:]...)
			break
		}
	}
}

// trim evicts the oldest entries beyond max (if max > 0).
func (b *addressBook) trim(max int) {
	b.max = max
	if max <= 0 || len(b.order) <= max {
		return
	}
	drop := len(b.order) - max
	for _, n := range b.order[:drop] {
		delete(b.addr, n)
	}
	b.order = append([]string(nil), b.order[drop:]...)
}

func (b *addressBook) len() int { return len(b.order) }

// nodes lists the entries, oldest first.
func (b *addressBook) nodes() []*PreviousNode {
	out := make([]*PreviousNode, 0, len(b.order))
	for _, n := range b.order {
		out = append(out, &PreviousNode{Name: n, Addr: b.addr[n]})
	}
	return out
}

// rememberReaped puts a member reaped after failing into the address book.
func (s *Serf) rememberReaped(m Member) {
	if s.config.AddressBookSize <= 0 {
		return
	}
	addr := (&net.TCPAddr{IP: m.Addr, Port: int(m.Port)}).String()
	s.bookLock.Lock()
	s.book.add(m.Name, addr)
	s.bookLock.Unlock()
}

// AddressBook lists the members reaped after failing that Serf still tries
// now and then, oldest first.
func (s *Serf) AddressBook() []*PreviousNode {
	s.bookLock.Lock()
	defer s.bookLock.Unlock()
	return s.book.nodes()
}

// reapedRejoinLoop tries a few address-book entries every
// RejoinReapedInterval.
func (s *Serf) reapedRejoinLoop() {
	if s.config.RejoinReapedInterval <= 0 || s.config.AddressBookSize <= 0 {
		return
	}
	ticker := time.NewTicker(s.config.RejoinReapedInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			s.rejoinReaped()
		case <-s.shutdownCh:
			return
		}
	}
}

// rejoinReaped drops book entries that are members again and joins up to
// RejoinReapedCount random others. Failure is normal: the node may be gone.
func (s *Serf) rejoinReaped() {
	s.memberLock.RLock()
	s.bookLock.Lock()
	var candidates []*PreviousNode
	for _, p := range s.book.nodes() {
		if _, known := s.members[p.Name]; known || p.Name == s.config.NodeName {
			s.book.remove(p.Name)
			continue
		}
		candidates = append(candidates, p)
	}
	s.bookLock.Unlock()
	s.memberLock.RUnlock()

	rand.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	n := max(s.config.RejoinReapedCount, 1)
	for i, p := range candidates {
		if i >= n || s.shuttingDown() {
			return
		}
		s.logger.Printf("[INFO] serf: attempting join to reaped member %s", p)
		_, _ = s.memberlistJoin([]string{p.Name + "/" + p.Addr})
	}
}

// rejoin tries the nodes the snapshot remembers, alive ones first, until
// all are known to Serf (a successful join usually brings most of them),
// then retries those not yet known with backoff, until all are known, the reconnect window
// has passed, or Serf shuts down.
func (s *Serf) rejoin(prev []*PreviousNode) {
	var pending []*PreviousNode
	for _, p := range prev {
		if p.Name != s.config.NodeName {
			pending = append(pending, p)
		}
	}
	wait := s.config.RejoinRetryInterval
	var deadline <-chan time.Time
	if s.config.ReconnectTimeout > 0 {
		t := time.NewTimer(s.config.ReconnectTimeout)
		defer t.Stop()
		deadline = t.C
	}
	for first := true; len(pending) > 0; first = false {
		joined := false
		var still []*PreviousNode
		for _, p := range pending {
			if s.shuttingDown() {
				return
			}
			// As upstream, the first node is tried even if it is already
			// known; after a success (whose push/pull brought the cluster)
			// and in later rounds, known nodes are skipped.
			if (!first || joined) && s.knows(p.Name) {
				continue
			}
			if s.rejoinOne(p) {
				joined = true
				continue
			}
			still = append(still, p)
		}
		if first && !joined {
			s.logger.Printf("[WARN] serf: Failed to re-join any previously known node")
		}
		pending = still
		if len(pending) == 0 || wait <= 0 {
			return
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-deadline:
			timer.Stop()
			return
		case <-s.shutdownCh:
			timer.Stop()
			return
		}
		wait = min(wait*2, max(s.config.RejoinRetryMax, s.config.RejoinRetryInterval))
	}
}

// knows reports whether name is in the member list, whatever its status.
func (s *Serf) knows(name string) bool {
	s.memberLock.RLock()
	defer s.memberLock.RUnlock()
	_, ok := s.members[name]
	return ok
}
