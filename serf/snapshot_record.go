package serf

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"time"
)

// Recording: the snapshot's pipeline stage hands every event to the
// recorder goroutine, which owns the file and appends one line per change.

// snapshotForwarding is the work of the snapshot's pipeline stage. A user
// event or query that moves its clock past what the file holds is passed
// on only once the recorder has written that clock to the file (synced):
// so an application is never handed an event that, after a crash, the
// restarted node would not know it had handled. Everything else is queued
// for recording (dropped from the snapshot, with a warning, if the recorder
// is over two thousand events behind) and passed on at once, unchanged.
// When the stage ends, the recorder's queue is closed.
type snapshotForwarding struct{ s *Snapshotter }

func (f snapshotForwarding) take(e Event, pass func(Event)) {
	if f.s.advancesClock(e) {
		f.s.recordSynced(e)
	} else {
		f.s.queueRecord(e)
	}
	pass(e)
}

func (snapshotForwarding) due() <-chan time.Time { return nil }
func (snapshotForwarding) release(func(Event))   {}
func (f snapshotForwarding) stopped()            { close(f.s.recordCh) }

// syncedRecord is an event the forwarding stage waits on: the recorder
// closes done once the event's clock line is in the file.
type syncedRecord struct {
	Event
	done chan struct{}
}

// advancesClock reports whether e is a user event or query newer than any
// the stage has had recorded, and if so notes its time. Stage goroutine
// only.
func (s *Snapshotter) advancesClock(e Event) bool {
	switch e := e.(type) {
	case UserEvent:
		if e.LTime > s.stageEventClock {
			s.stageEventClock = e.LTime
			return true
		}
	case queryLTimer:
		if e.queryLTime() > s.stageQueryClock {
			s.stageQueryClock = e.queryLTime()
			return true
		}
	}
	return false
}

// recordSynced has the recorder record e, behind everything queued before
// it, and waits until it is written and synced. The recorder runs until
// the stage has ended, so this always returns.
func (s *Snapshotter) recordSynced(e Event) {
	r := syncedRecord{Event: e, done: make(chan struct{})}
	s.recordCh <- r
	<-r.done
}

func (s *Snapshotter) queueRecord(e Event) {
	select {
	case s.recordCh <- e:
		s.dropping = false
	default:
		if !s.dropping {
			s.dropping = true
			s.logger.Printf("[WARN] serf: Snapshot writer is behind, events are not being recorded")
		}
	}
}

// record is the goroutine that owns the file.
func (s *Snapshotter) record() {
	tick := time.NewTicker(snapshotClockInterval)
	defer tick.Stop()
	for {
		select {
		case e, ok := <-s.recordCh:
			if !ok {
				// The forwarding stage has ended: everything it was
				// given is recorded.
				s.finish()
				return
			}
			s.recordEvent(e)
		case done := <-s.leaveCh:
			// Events that reached the queue before the leave belong in
			// the file before it.
			s.recordQueued()
			s.recordLeave()
			close(done)
		case <-tick.C:
			s.recordClock()
			if s.w != nil && s.w.Buffered() > 0 && time.Since(s.lastFlush) > snapshotFlushInterval {
				s.flush()
			}
			s.syncIfDirty()
		}
	}
}

// recordQueued records the events already queued, without waiting.
func (s *Snapshotter) recordQueued() {
	for {
		select {
		case e, ok := <-s.recordCh:
			if !ok {
				return
			}
			s.recordEvent(e)
		default:
			return
		}
	}
}

// finish runs once the queue is closed and read to the end, so everything
// accepted before shutdown is recorded: it writes the clock, then flushes,
// syncs and closes the file. (Serf bounds its final wait at 250 ms; here
// the forwarding stage's drain is what is bounded, and no timer can make
// the recorder drop what it was already given.)
func (s *Snapshotter) finish() {
	s.recordClock()
	if s.fh != nil {
		if err := s.w.Flush(); err != nil {
			s.logger.Printf("[ERR] serf: Failed to flush snapshot: %v", err)
		}
		if err := s.fh.Sync(); err != nil {
			s.logger.Printf("[ERR] serf: Failed to sync snapshot: %v", err)
		}
		s.fh.Close()
		s.fh, s.w = nil, nil
	}
	close(s.done)
}

func (s *Snapshotter) recordEvent(e Event) {
	if r, ok := e.(syncedRecord); ok {
		s.recordEvent(r.Event)
		s.sync()
		close(r.done)
		return
	}
	if s.leaving || e == nil {
		return
	}
	switch e.EventType() {
	case EventMemberJoin, EventMemberLeave, EventMemberFailed, EventMemberUpdate, EventMemberReap:
		if me, ok := e.(MemberEvent); ok {
			s.recordMembers(me)
			return
		}
	case EventUser:
		if u, ok := e.(UserEvent); ok {
			s.recordLTime(u.LTime, &s.lastEventClock, "event-clock: ")
			return
		}
	case EventQuery:
		if q, ok := e.(queryLTimer); ok {
			s.recordLTime(q.queryLTime(), &s.lastQueryClock, "query-clock: ")
			return
		}
	}
	s.logger.Printf("[ERR] serf: Unknown event to snapshot: %#v", e)
}

func (s *Snapshotter) recordMembers(me MemberEvent) {
	for _, m := range me.Members {
		if strings.ContainsAny(m.Name, "\r\n") {
			// Would break the line format (and could forge records).
			s.logger.Printf("[WARN] serf: Not recording member with a line break in its name: %q", m.Name)
			continue
		}
		addr := (&net.TCPAddr{IP: m.Addr, Port: int(m.Port)}).String()
		switch me.Type {
		case EventMemberJoin:
			s.mu.Lock()
			s.alive[m.Name] = addr
			delete(s.failed, m.Name)
			s.book.remove(m.Name)
			s.mu.Unlock()
			s.appendLine("alive: " + m.Name + " " + addr + "\n")
		case EventMemberLeave:
			s.mu.Lock()
			delete(s.alive, m.Name)
			delete(s.failed, m.Name)
			s.mu.Unlock()
			s.appendLine("not-alive: " + m.Name + "\n")
		case EventMemberFailed:
			// Real Serf's line first, so it reads the member as not alive;
			// then ours, so a restart still tries it (serf#333).
			s.mu.Lock()
			delete(s.alive, m.Name)
			s.failed[m.Name] = addr
			s.mu.Unlock()
			s.appendLine("not-alive: " + m.Name + "\n")
			s.appendLine("failed: " + m.Name + " " + addr + "\n")
		case EventMemberReap:
			s.mu.Lock()
			_, wasFailed := s.failed[m.Name]
			delete(s.failed, m.Name)
			keep := wasFailed && !s.bookOff
			if keep {
				s.book.add(m.Name, addr)
			}
			s.mu.Unlock()
			if keep {
				s.appendLine("reaped: " + m.Name + " " + addr + "\n")
			}
		}
	}
	s.recordClock()
}

// recordLTime writes prefix+t if t is beyond *last.
func (s *Snapshotter) recordLTime(t LamportTime, last *LamportTime, prefix string) {
	s.mu.Lock()
	newer := t > *last
	if newer {
		*last = t
	}
	s.mu.Unlock()
	if newer {
		s.appendLine(prefix + strconv.FormatUint(uint64(t), 10) + "\n")
	}
}

// recordClock writes the member clock minus one (the last time actually
// used) when it moved past the last value written.
func (s *Snapshotter) recordClock() {
	if s.clock == nil {
		return
	}
	now := s.clock.Time()
	if now == 0 {
		return
	}
	s.recordLTime(now-1, &s.lastClock, "clock: ")
}

func (s *Snapshotter) recordLeave() {
	s.leaving = true
	if !s.rejoinAfterLeave {
		s.mu.Lock()
		clear(s.alive)
		clear(s.failed)
		s.book = newAddressBook(s.book.max)
		s.mu.Unlock()
	}
	s.appendLine("leave\n")
	if s.fh == nil {
		return
	}
	if err := s.flush(); err != nil {
		s.logger.Printf("[ERR] serf: Failed to flush leave to snapshot: %v", err)
	}
	if err := s.fh.Sync(); err != nil {
		s.logger.Printf("[ERR] serf: Failed to sync leave to snapshot: %v", err)
	}
}

// appendLine writes a line, and when that fails tries to recover by
// compacting into a fresh file, at most once per recovery interval.
func (s *Snapshotter) appendLine(line string) {
	defer s.metrics.snapshotAppendLine(time.Now())
	err := s.write(line)
	if err == nil {
		return
	}
	s.logger.Printf("[ERR] serf: Failed to update snapshot: %v", err)
	if time.Since(s.lastRecovery) <= snapshotRecoveryInterval {
		return
	}
	s.lastRecovery = time.Now()
	s.logger.Printf("[INFO] serf: Attempting compaction to recover from error...")
	if err := s.compact(); err != nil {
		s.logger.Printf("[ERR] serf: Compaction failed, will reattempt after %v: %v", snapshotRecoveryInterval, err)
		return
	}
	s.logger.Printf("[INFO] serf: Finished compaction, successfully recovered from error state")
}

func (s *Snapshotter) write(line string) error {
	if s.w == nil {
		return errors.New("snapshot file is not open")
	}
	n, err := s.w.WriteString(line)
	s.size += int64(n)
	if err != nil {
		return err
	}
	if time.Since(s.lastFlush) > snapshotFlushInterval {
		if err := s.flush(); err != nil {
			return err
		}
	}
	if s.size > s.compactThreshold() {
		return s.compact()
	}
	return nil
}

func (s *Snapshotter) flush() error {
	s.lastFlush = time.Now()
	if s.w.Buffered() > 0 {
		s.unsynced = true
	}
	return s.w.Flush()
}

// sync writes out what is buffered and fsyncs the file, so the lines
// survive a crash of the machine, not only of the process.
func (s *Snapshotter) sync() {
	if s.fh == nil {
		return
	}
	if err := s.flush(); err != nil {
		s.logger.Printf("[ERR] serf: Failed to flush snapshot: %v", err)
		return
	}
	if !s.unsynced {
		return
	}
	if err := s.fh.Sync(); err != nil {
		s.logger.Printf("[ERR] serf: Failed to sync snapshot: %v", err)
		return
	}
	s.unsynced = false
}

// syncIfDirty fsyncs lines flushed since the last sync (member lines and
// clock lines are flushed without syncing; the tick bounds their risk).
func (s *Snapshotter) syncIfDirty() {
	if s.unsynced {
		s.sync()
	}
}
