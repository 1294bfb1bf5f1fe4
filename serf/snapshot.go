package serf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The snapshot file lets a restarted agent find its cluster again and not
// replay old events. It is a plain append-only text log, one record per
// line, compatible with the files real Serf writes:
//
//	alive: NAME IP:PORT     a member joined (NAME may contain spaces)
//	not-alive: NAME         a member left or failed
//	clock: N                member Lamport clock minus one
//	event-clock: N          highest user-event Lamport time seen
//	query-clock: N          highest query Lamport time seen
//	leave                   this node left gracefully
//	# ...                   comment
//	coordinate: ...         written by old versions, ignored
//
// Replaying the log in order yields the set of members last known alive and
// the three clocks. When the log outgrows a size proportional to the member
// count it is compacted: rewritten as just the alive lines and the clocks.

const (
	// snapshotFlushInterval: buffered lines are written out when a new line
	// comes this long after the previous flush, and by the periodic tick.
	snapshotFlushInterval = 500 * time.Millisecond

	// snapshotClockInterval is how often the member clock is checked for a
	// new clock line when no member events arrive.
	snapshotClockInterval = 500 * time.Millisecond

	// snapshotRecoveryInterval spaces out compactions attempted to get
	// out of a failed append.
	snapshotRecoveryInterval = 30 * time.Second

	// snapshotBytesPerNode estimates the compacted size per alive member;
	// compaction runs once the file is snapshotCompactFactor times that (or
	// the caller's minimum, whichever is larger).
	snapshotBytesPerNode  = 128
	snapshotCompactFactor = 2

	// snapshotQueueSize is the capacity of the input channel and of the
	// queue between the forwarding and the recording goroutines.
	snapshotQueueSize = 2048

	// snapshotCompactSuffix names the temporary file compaction writes.
	snapshotCompactSuffix = ".compact"
)

// queryLTimer is how the snapshotter learns a query's Lamport time without
// depending on the Query type: *Query implements it by returning its LTime.
// Events whose type is EventQuery but which lack the method are not
// recorded.
type queryLTimer interface {
	queryLTime() LamportTime
}

// PreviousNode is a member found alive in the snapshot, a candidate for
// re-joining the cluster at startup.
type PreviousNode struct {
	Name string
	Addr string // "IP:PORT", "[IPv6]:PORT" for IPv6
}

// String formats the node the way Serf's re-join log lines show it.
func (p PreviousNode) String() string {
	return p.Name + ": " + p.Addr
}

// Snapshotter records member, user-event and query activity to the snapshot
// file while forwarding every event, unchanged and in order, to the next
// stage of the event pipeline. It runs two goroutines: one forwards events
// and hands them to the other, which owns the file, so a slow disk never
// delays event delivery. Both stop when shutdownCh closes; Wait returns
// once the file is flushed and closed.
type Snapshotter struct {
	path             string
	minCompactSize   int64
	rejoinAfterLeave bool
	logger           *log.Logger
	clock            *LamportClock
	outCh            chan<- Event
	shutdownCh       <-chan struct{}

	inCh     chan Event
	recordCh chan Event         // forwarder -> recorder; closed by the forwarder
	leaveCh  chan chan struct{} // Leave -> recorder, closed back when synced
	fwdDone  chan struct{}      // closed when the forwarder has ended
	done     chan struct{}      // closed when everything has ended

	// mu guards what the exported accessors read; only the recorder
	// goroutine (or the constructor, before it starts) writes it.
	mu             sync.Mutex
	alive          map[string]string
	lastClock      LamportTime
	lastEventClock LamportTime
	lastQueryClock LamportTime

	// Owned by the recorder goroutine.
	fh           *os.File
	w            *bufio.Writer
	size         int64 // bytes in the file, counting buffered ones
	lastFlush    time.Time
	lastRecovery time.Time
	leaving      bool

	// Owned by the forwarder goroutine: set while records are being
	// dropped, so that a backlog logs one warning rather than thousands.
	dropping bool
}

// NewSnapshotter opens (creating if needed) the snapshot at path, replays
// it, and starts recording. Events sent on the returned channel are
// recorded and forwarded to outCh (which may be nil). minCompactSize is the
// smallest file size that triggers compaction. With rejoinAfterLeave, a
// leave found in the file is ignored so the node rejoins its old cluster.
func NewSnapshotter(path string, minCompactSize int, rejoinAfterLeave bool, logger *log.Logger,
	clock *LamportClock, outCh chan<- Event, shutdownCh <-chan struct{}) (chan<- Event, *Snapshotter, error) {
	s, err := openSnapshot(path, minCompactSize, rejoinAfterLeave, logger, clock)
	if err != nil {
		return nil, nil, err
	}
	s.outCh = outCh
	s.shutdownCh = shutdownCh
	go s.forward()
	go s.record()
	return s.inCh, s, nil
}

// openSnapshot opens and replays the file without starting goroutines.
func openSnapshot(path string, minCompactSize int, rejoinAfterLeave bool, logger *log.Logger,
	clock *LamportClock) (*Snapshotter, error) {
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0644)
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	st := replaySnapshot(fh, rejoinAfterLeave, logger)
	if st.err != nil {
		fh.Close()
		return nil, fmt.Errorf("read snapshot %s: %w", path, st.err)
	}
	if st.torn {
		// A crash cut the last line short. Drop it, so the next line we
		// append does not get glued to it.
		logger.Printf("[WARN] serf: Dropping incomplete last line of snapshot %s", path)
		if err := fh.Truncate(st.size); err != nil {
			fh.Close()
			return nil, fmt.Errorf("truncate snapshot %s: %w", path, err)
		}
	}
	return &Snapshotter{
		path:             path,
		minCompactSize:   int64(minCompactSize),
		rejoinAfterLeave: rejoinAfterLeave,
		logger:           logger,
		clock:            clock,
		inCh:             make(chan Event, snapshotQueueSize),
		recordCh:         make(chan Event, snapshotQueueSize),
		leaveCh:          make(chan chan struct{}),
		fwdDone:          make(chan struct{}),
		done:             make(chan struct{}),
		alive:            st.alive,
		lastClock:        st.clock,
		lastEventClock:   st.eventClock,
		lastQueryClock:   st.queryClock,
		fh:               fh,
		w:                bufio.NewWriter(fh),
		size:             st.size,
	}, nil
}

// AliveNodes returns the members currently believed alive, in random order
// so that restarted nodes do not all knock on the same door first.
func (s *Snapshotter) AliveNodes() []*PreviousNode {
	s.mu.Lock()
	nodes := make([]*PreviousNode, 0, len(s.alive))
	for name, addr := range s.alive {
		nodes = append(nodes, &PreviousNode{Name: name, Addr: addr})
	}
	s.mu.Unlock()
	rand.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	return nodes
}

// LastClock is the last member clock value recorded (replayed or written).
func (s *Snapshotter) LastClock() LamportTime {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastClock
}

// LastEventClock is the highest user-event Lamport time recorded.
func (s *Snapshotter) LastEventClock() LamportTime {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastEventClock
}

// LastQueryClock is the highest query Lamport time recorded.
func (s *Snapshotter) LastQueryClock() LamportTime {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastQueryClock
}

// Leave records that this node is leaving gracefully. From then on no
// member, event or query lines are written (clock lines still are), and
// unless rejoinAfterLeave is set the alive set is forgotten. It returns
// once the leave line is on disk, or at shutdown.
func (s *Snapshotter) Leave() {
	done := make(chan struct{})
	select {
	case s.leaveCh <- done:
	case <-s.shutdownCh:
		return
	}
	select {
	case <-done:
	case <-s.shutdownCh:
	}
}

// Wait blocks until, after shutdown, the file is flushed and closed and
// both goroutines have ended.
func (s *Snapshotter) Wait() {
	<-s.done
}

// forward is the goroutine that passes events on. Each event is queued for
// recording first (dropped from the snapshot, with a warning, if the
// recorder is over two thousand events behind), then delivered to outCh.
func (s *Snapshotter) forward() {
	defer close(s.fwdDone)
	defer close(s.recordCh)
	for {
		select {
		case e := <-s.inCh:
			s.queueRecord(e)
			if s.outCh == nil {
				continue
			}
			select {
			case s.outCh <- e:
			case <-s.shutdownCh:
				s.drain()
				return
			}
		case <-s.shutdownCh:
			s.drain()
			return
		}
	}
}

// drain hands on, without blocking, whatever is still queued at shutdown.
func (s *Snapshotter) drain() {
	for {
		select {
		case e := <-s.inCh:
			s.queueRecord(e)
			if s.outCh != nil {
				select {
				case s.outCh <- e:
				default:
				}
			}
		default:
			return
		}
	}
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
				// The forwarder closes the queue only after shutdown.
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
		case <-s.shutdownCh:
			s.finish()
			return
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

// finish records everything accepted before shutdown, then flushes, syncs
// and closes the file. Serf bounds this wait at 250 ms; here no clock is
// needed: once shutdown has begun the forwarder never blocks (it hands over
// what is left in the input without waiting and closes the queue), so
// waiting for it is short, and what it queued is at most the queue's
// capacity of buffered writes. A timer would only let a goroutine that was
// kept off the CPU for a while on a loaded machine drop events.
func (s *Snapshotter) finish() {
	s.recordClock()
	<-s.fwdDone
	s.recordQueued() // the queue is closed: this reads it to the end
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
	if s.leaving || e == nil {
		return
	}
	switch e.EventType() {
	case EventMemberJoin, EventMemberLeave, EventMemberFailed, EventMemberUpdate, EventMemberReap:
		if me, ok := e.(*MemberEvent); ok && me != nil {
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

func (s *Snapshotter) recordMembers(me *MemberEvent) {
	for _, m := range me.Members {
		if strings.ContainsAny(m.Name, "\r\n") {
			// Would break the line format (and could forge records).
			s.logger.Printf("[WARN] serf: Not recording member with a line break in its name: %q", m.Name)
			continue
		}
		switch me.Type {
		case EventMemberJoin:
			addr := (&net.TCPAddr{IP: m.Addr, Port: int(m.Port)}).String()
			s.mu.Lock()
			s.alive[m.Name] = addr
			s.mu.Unlock()
			s.appendLine("alive: " + m.Name + " " + addr + "\n")
		case EventMemberLeave, EventMemberFailed:
			s.mu.Lock()
			delete(s.alive, m.Name)
			s.mu.Unlock()
			s.appendLine("not-alive: " + m.Name + "\n")
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
	return s.w.Flush()
}

// compactThreshold is the file size beyond which the log is compacted.
func (s *Snapshotter) compactThreshold() int64 {
	s.mu.Lock()
	n := int64(len(s.alive))
	s.mu.Unlock()
	return max(n*snapshotBytesPerNode*snapshotCompactFactor, s.minCompactSize)
}

// compact rewrites the snapshot as the alive lines plus the three clocks,
// via a synced temporary file renamed over the old one, and reopens it.
func (s *Snapshotter) compact() error {
	var buf bytes.Buffer
	s.mu.Lock()
	names := make([]string, 0, len(s.alive))
	for name := range s.alive {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&buf, "alive: %s %s\n", name, s.alive[name])
	}
	fmt.Fprintf(&buf, "clock: %d\nevent-clock: %d\nquery-clock: %d\n", s.lastClock, s.lastEventClock, s.lastQueryClock)
	s.mu.Unlock()

	tmp := s.path + snapshotCompactSuffix
	if err := writeSynced(tmp, buf.Bytes()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write compacted snapshot: %w", err)
	}

	// Everything in the old buffer is covered by the compacted content, so
	// a failure to flush it loses nothing.
	if s.fh != nil {
		s.w.Flush()
		s.fh.Close()
		s.fh, s.w = nil, nil
	}
	renameErr := os.Rename(tmp, s.path)
	if renameErr == nil {
		syncDir(filepath.Dir(s.path))
	}
	fh, err := os.OpenFile(s.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0755)
	if err != nil {
		return fmt.Errorf("reopen snapshot: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return fmt.Errorf("stat snapshot: %w", err)
	}
	s.fh, s.w = fh, bufio.NewWriter(fh)
	s.size = st.Size()
	s.lastFlush = time.Now()
	if renameErr != nil {
		return fmt.Errorf("install compacted snapshot: %w", renameErr)
	}
	return nil
}

// writeSynced creates path (mode 0755, like real Serf) holding data, synced.
func writeSynced(path string, data []byte) error {
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_TRUNC|os.O_CREATE, 0755)
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// syncDir makes a rename durable where the platform allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// replayState is what a snapshot file says.
type replayState struct {
	alive                         map[string]string
	clock, eventClock, queryClock LamportTime
	size                          int64 // bytes up to and including the last newline
	torn                          bool  // bytes follow the last newline
	err                           error // read error (not a format problem)
}

// replaySnapshot reads the records in r. Malformed lines are logged and
// skipped; a final line without its newline is ignored and reported as
// torn.
func replaySnapshot(r io.Reader, rejoinAfterLeave bool, logger *log.Logger) replayState {
	st := replayState{alive: make(map[string]string)}
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if err != io.EOF {
				st.err = err
			}
			st.torn = line != ""
			return st
		}
		st.size += int64(len(line))
		line = strings.TrimSuffix(line[:len(line)-1], "\r")
		st.apply(line, rejoinAfterLeave, logger)
	}
}

func (st *replayState) apply(line string, rejoinAfterLeave bool, logger *log.Logger) {
	clockLine := func(rest, what string, dst *LamportTime) {
		v, err := strconv.ParseUint(rest, 10, 64)
		if err != nil {
			logger.Printf("[WARN] serf: Failed to convert %s in snapshot: %v", what, err)
			return
		}
		*dst = LamportTime(v)
	}
	if rest, ok := strings.CutPrefix(line, "alive: "); ok {
		i := strings.LastIndexByte(rest, ' ')
		if i < 0 {
			logger.Printf("[WARN] serf: Failed to parse address: %v", line)
			return
		}
		st.alive[rest[:i]] = rest[i+1:]
	} else if rest, ok := strings.CutPrefix(line, "not-alive: "); ok {
		delete(st.alive, rest)
	} else if rest, ok := strings.CutPrefix(line, "clock: "); ok {
		clockLine(rest, "clock time", &st.clock)
	} else if rest, ok := strings.CutPrefix(line, "event-clock: "); ok {
		clockLine(rest, "event clock time", &st.eventClock)
	} else if rest, ok := strings.CutPrefix(line, "query-clock: "); ok {
		clockLine(rest, "query clock time", &st.queryClock)
	} else if strings.HasPrefix(line, "coordinate: ") || strings.HasPrefix(line, "#") {
		// Legacy coordinate persistence and comments carry nothing.
	} else if line == "leave" {
		if rejoinAfterLeave {
			logger.Printf("[INFO] serf: Ignoring previous leave in snapshot")
			return
		}
		clear(st.alive)
		st.clock, st.eventClock, st.queryClock = 0, 0, 0
	} else {
		logger.Printf("[WARN] serf: Unrecognized snapshot line: %v", line)
	}
}
