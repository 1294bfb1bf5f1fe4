package serf

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Compaction: once the append-only log outgrows a size proportional to the
// member count, it is rewritten as just the alive lines and the clocks.

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
	s.unsynced = renameErr != nil // the compacted content was synced before the rename
	s.size = st.Size()
	s.lastFlush = time.Now()
	if renameErr != nil {
		return fmt.Errorf("install compacted snapshot: %w", renameErr)
	}
	return nil
}

// writeSynced creates path (snapshotFileMode) holding data, synced. A
// leftover file of that name from an earlier failure is replaced, so its
// mode is set again too.
func writeSynced(path string, data []byte) error {
	os.Remove(path)
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_TRUNC|os.O_CREATE|os.O_EXCL, snapshotFileMode)
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
