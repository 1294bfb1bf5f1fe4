package cluster

import "testing"

// Len and From read the buffer's newest part by offset, as a long bench
// reads each agent's log written since a mark.
func TestSyncBufferFrom(t *testing.T) {
	var b SyncBuffer
	_, _ = b.Write([]byte("before\n"))
	mark := b.Len()
	_, _ = b.Write([]byte("after\n"))
	for _, c := range []struct {
		off  int
		want string
	}{
		{mark, "after\n"},
		{0, "before\nafter\n"},
		{-1, "before\nafter\n"},
		{b.Len(), ""},
		{b.Len() + 5, ""},
	} {
		if got := b.From(c.off); got != c.want {
			t.Errorf("From(%d) = %q, want %q", c.off, got, c.want)
		}
	}
	if mark != len("before\n") {
		t.Errorf("Len = %d, want %d", mark, len("before\n"))
	}
}
