package serf

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/serf-clone/serf/internal/atomicfile"
)

// Compaction: once the append-only log outgrows a size proportional to the
// member count, it is rewritten as just the alive, failed and reaped lines and the clocks.

// compactThreshold is the file size beyond which the log is compacted.
func (s *Snapshotter) compactThreshold() int64 {
	s.mu.Lock()
	n := int64(len(s.alive) + len(s.failed) + s.book.len())
	s.mu.Unlock()
	return max(n*snapshotBytesPerNode*snapshotCompactFactor, s.minCompactSize)
}

// compact rewrites the snapshot as the alive, failed and reaped lines plus
// the three clocks,
// via a synced temporary file renamed over the old one, and reopens it.
func (s *Snapshotter) compact() error {
	defer s.metrics.snapshotCompact(time.Now())
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
	names = names[:0]
	for name := range s.failed {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&buf, "not-alive: %s\nfailed: %s %s\n", name, name, s.failed[name])
	}
	for _, p := range s.book.nodes() {
		fmt.Fprintf(&buf, "reaped: %s %s\n", p.Name, p.Addr)
	}
	fmt.Fprintf(&buf, "clock: %d\nevent-clock: %d\nquery-clock: %d\n", s.lastClock, s.lastEventClock, s.lastQueryClock)
	s.mu.Unlock()

	// Everything in the old buffer is covered by the compacted content, so
	// a failure to flush it loses nothing.
	if s.fh != nil {
		s.w.Flush()
		s.fh.Close()
		s.fh, s.w = nil, nil
	}
	// On failure the old file is intact and is reopened below, to be
	// appended to as before.
	installErr := atomicfile.WriteFile(s.path, buf.Bytes(), snapshotFileMode)
	fh, err := os.OpenFile(s.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, snapshotFileMode)
	if err != nil {
		return fmt.Errorf("reopen snapshot: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return fmt.Errorf("stat snapshot: %w", err)
	}
	s.fh, s.w = fh, bufio.NewWriter(fh)
	s.unsynced = installErr != nil // the compacted content was synced before the rename
	s.size = st.Size()
	s.lastFlush = time.Now()
	if installErr != nil {
		return fmt.Errorf("install compacted snapshot: %w", installErr)
	}
	return nil
}
