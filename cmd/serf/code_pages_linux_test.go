package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestParseMapsLine(t *testing.T) {
	for _, c := range []struct {
		line string
		ok   bool
		want mapping
	}{
		{"00400000-00973000 r-xp 00000000 fd:01 1234     /usr/bin/serf", true,
			mapping{0x400000, 0x973000, "r-xp", "/usr/bin/serf"}},
		{"7f00cc8e0000-7f00ccc00000 rw-p 00000000 00:00 0 ", true,
			mapping{0x7f00cc8e0000, 0x7f00ccc00000, "rw-p", ""}},
		{"00973000-00f67000 r--p 00573000 fd:01 1234   /tmp/my dir/serf (deleted)", true,
			mapping{0x973000, 0xf67000, "r--p", "/tmp/my dir/serf (deleted)"}},
		{"00973000-00f67000 r--p", false, mapping{}},
		{"zz-00f67000 r--p 0 fd:01 1 /x", false, mapping{}},
		{"00f67000-00973000 r--p 0 fd:01 1 /x", false, mapping{}}, // end before start
	} {
		got, ok := parseMapsLine(c.line)
		if ok != c.ok || got != c.want {
			t.Errorf("parseMapsLine(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

// codePagesProbe lives in the binary's writable data, which
// releaseCodePages must leave alone: there MADV_DONTNEED would bring back
// the value from the file.
var codePagesProbe = 7

func TestReleaseCodePagesUnmapsOnlyReadOnlyPages(t *testing.T) {
	codePagesProbe = 42
	before := rssFileKiB(t)
	released, err := releaseCodePages()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFileKiB(t)
	if released == 0 {
		t.Fatal("no read-only mapping of the executable found")
	}
	// The test binary's start-up left most of its code resident; what runs
	// between the release and the read maps back only a little of it.
	if after >= before {
		t.Errorf("file-backed resident %d KiB before, %d KiB after releasing %d KiB of mappings", before, after, released>>10)
	}
	t.Logf("file-backed resident: %d KiB before, %d KiB after", before, after)
	if codePagesProbe != 42 {
		t.Errorf("a write to the binary's data was lost: %d", codePagesProbe)
	}
}

func rssFileKiB(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
