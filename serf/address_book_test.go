package serf

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAddressBookBounded(t *testing.T) {
	b := newAddressBook(3)
	for i := range 5 {
		b.add(fmt.Sprint("n", i), fmt.Sprint("10.0.0.", i, ":1"))
	}
	b.add("n3", "10.0.0.9:1") // re-adding moves to the newest place
	var got []string
	for _, p := range b.nodes() {
		got = append(got, p.String())
	}
	want := "n2: 10.0.0.2:1,n4: 10.0.0.4:1,n3: 10.0.0.9:1"
	if strings.Join(got, ",") != want {
		t.Fatalf("book %v, want %s", got, want)
	}
	b.remove("n4")
	b.remove("absent")
	if b.len() != 2 {
		t.Fatalf("len %d after remove, want 2", b.len())
	}
}

// A failed member is remembered as failed, a reaped one moves into the
// address book, a join takes it out again, and a leave forgets all of it.
func TestSnapshotReplayFailedAndReaped(t *testing.T) {
	in := "alive: a 10.0.0.1:1\n" +
		"alive: b c 10.0.0.2:1\n" +
		"alive: d 10.0.0.4:1\n" +
		"not-alive: b c\n" +
		"failed: b c 10.0.0.2:1\n" +
		"not-alive: d\n" +
		"failed: d 10.0.0.4:1\n" +
		"reaped: d 10.0.0.4:1\n" +
		"alive: e 10.0.0.5:1\n" +
		"not-alive: e\nfailed: e 10.0.0.5:1\nreaped: e 10.0.0.5:1\n" +
		"alive: e 10.0.0.5:2\n" +
		"failed: broken\n"
	var logs bytes.Buffer
	st := replaySnapshot(strings.NewReader(in), false, log.New(&logs, "", 0))
	if fmt.Sprint(st.alive) != "map[a:10.0.0.1:1 e:10.0.0.5:2]" {
		t.Fatalf("alive %v", st.alive)
	}
	if fmt.Sprint(st.failed) != "map[b c:10.0.0.2:1]" {
		t.Fatalf("failed %v", st.failed)
	}
	if got := aliveMap(st.reaped.nodes()); fmt.Sprint(got) != "map[d:10.0.0.4:1]" {
		t.Fatalf("reaped %v", got)
	}
	if !strings.Contains(logs.String(), "[WARN] serf: Failed to parse address: failed: broken") {
		t.Fatalf("logs: %s", logs.String())
	}

	st = replaySnapshot(strings.NewReader(in+"leave\n"), false, log.New(&logs, "", 0))
	if len(st.alive)+len(st.failed)+st.reaped.len() != 0 {
		t.Fatalf("after leave: %v %v %v", st.alive, st.failed, st.reaped.nodes())
	}
}

// Failed members found at open are handed to the rejoin once and kept from
// then on as address-book entries; compaction keeps every kind.
func TestSnapshotFailedAtOpenMovesToBook(t *testing.T) {
	path := filepath.Join(t.TempDir(), "snap")
	if err := os.WriteFile(path, []byte("alive: a 10.0.0.1:1\nalive: b 10.0.0.2:1\nnot-alive: b\nfailed: b 10.0.0.2:1\n"), 0600); err != nil {
		t.Fatal(err)
	}
	s, err := openSnapshot(path, 1, false, nil, new(LamportClock))
	if err != nil {
		t.Fatal(err)
	}
	if got := aliveMap(s.FailedNodes()); fmt.Sprint(got) != "map[b:10.0.0.2:1]" {
		t.Fatalf("failed nodes %v", got)
	}
	if got := aliveMap(s.ReapedNodes()); fmt.Sprint(got) != "map[b:10.0.0.2:1]" {
		t.Fatalf("book %v", got)
	}
	s.mu.Lock()
	s.failed["c"] = "10.0.0.3:1"
	s.mu.Unlock()
	if err := s.compact(); err != nil {
		t.Fatal(err)
	}
	s.fh.Close()
	got := readFile(t, path)
	want := "alive: a 10.0.0.1:1\nnot-alive: c\nfailed: c 10.0.0.3:1\nreaped: b 10.0.0.2:1\nclock: 0\nevent-clock: 0\nquery-clock: 0\n"
	if got != want {
		t.Fatalf("compacted:\n%s\nwant:\n%s", got, want)
	}
}
