package serf

// memberEventCoalescer merges member events. Within a batch only the latest
// event type per member counts; at flush, a member whose latest type is the
// one it was last delivered with is left out (a node that failed and came
// back within one batch produces nothing), except member-update, which is
// always delivered since the tags may have changed again.
type memberEventCoalescer struct {
	// delivered is the type last delivered per member, across batches.
	delivered map[string]EventType
	// pending is the latest event per member in the current batch, and
	// order the members in the order they first appeared in it, so that
	// output is deterministic.
	pending map[string]pendingMember
	order   []string
}

type pendingMember struct {
	typ    EventType
	member Member
}

func newMemberEventCoalescer() coalescer {
	return &memberEventCoalescer{
		delivered: make(map[string]EventType),
		pending:   make(map[string]pendingMember),
	}
}

func (c *memberEventCoalescer) handles(e Event) bool {
	me, ok := e.(MemberEvent)
	if !ok {
		return false
	}
	switch me.Type {
	case EventMemberJoin, EventMemberLeave, EventMemberFailed, EventMemberUpdate, EventMemberReap:
		return true
	}
	return false
}

func (c *memberEventCoalescer) add(e Event) {
	me := e.(MemberEvent)
	for _, m := range me.Members {
		if _, seen := c.pending[m.Name]; !seen {
			c.order = append(c.order, m.Name)
		}
		c.pending[m.Name] = pendingMember{typ: me.Type, member: m}
	}
}

func (c *memberEventCoalescer) flush() []Event {
	if len(c.order) == 0 {
		return nil
	}
	// One slot per member event type; the types are consecutive from
	// EventMemberJoin to EventMemberReap and are delivered in that order.
	var byType [EventMemberReap - EventMemberJoin + 1]*MemberEvent
	n := 0
	for _, name := range c.order {
		p := c.pending[name]
		if last, ok := c.delivered[name]; ok && last == p.typ && p.typ != EventMemberUpdate {
			continue
		}
		if p.typ == EventMemberReap {
			// A reaped member is gone for good; forget it so the table
			// does not grow with every name ever seen.
			delete(c.delivered, name)
		} else {
			c.delivered[name] = p.typ
		}
		slot := &byType[p.typ-EventMemberJoin]
		if *slot == nil {
			*slot = &MemberEvent{Type: p.typ}
			n++
		}
		ev := *slot
		ev.Members = append(ev.Members, p.member)
	}
	clear(c.pending)
	c.order = c.order[:0]

	out := make([]Event, 0, n)
	for _, ev := range byType {
		if ev != nil {
			out = append(out, *ev)
		}
	}
	return out
}
