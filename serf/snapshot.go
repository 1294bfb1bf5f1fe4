package serf

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"
)

// Snapshots, by file:
//
//	snapshot.go          the format, Snapshotter, opening and its public API
//	snapshot_replay.go   reading a snapshot back at start-up
//	snapshot_record.go   the forwarding stage and the recorder that appends
//	snapshot_compact.go  rewriting an overgrown file

// The snapshot file lets a restarted agent find its cluster again and not
// replay old events. It is a plain append-only text log, one record per
// line, compatible with the files real Serf writes:
//
//	alive: NAME IP:PORT     a member joined (NAME may contain spaces)
//	not-alive: NAME         a member left or failed
//	failed: NAME IP:PORT    a member failed (after its not-alive line)
//	reaped: NAME IP:PORT    a failed member was reaped: an address-book entry
//	clock: N                member Lamport clock minus one
//	event-clock: N          highest user-event Lamport time seen
//	query-clock: N          highest query Lamport time seen
//	leave                   this node left gracefully
//	# ...                   comment
//	coordinate: ...         written by old versions, ignored
//
// Replaying the log in order yields the set of members last known alive,
// those failed and not yet reaped, the address book of members reaped
// after failing (bounded, oldest dropped first), and the three clocks.
// When the log outgrows a size proportional to the member count it is
// compacted: rewritten as just the alive, failed and reaped lines and the
// clocks. The failed and reaped lines are ours (serf#333, serf#605): real
// Serf's replay skips a line it does not know with a warning
// ("Unrecognized snapshot line"), so it still reads our files, seeing a
// failed member as not alive, as it would have written it. Failed members
// replayed at start are tried once more by the rejoin, then moved to the
// address book, so a member that never comes back is bounded by its size.

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

	// snapshotQueueSize is the capacity of the snapshot stage's input and
	// of the queue between that stage and the recorder.
	snapshotQueueSize = 2048

	// snapshotFileMode is the mode of a snapshot file we create, and of a
	// compacted one: owner only, like the keyring file. (Real Serf uses
	// 0644, and 0755 after compaction; the file names the cluster's
	// members and addresses.)
	snapshotFileMode = 0600
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
// stage of the event pipeline. It runs two goroutines: a pipeline stage
// (stage.go) that forwards events and hands them to the recorder, which
// owns the file (snapshot_record.go). Member events are recorded behind
// delivery, so a slow disk never delays them. A user event or query that
// advances its clock is held until its clock line is written and fsynced,
// so no event handled before a crash (of the process or the machine) is
// handled again after a restart on the file. That costs one fsync per
// clock advance (about 0.25 ms on an ordinary SSD, see
// BenchmarkSnapshotRecordUserEvent), far below the rate at which gossip
// can bring user events and queries in; other lines are flushed every
// snapshotFlushInterval and fsynced on the recorder's next tick. The
// recorder ends once the stage has; Wait returns when the file is flushed,
// synced and closed.
type Snapshotter struct {
	path             string
	minCompactSize   int64
	rejoinAfterLeave bool
	logger           *log.Logger
	metrics          serfMetrics // the zero value reports to the global registry
	clock            *LamportClock
	shutdownCh       <-chan struct{} // Leave gives up when it closes

	recordCh chan Event         // stage -> recorder; closed when the stage ends
	leaveCh  chan chan struct{} // Leave -> recorder, closed back when synced
	done     chan struct{}      // closed when the recorder has ended

	// mu guards what the exported accessors read; only the recorder
	// goroutine (or the constructor, before it starts) writes it.
	mu             sync.Mutex
	alive          map[string]string
	failed         map[string]string // failed members, not yet reaped
	book           *addressBook      // members reaped after failing
	prevFailed     []*PreviousNode   // failed members the file had at start
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
	bookOff      bool // AddressBookSize 0: reaped members are not kept
	unsynced     bool // lines were flushed to the file since its last fsync

	// Owned by the forwarding stage: the highest user-event and query
	// times it has had written to the file before passing them on.
	stageEventClock LamportTime
	stageQueryClock LamportTime

	// Owned by the forwarding stage: set while records are being dropped,
	// so that a backlog logs one warning rather than thousands.
	dropping bool
}

// NewSnapshotter opens (creating if needed) the snapshot at path, replays
// it, and starts recording. Events sent on the returned channel are
// recorded and forwarded to outCh (which may be nil); everything stops
// when shutdownCh closes. minCompactSize is the smallest file size that
// triggers compaction. With rejoinAfterLeave, a leave found in the file is
// ignored so the node rejoins its old cluster.
func NewSnapshotter(path string, minCompactSize int, rejoinAfterLeave bool, logger *log.Logger,
	clock *LamportClock, outCh chan<- Event, shutdownCh <-chan struct{}) (chan<- Event, *Snapshotter, error) {
	s, err := openSnapshot(path, minCompactSize, rejoinAfterLeave, logger, clock)
	if err != nil {
		return nil, nil, err
	}
	st := s.start(outCh, shutdownCh, shutdownCh)
	return st.in, s, nil
}

// start runs the recorder and the forwarding stage, which feeds outCh and
// stops when stop closes. Leave gives up once shutdownCh closes.
func (s *Snapshotter) start(outCh chan<- Event, stop, shutdownCh <-chan struct{}) *stage {
	s.shutdownCh = shutdownCh
	go s.record()
	return startStage(snapshotForwarding{s}, snapshotQueueSize, outCh, stop)
}

// openSnapshot opens and replays the file without starting goroutines.
func openSnapshot(path string, minCompactSize int, rejoinAfterLeave bool, logger *log.Logger,
	clock *LamportClock) (*Snapshotter, error) {
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, snapshotFileMode)
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
	s := &Snapshotter{
		path:             path,
		minCompactSize:   int64(minCompactSize),
		rejoinAfterLeave: rejoinAfterLeave,
		logger:           logger,
		clock:            clock,
		recordCh:         make(chan Event, snapshotQueueSize),
		leaveCh:          make(chan chan struct{}),
		done:             make(chan struct{}),
		alive:            st.alive,
		lastClock:        st.clock,
		lastEventClock:   st.eventClock,
		lastQueryClock:   st.queryClock,
		stageEventClock:  st.eventClock,
		stageQueryClock:  st.queryClock,
		fh:               fh,
		w:                bufio.NewWriter(fh),
		size:             st.size,
		failed:           make(map[string]string),
		book:             st.reaped,
	}
	s.book.trim(defaultAddressBookSize)
	// Failed members from the last run are handed to the rejoin once, and
	// from now on kept as address-book entries.
	names := make([]string, 0, len(st.failed))
	for name := range st.failed {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		s.prevFailed = append(s.prevFailed, &PreviousNode{Name: name, Addr: st.failed[name]})
		s.book.add(name, st.failed[name])
		s.appendLine("reaped: " + name + " " + st.failed[name] + "\n")
	}
	return s, nil
}

// defaultAddressBookSize bounds the address book of a Snapshotter made by
// NewSnapshotter (Serf's default AddressBookSize).
const defaultAddressBookSize = 256

// setBookSize bounds the address book to n entries (0: keep none, and
// record no reaped members). Before start only.
func (s *Snapshotter) setBookSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		s.book = newAddressBook(0)
		s.bookOff = true
		return
	}
	s.book.trim(n)
}

// FailedNodes returns the members the snapshot had as failed (and not yet
// reaped) when it was opened, in random order.
func (s *Snapshotter) FailedNodes() []*PreviousNode {
	s.mu.Lock()
	nodes := append([]*PreviousNode(nil), s.prevFailed...)
	s.mu.Unlock()
	rand.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
	return nodes
}

// ReapedNodes returns the address book: members reaped after failing,
// oldest first.
func (s *Snapshotter) ReapedNodes() []*PreviousNode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.book.nodes()
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

// Wait blocks until, after shutdown, the forwarding stage has ended and the
// recorder has flushed and closed the file.
func (s *Snapshotter) Wait() {
	<-s.done
}
