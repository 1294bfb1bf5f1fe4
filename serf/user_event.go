package serf

import (
	"bytes"
	"fmt"
	"sync"
)

// eventRing remembers the user events of the last EventBuffer event-clock
// ticks, to drop duplicates and to hand them to joining peers (its slots
// are the Events of push/pull).
type eventRing struct {
	// order is held from the de-duplication decision until delivery, so
	// events reach the application in the order they were accepted. It is
	// separate from lock so a slow consumer never stalls push/pull.
	order sync.Mutex
	lock  sync.RWMutex // guards the ring
	dedupRing[userEventEntry]
}

func newEventRing(size int) eventRing {
	ring := newDedupRing(size, sameUserEvent)
	ring.limit(maxEventsPerLTime, maxEventBufferBytes, userEventEntrySize)
	return eventRing{dedupRing: ring}
}

// userEventEntrySize is what a remembered event counts against
// maxEventBufferBytes: about its share of our push/pull state.
func userEventEntrySize(e userEventEntry) int {
	return len(e.Name) + len(e.Payload) + eventEntryOverhead
}

// sameUserEvent: two user events at one Lamport time are the same event
// when name and payload match.
func sameUserEvent(a, b userEventEntry) bool {
	return a.Name == b.Name && bytes.Equal(a.Payload, b.Payload)
}

// raiseMinTime makes events before t count as already seen.
func (r *eventRing) raiseMinTime(t LamportTime) {
	r.lock.Lock()
	r.dedupRing.raiseMinTime(t)
	r.lock.Unlock()
}

// UserEvent broadcasts a custom event to the cluster. It is also delivered
// locally, through the same path as events from peers. coalesce lets
// receivers with coalescing enabled merge events of the same name.
func (s *Serf) UserEvent(name string, payload []byte, coalesce bool) error {
	rawSize := len(name) + len(payload)
	if rawSize > s.config.UserEventSizeLimit {
		return fmt.Errorf("user event exceeds configured limit of %d bytes before encoding", s.config.UserEventSizeLimit)
	}
	if rawSize > UserEventSizeLimit {
		return fmt.Errorf("user event exceeds sane limit of %d bytes before encoding", UserEventSizeLimit)
	}

	msg := messageUserEvent{LTime: s.eventClock.Time(), Name: name, Payload: payload, CC: coalesce}
	raw, err := s.codec.encodeMessage(messageUserEventType, &msg)
	if err != nil {
		return err
	}
	if len(raw) > s.config.UserEventSizeLimit {
		return fmt.Errorf("encoded user event exceeds configured limit of %d bytes after encoding", s.config.UserEventSizeLimit)
	}
	if len(raw) > UserEventSizeLimit {
		return fmt.Errorf("encoded user event exceeds reasonable limit of %d bytes after encoding", UserEventSizeLimit)
	}

	s.eventClock.Increment()
	s.handleUserEvent(&msg)
	s.eventBroadcasts.QueueBroadcast(&broadcast{msg: raw})
	s.kickRelief()
	return nil
}

// handleUserEvent records and delivers a user event unless it was seen
// before or is too old, and reports whether it is new (and so worth
// rebroadcasting).
func (s *Serf) handleUserEvent(msg *messageUserEvent) bool {
	s.eventClock.Witness(msg.LTime)

	r := &s.events
	r.order.Lock()
	defer r.order.Unlock()
	r.lock.Lock()
	cur := s.eventClock.Time()
	verdict := r.admit(msg.LTime, cur, userEventEntry{Name: msg.Name, Payload: msg.Payload})
	r.lock.Unlock()
	switch verdict {
	case outOfWindow:
		s.logger.Printf("[WARN] serf: received old event %s from time %d (current: %d)", msg.Name, msg.LTime, cur)
		return false
	case slotFull:
		s.limits.crowdedEvents.drop(s.logger, "[WARN] serf: Too many user events at time %d, dropping (limit %d per time)", msg.LTime, maxEventsPerLTime)
		return false
	case ringFull:
		s.limits.fullEventBuffer.drop(s.logger, "[WARN] serf: Recent user events take %d bytes or more, dropping new ones", maxEventBufferBytes)
		return false
	case admitted:
	default:
		return false
	}

	s.metrics.userEvent(msg.Name)
	s.emit(UserEvent{LTime: msg.LTime, Name: msg.Name, Payload: msg.Payload, Coalesce: msg.CC})
	s.kickAntiEntropy()
	return true
}
