package serf

import (
	"strings"
	"sync/atomic"
	"time"
)

// Refutations pushed to the accuser (see "Refutations that are heard" in
// doc.go).
//
// When a member suspects this node, or declares it dead, memberlist here
// refutes: it raises this node's incarnation and gossips an alive message
// with the new one, which clears the suspicion wherever it arrives. That
// message gets the same RetransmitMult·ceil(log10(N+1)) transmissions to
// random peers as any other, and nothing sends it again. On a lossy
// network the accuser now and then hears none of them, and when its
// suspicion timer runs out it declares this live node failed: with 20 %
// of packets lost among five agents, once in about ten minutes for real
// Serf and for ours before this (and it keeps probing us successfully all
// the while: an ack does not clear a suspicion in memberlist).
//
// So after each refutation Serf pushes its state, over TCP, which
// retransmits what is lost, in push/pulls with the accuser and with
// GossipNodes-1 other random live members (the suspicion went out by
// gossip too, so others may hold it). Each of them merges the new
// incarnation, drops its suspicion and gossips the alive message on, so
// the refutation spreads from several members instead of one. memberlist
// has no callback for a refutation; it logs one ("Refuting a suspect
// message (from: NAME)"), so Serf reads it from the log writer it gives
// memberlist anyway (rewordMemberlistLogs).
//
// The cost is bounded: one round of pushes at a time, at least a probe
// interval after the last (a refutation that comes sooner waits, and one
// that comes while another waits is left to gossip alone), and none while
// this node's Lifeguard health score is high (refutationBrakeScore). An overloaded cluster
// refutes false suspicions by the thousand, and full-state exchanges
// would only add to the load that causes them.

// refutationLines are the beginnings of memberlist's log lines that say
// this node refuted an accusation; the accuser's name follows, then ")".
var refutationLines = [...]string{
	"memberlist: Refuting a suspect message (from: ",
	"memberlist: Refuting a dead message (from: ",
}

// refutationState is what the log watcher and the push loop share: the
// accuser of the latest refutation not yet taken (a channel buffered by
// one; nil when the mechanism is off) and counts for tests.
type refutationState struct {
	accuserCh chan string
	pushes    atomic.Uint64 // push/pulls started
	braked    atomic.Uint64 // refutations left to gossip for the health score
}

// refutationAccuser returns who this node refuted, if line is memberlist's
// log line of a refutation.
func refutationAccuser(line string) (string, bool) {
	for _, start := range refutationLines {
		_, rest, ok := strings.Cut(line, start)
		if !ok {
			continue
		}
		name, ok := strings.CutSuffix(strings.TrimRight(rest, "\r\n"), ")")
		if !ok || name == "" {
			return "", false
		}
		return name, true
	}
	return "", false
}

// noteRefutation is watchMemberlistLog's part for refutations: it hands
// the accuser of a refutation line over, never blocking, since it runs
// under memberlist's node lock; while a push is pending, another
// refutation waits for gossip.
func (s *Serf) noteRefutation(line string) {
	if s.refutation.accuserCh == nil {
		return
	}
	if accuser, ok := refutationAccuser(line); ok {
		select {
		case s.refutation.accuserCh <- accuser:
		default:
		}
	}
}

// refutationBrakeScore is the memberlist health score from which a
// refutation is left to gossip alone: half of Lifeguard's maximum
// (AwarenessMaxMultiplier 8). One refutation adds 1 and an unanswered probe
// up to 3, while every answered probe takes 1 off, so a member on a lossy
// network keeps a low score most of the time, and one too loaded to get
// its probes answered in time climbs toward the top.
const refutationBrakeScore = 4

// refutationLoop pushes this node's state to each accuser it is handed,
// one round at a time and at least a probe interval apart, until shutdown.
// While it waits or pushes, the channel holds one more accuser; later ones
// are left to gossip.
func (s *Serf) refutationLoop() {
	gap := s.config.MemberlistConfig.ProbeInterval
	var last time.Time
	for {
		select {
		case <-s.shutdownCh:
			return
		case accuser := <-s.refutation.accuserCh:
			// Too soon after the last round: wait for the gap rather than
			// drop it, since this may be a new accuser's suspicion.
			if wait := gap - time.Since(last); wait > 0 {
				select {
				case <-s.shutdownCh:
					return
				case <-time.After(wait):
				}
			}
			if score := s.memberlist.GetHealthScore(); score >= refutationBrakeScore {
				s.refutation.braked.Add(1)
				s.logger.Printf("[DEBUG] serf: refutation left to gossip: health score %d", score)
				continue
			}
			last = time.Now()
			s.pushRefutation(accuser)
		}
	}
}

// pushRefutation runs push/pulls with the accuser and GossipNodes-1 other
// random live members: the accuser's suspicion went out by gossip too, so
// others may hold it, and every member that merges the new incarnation
// gossips it on. Nothing is pushed once this node is leaving, or while a
// Join runs (that is a push/pull already); like anti-entropy, each push is
// memberlist's Join to one address.
func (s *Serf) pushRefutation(accuser string) {
	if s.State() != SerfAlive {
		return
	}
	var peers []string
	if addr, ok := s.liveMemberAddr(accuser); ok {
		peers = append(peers, addr)
	}
	others := s.randomPeers(s.config.MemberlistConfig.GossipNodes-1, func(m *memberState) bool {
		return isAlive(m) && m.Name != accuser
	})
	for _, p := range others {
		peers = append(peers, p.Name+"/"+p.Addr)
	}
	if len(peers) == 0 || !s.joinLock.TryLock() {
		return
	}
	defer s.joinLock.Unlock()
	s.refutation.pushes.Add(uint64(len(peers)))
	if _, err := s.memberlistJoin(peers); err != nil {
		s.logger.Printf("[DEBUG] serf: refutation push/pull failed: %v", err)
	}
}

// liveMemberAddr is the member called name as "name/ip:port" for
// memberlist.Join, if it is another member and alive.
func (s *Serf) liveMemberAddr(name string) (string, bool) {
	s.memberLock.RLock()
	defer s.memberLock.RUnlock()
	m, ok := s.members[name]
	if !ok || name == s.config.NodeName || !isAlive(m) {
		return "", false
	}
	return name + "/" + udpAddr(m.Addr, m.Port), true
}
