package serf

import (
	"bytes"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// snapTestQuery stands in for *Query, which lives on another branch.
type snapTestQuery struct {
	ltime LamportTime
	name  string
}

func (q *snapTestQuery) EventType() EventType    { return EventQuery }
func (q *snapTestQuery) String() string          { return "query: " + q.name }
func (q *snapTestQuery) queryLTime() LamportTime { return q.ltime }

type snapHarness struct {
	t        *testing.T
	path     string
	clock    *LamportClock
	logs     *syncBuffer
	out      chan Event
	shutdown chan struct{}
	in       chan<- Event
	snap     *Snapshotter
}

func startSnap(t *testing.T, path string, rejoin bool, minCompact int, out chan Event) *snapHarness {
	t.Helper()
	h := &snapHarness{
		t:        t,
		path:     path,
		clock:    new(LamportClock),
		logs:     new(syncBuffer),
		out:      out,
		shutdown: make(chan struct{}),
	}
	var outCh chan<- Event
	if out != nil {
		outCh = out
	}
	in, snap, err := NewSnapshotter(path, minCompact, rejoin, log.New(h.logs, "", 0), h.clock, outCh, h.shutdown)
	if err != nil {
		t.Fatal(err)
	}
	h.in, h.snap = in, snap
	t.Cleanup(h.stop)
	return h
}

// stop shuts the snapshotter down and waits for it; safe to call twice.
func (h *snapHarness) stop() {
	select {
	case <-h.shutdown:
	default:
		close(h.shutdown)
	}
	done := make(chan struct{})
	go func() { h.snap.Wait(); close(done) }()
	waitClosed(h.t, done, "snapshotter Wait")
}

// send passes e through the snapshotter and checks it comes out unchanged.
func (h *snapHarness) send(e Event) {
	h.t.Helper()
	h.in <- e
	if h.out == nil {
		return
	}
	got := recvEvent(h.t, h.out)
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", e) {
		h.t.Fatalf("forwarded %#v, want %#v", got, e)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func member(name, ip string, port uint16) Member {
	return Member{Name: name, Addr: net.ParseIP(ip), Port: port}
}

func aliveMap(nodes []*PreviousNode) map[string]string {
	m := make(map[string]string)
	for _, n := range nodes {
		m[n.Name] = n.Addr
	}
	return m
}

func checkAlive(t *testing.T, s *Snapshotter, want map[string]string) {
	t.Helper()
	got := aliveMap(s.AliveNodes())
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("alive nodes %v, want %v", got, want)
	}
}

func checkClocks(t *testing.T, s *Snapshotter, clock, event, query LamportTime) {
	t.Helper()
	if s.LastClock() != clock || s.LastEventClock() != event || s.LastQueryClock() != query {
		t.Fatalf("clocks (member, event, query) = (%d, %d, %d), want (%d, %d, %d)",
			s.LastClock(), s.LastEventClock(), s.LastQueryClock(), clock, event, query)
	}
}

func TestSnapshotWriteAndReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	h := startSnap(t, path, false, 128*1024, make(chan Event, 64))
	h.clock.Witness(9) // clock now 10: the last used time is 9

	h.send(MemberEvent{Type: EventMemberJoin, Members: []Member{member("a", "127.0.0.1", 7946)}})
	h.send(MemberEvent{Type: EventMemberJoin, Members: []Member{
		member("b", "::1", 7947), member("node with spaces", "10.0.0.1", 1)}})
	h.send(UserEvent{LTime: 3, Name: "deploy", Coalesce: true})
	h.send(UserEvent{LTime: 2, Name: "older"}) // not beyond 3: no line
	h.send(&snapTestQuery{ltime: 4, name: "q"})
	h.send(&snapTestQuery{ltime: 4, name: "again"}) // not beyond 4: no line
	h.send(MemberEvent{Type: EventMemberFailed, Members: []Member{member("b", "::1", 7947)}})
	h.send(MemberEvent{Type: EventMemberUpdate, Members: []Member{member("a", "127.0.0.1", 7946)}})
	h.send(MemberEvent{Type: EventMemberReap, Members: []Member{member("b", "::1", 7947)}})
	h.stop()

	// The clock is checked after every member event and also by a
	// periodic tick (COMPAT §6.7), so "clock: 9" is written exactly once,
	// either by a tick that beat the first join or right after that join's
	// line; never later, since the first member event checks the clock.
	got := readFile(t, path)
	lines := strings.SplitAfter(got, "\n")
	clockAt := slices.Index(lines, "clock: 9\n")
	if clockAt < 0 || clockAt > 1 || strings.Count(got, "clock: 9\n") != 1 {
		t.Fatalf("want one \"clock: 9\" line, first or right after the first alive line:\n%s", got)
	}
	lines = slices.Delete(lines, clockAt, clockAt+1)
	want := "alive: a 127.0.0.1:7946\n" +
		"alive: b [::1]:7947\n" +
		"alive: node with spaces 10.0.0.1:1\n" +
		"event-clock: 3\n" +
		"query-clock: 4\n" +
		"not-alive: b\n" +
		"failed: b [::1]:7947\n" +
		"reaped: b [::1]:7947\n"
	if rest := strings.Join(lines, ""); rest != want {
		t.Fatalf("snapshot file:\n%s\nwant (besides the clock line):\n%s", got, want)
	}

	again := startSnap(t, path, false, 128*1024, nil)
	checkAlive(t, again.snap, map[string]string{"a": "127.0.0.1:7946", "node with spaces": "10.0.0.1:1"})
	checkClocks(t, again.snap, 9, 3, 4)
	if got := aliveMap(again.snap.ReapedNodes()); fmt.Sprint(got) != "map[b:[::1]:7947]" {
		t.Fatalf("address book %v, want b", got)
	}
	if logs := again.logs.String(); logs != "" {
		t.Fatalf("replay of our own file logged:\n%s", logs)
	}
}

func TestSnapshotLeave(t *testing.T) {
	for _, rejoin := range []bool{false, true} {
		t.Run(fmt.Sprintf("rejoin=%v", rejoin), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "snap")
			h := startSnap(t, path, rejoin, 128*1024, make(chan Event, 64))
			h.clock.Witness(4)
			h.send(MemberEvent{Type: EventMemberJoin, Members: []Member{member("a", "127.0.0.1", 1)}})
			h.send(UserEvent{LTime: 5, Name: "e"})
			h.send(&snapTestQuery{ltime: 6})

			h.snap.Leave()
			if !strings.HasSuffix(readFile(t, path), "leave\n") {
				t.Fatalf("leave not on disk when Leave returned:\n%s", readFile(t, path))
			}
			if rejoin {
				checkAlive(t, h.snap, map[string]string{"a": "127.0.0.1:1"})
			} else {
				checkAlive(t, h.snap, map[string]string{})
			}

			// Still forwarded, but no longer recorded.
			h.send(MemberEvent{Type: EventMemberJoin, Members: []Member{member("b", "127.0.0.1", 2)}})
			h.send(UserEvent{LTime: 50, Name: "late"})
			h.send(&snapTestQuery{ltime: 60})
			// Clock lines still are.
			h.clock.Witness(19)
			h.stop()

			got := readFile(t, path)
			wantTail := "leave\nclock: 19\n"
			if !strings.HasSuffix(got, wantTail) || strings.Contains(got, "alive: b") ||
				strings.Contains(got, "50") || strings.Contains(got, "60") {
				t.Fatalf("file after leave:\n%s", got)
			}

			again := startSnap(t, path, rejoin, 128*1024, nil)
			if rejoin {
				checkAlive(t, again.snap, map[string]string{"a": "127.0.0.1:1"})
				checkClocks(t, again.snap, 19, 5, 6)
				if !strings.Contains(again.logs.String(), "[INFO] serf: Ignoring previous leave in snapshot\n") {
					t.Fatalf("missing ignore-leave log, got:\n%s", again.logs.String())
				}
			} else {
				checkAlive(t, again.snap, map[string]string{})
				checkClocks(t, again.snap, 19, 0, 0) // reset by leave, then clock: 19
			}
		})
	}
}

func TestSnapshotCompaction(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snap")
	const minCompact = 1024
	h := startSnap(t, path, false, minCompact, nil)
	h.in <- MemberEvent{Type: EventMemberJoin, Members: []Member{member("a", "10.0.0.1", 1), member("b", "10.0.0.2", 2)}}
	for i := range 300 {
		h.clock.Increment()
		typ := EventMemberJoin
		if i%2 == 1 {
			typ = EventMemberFailed
		}
		h.in <- MemberEvent{Type: typ, Members: []Member{member("flappy", "10.0.0.3", 3)}}
		h.in <- UserEvent{LTime: LamportTime(i + 1), Name: "e"}
	}
	h.stop()

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// ~300 * 60 bytes were appended; compaction keeps the file near the
	// threshold.
	if info.Size() > 2*minCompact {
		t.Fatalf("snapshot is %d bytes, compaction did not keep it near %d", info.Size(), minCompact)
	}
	if _, err := os.Stat(path + ".compact"); !os.IsNotExist(err) {
		t.Fatalf("temporary compaction file left behind (stat err %v)", err)
	}

	again := startSnap(t, path, false, minCompact, nil)
	checkAlive(t, again.snap, map[string]string{"a": "10.0.0.1:1", "b": "10.0.0.2:2"})
	checkClocks(t, again.snap, 299, 300, 0)
}

func TestSnapshotCompactThreshold(t *testing.T) {
	s, err := openSnapshot(filepath.Join(t.TempDir(), "snap"), 1000, false, nil, new(LamportClock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.fh.Close()
	if got := s.compactThreshold(); got != 1000 {
		t.Fatalf("threshold with no members = %d, want the minimum 1000", got)
	}
	for i := range 64 {
		s.alive[fmt.Sprint(i)] = "x"
	}
	if got := s.compactThreshold(); got != 64*128*2 {
		t.Fatalf("threshold with 64 members = %d, want %d", got, 64*128*2)
	}
}

func TestSnapshotReplayGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	content := "# written by hand\n" +
		"alive: a 127.0.0.1:1\n" +
		"alive: gone 127.0.0.1:2\n" +
		"alive: noaddress\n" +
		"not-alive: gone\n" +
		"coordinate: {\"Vec\":[0,0]}\n" +
		"clock: 12\n" +
		"clock: twelve\n" +
		"event-clock: -1\n" +
		"event-clock: 7\n" +
		"query-clock: 99999999999999999999999\n" +
		"garbage here\n" +
		"\n" +
		"\x00\xff\xfe binary\n" +
		"alive: b [::1]:3\r\n" +
		"clock: 13" // torn: no newline
	if err := os.WriteFile(path, []byte(content), 0644); err != nil {
		t.Fatal(err)
	}
	h := startSnap(t, path, false, 128*1024, nil)
	checkAlive(t, h.snap, map[string]string{"a": "127.0.0.1:1", "b": "[::1]:3"})
	checkClocks(t, h.snap, 12, 7, 0)

	logs := h.logs.String()
	for _, want := range []string{
		"[WARN] serf: Unrecognized snapshot line: garbage here\n",
		"[WARN] serf: Unrecognized snapshot line: \n",
		"[WARN] serf: Unrecognized snapshot line: \x00\xff\xfe binary\n",
		"[WARN] serf: Failed to parse address: alive: noaddress\n",
		"[WARN] serf: Dropping incomplete last line of snapshot",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q; got:\n%s", want, logs)
		}
	}
	if n := strings.Count(logs, "[WARN] serf: Failed to convert"); n != 3 {
		t.Errorf("%d bad-number warnings, want 3; got:\n%s", n, logs)
	}

	// The torn line is gone, and new lines start on a line of their own.
	h.clock.Witness(20)
	h.stop()
	got := readFile(t, path)
	if !strings.HasSuffix(got, "alive: b [::1]:3\r\nclock: 20\n") {
		t.Fatalf("file tail after reopening a torn snapshot:\n%q", got[max(0, len(got)-60):])
	}
}

func FuzzReplaySnapshot(f *testing.F) {
	f.Add([]byte("alive: a 1.2.3.4:5\nclock: 3\nleave\nnot-alive: a\n"))
	f.Add([]byte("event-clock: 18446744073709551615\nquery-clock: x\nalive: \n"))
	f.Add([]byte("\n\n\r\n#\nalive: a b c d\n"))
	logger := log.New(bytes.NewBuffer(nil), "", 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rejoin := range []bool{false, true} {
			st := replaySnapshot(bytes.NewReader(data), rejoin, logger)
			if st.err != nil {
				t.Fatal(st.err)
			}
			if st.size > int64(len(data)) || (st.size < int64(len(data))) != st.torn {
				t.Fatalf("size %d torn %v for %d bytes", st.size, st.torn, len(data))
			}
			if st.size > 0 && data[st.size-1] != '\n' {
				t.Fatalf("size %d does not end at a newline", st.size)
			}
		}
	})
}

func TestSnapshotPeriodicClockAndFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	h := startSnap(t, path, false, 128*1024, nil)
	// No events at all: the periodic check alone writes the clock, and the
	// periodic flush gets it to disk without waiting for shutdown.
	h.clock.Witness(40)
	eventually(t, testWait, func() error {
		if got := readFile(t, path); !strings.Contains(got, "clock: 40\n") {
			return fmt.Errorf("no clock: 40 on disk: %q", got)
		}
		return nil
	})
	h.clock.Witness(98)
	eventually(t, testWait, func() error {
		if got := readFile(t, path); !strings.HasSuffix(got, "clock: 40\nclock: 98\n") {
			return fmt.Errorf("no clock: 98 after clock: 40 on disk: %q", got)
		}
		return nil
	})
}

func TestSnapshotClockZeroWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	h := startSnap(t, path, false, 128*1024, nil)
	h.send(MemberEvent{Type: EventMemberUpdate, Members: []Member{member("a", "127.0.0.1", 1)}})
	h.stop()
	if got := readFile(t, path); got != "" {
		t.Fatalf("file written with a zero clock: %q", got)
	}
}

func TestSnapshotStuckConsumerDoesNotBlockShutdown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	out := make(chan Event) // nobody reads
	shutdown := make(chan struct{})
	in, snap, err := NewSnapshotter(path, 128*1024, false, nil, new(LamportClock), out, shutdown)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		in <- UserEvent{LTime: LamportTime(i + 1), Name: "e"}
	}
	close(shutdown)
	done := make(chan struct{})
	go func() { snap.Wait(); close(done) }()
	waitClosed(t, done, "Wait with a stuck consumer")
	snap.Leave() // after shutdown: returns at once
	// Recording does not depend on delivery.
	if got := readFile(t, path); !strings.Contains(got, "event-clock: 10\n") {
		t.Fatalf("events not recorded:\n%s", got)
	}
}

func TestSnapshotUnknownEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	h := startSnap(t, path, false, 128*1024, make(chan Event, 4))
	h.send(MemberEvent{Type: EventQuery}) // wrong type for a member event
	h.send(plainQuery{})                  // a query without queryLTime
	h.stop()
	if n := strings.Count(h.logs.String(), "[ERR] serf: Unknown event to snapshot"); n != 2 {
		t.Fatalf("%d unknown-event errors, want 2:\n%s", n, h.logs.String())
	}
	if got := readFile(t, path); got != "" {
		t.Fatalf("unknown events recorded: %q", got)
	}
}

type plainQuery struct{}

func (plainQuery) EventType() EventType { return EventQuery }
func (plainQuery) String() string       { return "query: plain" }

func TestSnapshotRejectsLineBreakNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	h := startSnap(t, path, false, 128*1024, nil)
	h.clock.Witness(1)
	h.in <- MemberEvent{Type: EventMemberJoin, Members: []Member{member("evil\nleave", "127.0.0.1", 1), member("ok", "127.0.0.1", 2)}}
	h.stop()
	got := readFile(t, path)
	if strings.Contains(got, "evil") || !strings.Contains(got, "alive: ok 127.0.0.1:2\n") {
		t.Fatalf("file:\n%s", got)
	}
}

func TestSnapshotRecoveryCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	logs := new(syncBuffer)
	s, err := openSnapshot(path, 128*1024, false, log.New(logs, "", 0), new(LamportClock))
	if err != nil {
		t.Fatal(err)
	}
	s.alive["a"] = "127.0.0.1:1"
	s.lastEventClock = 5
	s.fh.Close() // make the next flush fail

	s.appendLine("not-alive: x\n")
	if !strings.Contains(logs.String(), "[ERR] serf: Failed to update snapshot") ||
		!strings.Contains(logs.String(), "successfully recovered") {
		t.Fatalf("no recovery:\n%s", logs.String())
	}
	want := "alive: a 127.0.0.1:1\nclock: 0\nevent-clock: 5\nquery-clock: 0\n"
	if got := readFile(t, path); got != want {
		t.Fatalf("recovered file %q, want %q", got, want)
	}
	// Writing works again.
	s.lastFlush = time.Time{}
	s.appendLine("clock: 1\n")
	if got := readFile(t, path); got != want+"clock: 1\n" {
		t.Fatalf("after recovery: %q", got)
	}
	// A second failure soon after is not followed by another compaction.
	s.fh.Close()
	s.lastFlush = time.Time{}
	s.appendLine("clock: 2\n")
	if n := strings.Count(logs.String(), "Attempting compaction"); n != 1 {
		t.Fatalf("%d recovery attempts within the interval, want 1", n)
	}
}

func TestSnapshotAliveNodesOrderIsRandom(t *testing.T) {
	s, err := openSnapshot(filepath.Join(t.TempDir(), "snap"), 128*1024, false, nil, new(LamportClock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.fh.Close()
	for i := range 16 {
		s.alive[fmt.Sprint(i)] = "x"
	}
	first := s.AliveNodes()
	for range 20 {
		again := s.AliveNodes()
		if !slices.EqualFunc(first, again, func(a, b *PreviousNode) bool { return a.Name == b.Name }) {
			return
		}
	}
	t.Fatal("AliveNodes returned the same order 20 times")
}

func TestPreviousNodeString(t *testing.T) {
	if got := (PreviousNode{Name: "a", Addr: "127.0.0.1:1"}).String(); got != "a: 127.0.0.1:1" {
		t.Fatalf("got %q", got)
	}
}

// copyFile is what a crash leaves: the file as it is on disk now.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.WriteFile(to, []byte(readFile(t, from)), 0600); err != nil {
		t.Fatal(err)
	}
}

// By the time a user event or query leaves the snapshot stage, its clock
// is in the file: a crash right after it was handled (the file copied as
// it is, nothing flushed at shutdown) still remembers it.
func TestSnapshotClocksAreOnDiskBeforeDelivery(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snap")
	h := startSnap(t, path, false, 1<<20, make(chan Event, 16))
	for lt := LamportTime(5); lt < 8; lt++ {
		h.send(UserEvent{LTime: lt, Name: "deploy"})
		h.send(&snapTestQuery{ltime: lt + 10, name: "q"})
	}
	crash := filepath.Join(dir, "crash")
	copyFile(t, path, crash)

	s, err := openSnapshot(crash, 1<<20, false, nil, new(LamportClock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.fh.Close()
	if s.LastEventClock() != 7 || s.LastQueryClock() != 17 {
		t.Fatalf("after a crash the snapshot remembers event clock %d and query clock %d, want 7 and 17:\n%s",
			s.LastEventClock(), s.LastQueryClock(), readFile(t, crash))
	}
}

// Snapshot files, written or compacted, are readable by their owner only
// (as the keyring file is).
func TestSnapshotFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snap")
	h := startSnap(t, path, false, 1<<20, nil)
	h.send(UserEvent{LTime: 1, Name: "x"})
	h.stop()
	mode := func() os.FileMode {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode().Perm()
	}
	if m := mode(); m != 0600 {
		t.Fatalf("new snapshot mode %o, want 600", m)
	}
	s, err := openSnapshot(path, 1<<20, false, nil, new(LamportClock))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if s.fh != nil {
			s.fh.Close()
		}
	}()
	if err := s.compact(); err != nil {
		t.Fatal(err)
	}
	if m := mode(); m != 0600 {
		t.Fatalf("compacted snapshot mode %o, want 600", m)
	}
	if entries, err := os.ReadDir(filepath.Dir(path)); err != nil || len(entries) != 1 {
		t.Fatalf("want only the snapshot in its directory, got %v (%v)", entries, err)
	}
}
