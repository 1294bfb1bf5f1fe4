package serf

import (
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Gossip relief (see "User events and queries go out at once" in doc.go).
//
// memberlist gossips every GossipInterval (200 ms on a LAN), so a user
// event or a query that waits for gossip waits up to an interval at every
// hop: at 64 members its last member hears of it after half a second or
// more. And memberlist fills every gossip packet, and every ping and ack
// it piggybacks gossip on, from its own queue first, offering Serf only
// the room left over. After a join storm of thousands that queue holds
// hundreds of rounds of alive messages still to retransmit, so the room
// left is a few bytes, and an event waits behind all of them: in the
// simulator at 2,000 members one event reached 1 member in 80 rounds.
//
// So leave intents, user events and queries, this node's own and those it
// passes on, also go out directly, as memberlist user messages (each its
// own packet) to GossipNodes random live members: one round as soon as
// one is queued, and then one round every gossip interval while Serf is
// starved (memberlist has not offered it at least half a packet for two
// gossip intervals). Every message sent counts as one of its
// transmissions, as memberlist's gossip counts them, so no message is
// sent more often than gossip alone would have sent it (though each
// direct send is a packet of its own, where gossip packs several); what
// is not sent early, gossip sends as before. The first round makes dissemination
// a matter of network hops rather than gossip intervals, for all but the
// few members the random fan-out misses, whom gossip reaches in its next
// rounds. A real Serf peer receives these messages exactly like gossiped
// ones (memberlist hands both to NotifyMsg) and passes them on by gossip.
//
// Join intents are never sent this way: a join storm queues one join
// intent per member, and sending each one directly would multiply the
// storm's packets, while memberlist's own alive messages, which go first,
// carry the joins anyway. Leave intents are: there is one per leaving
// member, and one that comes late makes a graceful leave a failure
// (memberlist's dead message, which goes first, arrives alone) and `serf
// force-leave` time out waiting for its broadcast. When nothing is queued
// the loop sleeps on a channel.

// reliefState is what the delegate, the queueing paths and the loop share.
type reliefState struct {
	kickCh chan struct{} // buffered by one; nil when relief is off
	// roomAt is when memberlist last offered Serf at least half a packet
	// (unix nanoseconds).
	roomAt atomic.Int64
	sent   atomic.Uint64 // messages sent directly, for tests
}

// noteRoom is called by GetBroadcasts with the room memberlist offers.
func (s *Serf) noteRoom(limit int) {
	if s.relief.kickCh != nil && limit >= s.config.MemberlistConfig.UDPBufferSize/2 {
		s.relief.roomAt.Store(time.Now().UnixNano())
	}
}

// kickRelief is called after a leave intent, user event or query is
// queued. It never blocks and does nothing when relief is off (kickCh
// nil).
func (s *Serf) kickRelief() {
	kick(s.relief.kickCh)
}

// gossipStarved reports whether memberlist has offered Serf no room worth
// having for two gossip intervals.
func (s *Serf) gossipStarved() bool {
	since := time.Since(time.Unix(0, s.relief.roomAt.Load()))
	return since >= 2*s.config.MemberlistConfig.GossipInterval
}

// gossipReliefLoop sends queued leave intents, events and queries
// directly: one round as soon as something new is queued (but never two
// within half a gossip interval, so a flood of events costs at most twice
// gossip's own packet rate), and a round every gossip interval while
// gossip is starved. The ticker runs only while one of them is queued and
// someone else is alive to get it: gossip may start to starve after the
// kick, while the message still waits.
func (s *Serf) gossipReliefLoop() {
	interval := s.config.MemberlistConfig.GossipInterval
	ticker := time.NewTicker(interval)
	ticker.Stop()
	defer ticker.Stop()
	ticking := false
	fresh := false // something was queued since the last round
	var lastRound time.Time
	for {
		select {
		case <-s.shutdownCh:
			return
		case <-s.relief.kickCh:
			fresh = true
		case <-ticker.C:
		}
		eager := fresh && time.Since(lastRound) >= interval/2
		if eager || s.gossipStarved() {
			s.relieve()
			fresh, lastRound = false, time.Now()
		}
		more := s.reliefPending() && s.anyoneElseAlive()
		switch {
		case more && !ticking:
			ticker.Reset(interval)
		case !more && ticking:
			ticker.Stop()
		}
		ticking = more
	}
}

// relievedQueues are the queues relief sends from, in the order it does.
func (s *Serf) relievedQueues() []*memberlist.TransmitLimitedQueue {
	return []*memberlist.TransmitLimitedQueue{s.leaveBroadcasts, s.queryBroadcasts, s.eventBroadcasts}
}

// reliefPending reports whether any relieved queue holds a message.
func (s *Serf) reliefPending() bool {
	for _, q := range s.relievedQueues() {
		if q.NumQueued() > 0 {
			return true
		}
	}
	return false
}

// relieve sends one round of queued leave intents, queries and user
// events, each to GossipNodes random live members. Taking them from the
// queue counts as one transmission per member sent to, as memberlist's
// own gossip does; a leave whose last transmission this was is finished,
// which is what Leave and force-leave wait for.
func (s *Serf) relieve() {
	ml := s.config.MemberlistConfig
	for _, peer := range s.randomPeers(ml.GossipNodes, isAlive) {
		var msgs [][]byte
		for _, q := range s.relievedQueues() {
			msgs = append(msgs, q.GetBroadcasts(0, ml.UDPBufferSize-bytesUsed(msgs, 0))...)
		}
		for _, msg := range msgs {
			if err := s.memberlist.SendToAddress(peer, msg); err != nil {
				s.logger.Printf("[DEBUG] serf: direct send to %s failed: %v", peer.Name, err)
			}
		}
		s.relief.sent.Add(uint64(len(msgs)))
		s.metrics.msgsSent(msgs)
	}
}
