package serf

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkSnapshotRecordJoin64 records a 64-node cluster joining (one
// event per node), the common burst at agent start, without goroutines.
func BenchmarkSnapshotRecordJoin64(b *testing.B) {
	s, err := openSnapshot(filepath.Join(b.TempDir(), "snap"), 128*1024, false, nil, new(LamportClock))
	if err != nil {
		b.Fatal(err)
	}
	defer s.fh.Close()
	events := make([]Event, 64)
	for i := range events {
		events[i] = MemberEvent{Type: EventMemberJoin, Members: []Member{member(fmt.Sprintf("node-%02d", i), "10.0.0.1", uint16(7000+i))}}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range events {
			s.recordEvent(e)
		}
	}
}

// BenchmarkSnapshotCompact64 rewrites the snapshot of a 64-node cluster
// (includes the fsync, so it mostly measures the disk).
func BenchmarkSnapshotCompact64(b *testing.B) {
	s, err := openSnapshot(filepath.Join(b.TempDir(), "snap"), 128*1024, false, nil, new(LamportClock))
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if s.fh != nil {
			s.fh.Close()
		}
	}()
	for i := range 64 {
		s.alive[fmt.Sprintf("node-%02d", i)] = fmt.Sprintf("10.0.0.1:%d", 7000+i)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.compact(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSnapshotRecordUserEvent is the cost, on the snapshot stage, of a
// user event that advances the event clock: its line is written and the
// file fsynced before the event is passed on (so it mostly measures the
// disk's fsync).
func BenchmarkSnapshotRecordUserEvent(b *testing.B) {
	s, err := openSnapshot(filepath.Join(b.TempDir(), "snap"), 128*1024, false, nil, new(LamportClock))
	if err != nil {
		b.Fatal(err)
	}
	defer s.fh.Close()
	lt := LamportTime(0)
	b.ReportAllocs()
	for b.Loop() {
		lt++
		s.recordEvent(syncedRecord{Event: UserEvent{LTime: lt, Name: "deploy"}, done: make(chan struct{})})
	}
}
