package cluster

import "testing"

// Since returns only what came after the offset, and nothing for an offset
// at or past the end.
func TestSyncBufferSince(t *testing.T) {
	var b SyncBuffer
	_, _ = b.Write([]byte("log line\n"))
	off := b.Len()
	_, _ = b.Write([]byte("[C] 'x': Count: 1 Sum: 2\n"))
	if got := b.Since(off); got != "[C] 'x': Count: 1 Sum: 2\n" {
		t.Fatalf("Since(%d) = %q", off, got)
	}
	if got := b.Since(b.Len()); got != "" {
		t.Fatalf("Since(end) = %q", got)
	}
	if got := b.Since(-1); got != b.String() {
		t.Fatalf("Since(-1) = %q", got)
	}
}
