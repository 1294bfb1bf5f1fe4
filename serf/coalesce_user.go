package serf

// userEventCoalescer merges user events sent with coalescing enabled: per
// event name only the events carrying the highest Lamport time seen in the
// batch survive (several distinct events at that time are all kept). Older
// events of the same name are superseded and dropped. Events sent without
// coalescing are not handled and pass straight through.
type userEventCoalescer struct {
	latest map[string]*userEventBatch
	order  []string // names in first-seen order, for deterministic output
}

type userEventBatch struct {
	ltime  LamportTime
	events []Event
}

func newUserEventCoalescer() coalescer {
	return &userEventCoalescer{latest: make(map[string]*userEventBatch)}
}

// handles claims user events (always delivered by value) sent with
// coalescing allowed.
func (c *userEventCoalescer) handles(e Event) bool {
	u, ok := e.(UserEvent)
	return ok && u.Coalesce
}

func (c *userEventCoalescer) add(e Event) {
	u := e.(UserEvent)
	b := c.latest[u.Name]
	switch {
	case b == nil:
		c.latest[u.Name] = &userEventBatch{ltime: u.LTime, events: []Event{e}}
		c.order = append(c.order, u.Name)
	case u.LTime > b.ltime:
		b.ltime = u.LTime
		b.events = append(b.events[:0], e)
	case u.LTime == b.ltime:
		b.events = append(b.events, e)
	}
	// u.LTime < b.ltime: superseded, dropped.
}

func (c *userEventCoalescer) flush() []Event {
	var out []Event
	for _, name := range c.order {
		out = append(out, c.latest[name].events...)
	}
	clear(c.latest)
	c.order = c.order[:0]
	return out
}
