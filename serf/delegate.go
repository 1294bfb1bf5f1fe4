package serf

import (
	"net"

	"github.com/hashicorp/memberlist"
)

// delegate is Serf's memberlist.Delegate: it carries tags in node metadata,
// receives and queues Serf messages, and exchanges state on push/pull.
type delegate struct {
	serf *Serf
}

var _ memberlist.Delegate = (*delegate)(nil)

func (d *delegate) NodeMeta(limit int) []byte {
	meta := d.serf.encodeTags(d.serf.localTags())
	if len(meta) > limit {
		// SetTags and Create refuse such tags, so this cannot happen.
		d.serf.logger.Printf("[ERR] serf: Encoded length of tags exceeds limit of %d bytes", limit)
		return nil
	}
	return meta
}

// NotifyMsg handles one Serf message from a broadcast or a direct packet.
// Anything malformed is logged and dropped.
func (d *delegate) NotifyMsg(buf []byte) {
	if len(buf) == 0 || !d.serf.ready.Load() {
		return
	}
	s := d.serf
	s.metrics.msgReceived(len(buf))
	t, body := messageType(buf[0]), buf[1:]

	switch t {
	case messageLeaveType:
		var msg messageLeave
		if err := s.codec.decode(body, &msg); err != nil {
			s.logger.Printf("[ERR] serf: Error decoding leave message: %s", err)
			return
		}
		s.logger.Printf("[DEBUG] serf: messageLeaveType: %s", msg.Node)
		if s.handleLeaveIntent(&msg) {
			rebroadcast(s.leaveBroadcasts, buf)
			s.kickRelief()
		}

	case messageJoinType:
		var msg messageJoin
		if err := s.codec.decode(body, &msg); err != nil {
			s.logger.Printf("[ERR] serf: Error decoding join message: %s", err)
			return
		}
		s.logger.Printf("[DEBUG] serf: messageJoinType: %s", msg.Node)
		if s.handleJoinIntent(&msg) {
			rebroadcast(s.joinBroadcasts, buf)
		}

	case messageUserEventType:
		// Peers refuse to send events over the limit; one that arrives
		// anyway is dropped here rather than kept and passed on.
		if len(buf) > s.config.UserEventSizeLimit {
			s.limits.bigUserEvents.drop(s.logger, "[WARN] serf: Dropping user event of %d bytes, over the limit of %d bytes", len(buf), s.config.UserEventSizeLimit)
			return
		}
		var msg messageUserEvent
		if err := s.codec.decode(body, &msg); err != nil {
			s.logger.Printf("[ERR] serf: Error decoding user event message: %s", err)
			return
		}
		s.logger.Printf("[DEBUG] serf: messageUserEventType: %s", msg.Name)
		if s.handleUserEvent(&msg) {
			rebroadcast(s.eventBroadcasts, buf)
			s.kickRelief()
		}

	case messageQueryType:
		if len(buf) > s.config.QuerySizeLimit {
			s.limits.bigQueries.drop(s.logger, "[WARN] serf: Dropping query of %d bytes, over the limit of %d bytes", len(buf), s.config.QuerySizeLimit)
			return
		}
		var msg messageQuery
		if err := s.codec.decode(body, &msg); err != nil {
			s.logger.Printf("[ERR] serf: Error decoding query message: %s", err)
			return
		}
		s.logger.Printf("[DEBUG] serf: messageQueryType: %s", msg.Name)
		s.boundRemoteQuery(&msg)
		if s.handleQuery(&msg) {
			rebroadcast(s.queryBroadcasts, buf)
			s.kickRelief()
		}

	case messageQueryResponseType:
		if len(buf) > s.config.QueryResponseSizeLimit {
			s.limits.bigResponses.drop(s.logger, "[WARN] serf: Dropping query response of %d bytes, over the limit of %d bytes", len(buf), s.config.QueryResponseSizeLimit)
			return
		}
		var msg messageQueryResponse
		if err := s.codec.decode(body, &msg); err != nil {
			s.logger.Printf("[ERR] serf: Error decoding query response message: %s", err)
			return
		}
		s.logger.Printf("[DEBUG] serf: messageQueryResponseType: %v", msg.From)
		s.handleQueryResponse(&msg)

	case messageRelayType:
		// Responders refuse to relay more than the response limit.
		if len(buf) > s.config.QueryResponseSizeLimit {
			s.limits.bigResponses.drop(s.logger, "[WARN] serf: Dropping relayed query response of %d bytes, over the limit of %d bytes", len(buf), s.config.QueryResponseSizeLimit)
			return
		}
		hdr, inner, err := s.codec.decodeRelay(body)
		if err != nil {
			s.logger.Printf("[ERR] serf: Error decoding relay header: %s", err)
			return
		}
		dest := hdr.DestAddr.String()
		s.logger.Printf("[DEBUG] serf: Relaying response to addr: %s", dest)
		addr := memberlist.Address{Addr: dest, Name: hdr.DestName}
		if err := s.memberlist.SendToAddress(addr, append([]byte(nil), inner...)); err != nil {
			s.logger.Printf("[ERR] serf: Error forwarding message to %s: %s", dest, err)
		}

	default:
		s.logger.Printf("[WARN] serf: Received message of unknown type: %d", t)
	}
}

// GetBroadcasts fills the gossip packet with intents first (leaves, then
// joins), then queries, then user events.
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	s := d.serf
	s.noteRoom(limit)
	msgs := s.leaveBroadcasts.GetBroadcasts(overhead, limit)
	used := bytesUsed(msgs, overhead)
	if j := s.joinBroadcasts.GetBroadcasts(overhead, limit-used); len(j) > 0 {
		msgs = append(msgs, j...)
		used += bytesUsed(j, overhead)
	}
	if q := s.queryBroadcasts.GetBroadcasts(overhead, limit-used); len(q) > 0 {
		msgs = append(msgs, q...)
		used += bytesUsed(q, overhead)
	}
	if e := s.eventBroadcasts.GetBroadcasts(overhead, limit-used); len(e) > 0 {
		msgs = append(msgs, e...)
	}
	s.metrics.msgsSent(msgs)
	return msgs
}

func bytesUsed(msgs [][]byte, overhead int) int {
	n := 0
	for _, m := range msgs {
		n += len(m) + overhead
	}
	return n
}

// LocalState is Serf's half of a push/pull: every member's status time, the
// left list, the three clocks and the recent user events.
//
// Members that are leaving go in the left list too. Serf v0.10.2 lists only
// those that have left, so a peer reads a leaving member's status time as a
// join at the leave's own time, then drops the leave gossip as no newer and
// reports the member failed once it is gone. A peer replays the left list
// as leave intents, which is what a leaving member has announced.
func (d *delegate) LocalState(join bool) []byte {
	s := d.serf
	s.memberLock.RLock()
	pp := messagePushPull{
		LTime:        s.clock.Time(),
		StatusLTimes: make(map[string]LamportTime, len(s.members)),
		LeftMembers:  make([]string, 0, len(s.left)),
	}
	for name, m := range s.members {
		pp.StatusLTimes[name] = m.statusLTime
		if m.Status == StatusLeaving || m.Status == StatusLeft {
			pp.LeftMembers = append(pp.LeftMembers, name)
		}
	}
	s.memberLock.RUnlock()

	pp.EventLTime = s.eventClock.Time()
	pp.QueryLTime = s.queryClock.Time()

	// Encode while holding the event lock: the slots are shared, not copied.
	s.events.lock.RLock()
	pp.Events = s.events.slots
	buf, err := s.codec.encodeMessage(messagePushPullType, &pp)
	s.events.lock.RUnlock()
	if err != nil {
		s.logger.Printf("[ERR] serf: Failed to encode local state: %v", err)
		return nil
	}
	return buf
}

// MergeRemoteState folds a peer's push/pull state into ours by replaying it
// as intents and events. Synthesised intents are never rebroadcast: the
// peer already knows them and push/pull spreads them anyway.
func (d *delegate) MergeRemoteState(buf []byte, isJoin bool) {
	s := d.serf
	if len(buf) == 0 {
		s.logger.Printf("[ERR] serf: Remote state is zero bytes")
		return
	}
	if messageType(buf[0]) != messagePushPullType {
		s.logger.Printf("[ERR] serf: Remote state has bad type prefix: %v", buf[0])
		return
	}
	var pp messagePushPull
	if err := s.codec.decode(buf[1:], &pp); err != nil {
		s.logger.Printf("[ERR] serf: Failed to decode remote state: %v", err)
		return
	}

	// Witness value-1 so a clock equal to the peer's does not jump ahead of
	// it; the peer's own next message moves us along.
	if pp.LTime > 0 {
		s.clock.Witness(pp.LTime - 1)
	}
	if pp.EventLTime > 0 {
		s.eventClock.Witness(pp.EventLTime - 1)
	}
	if pp.QueryLTime > 0 {
		s.queryClock.Witness(pp.QueryLTime - 1)
	}

	leftSet := make(map[string]struct{}, len(pp.LeftMembers))
	for _, name := range pp.LeftMembers {
		leftSet[name] = struct{}{}
		s.handleLeaveIntent(&messageLeave{LTime: pp.StatusLTimes[name] + 1, Node: name})
	}
	for name, lt := range pp.StatusLTimes {
		if _, isLeft := leftSet[name]; isLeft {
			continue
		}
		s.handleJoinIntent(&messageJoin{LTime: lt, Node: name})
	}

	// On the push/pull of a Join that asked to ignore old events, treat
	// everything up to the peer's event clock as already seen.
	if isJoin && s.eventJoinIgnore.Load() {
		s.events.raiseMinTime(pp.EventLTime)
	}

	for _, slot := range pp.Events {
		if slot == nil {
			continue
		}
		for _, e := range slot.Events {
			// The sender measured name and payload against the limit
			// before encoding, so an honest one is never over it here.
			if n := len(e.Name) + len(e.Payload); n > s.config.UserEventSizeLimit {
				s.limits.bigUserEvents.drop(s.logger, "[WARN] serf: Dropping user event of %d bytes from remote state, over the limit of %d bytes", n, s.config.UserEventSizeLimit)
				continue
			}
			s.handleUserEvent(&messageUserEvent{LTime: slot.LTime, Name: e.Name, Payload: e.Payload})
		}
	}
}

// udpAddr formats an IP and port for memberlist.Address.
func udpAddr(ip net.IP, port uint16) string {
	return (&net.UDPAddr{IP: ip, Port: int(port)}).String()
}
