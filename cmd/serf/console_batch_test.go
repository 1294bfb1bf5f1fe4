package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that the batched writer's timer and the
// test may use at once, counting the writes it gets.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *syncBuffer) read() (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.writes
}

// Lines written close together reach the console together, in order, in
// one write, once the delay is over; nothing is written before that.
func TestBatchedWriterGathersLinesIntoOneWrite(t *testing.T) {
	out := &syncBuffer{}
	w := newBatchedWriter(out, 30*time.Millisecond)
	want := ""
	for i := range 20 {
		line := strings.Repeat(string(rune('a'+i)), 10) + "\n"
		want += line
		if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got, writes := out.read(); got != "" || writes != 0 {
		t.Fatalf("written before the delay: %d writes, %q", writes, got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, writes := out.read()
		if got != "" {
			if got != want || writes != 1 {
				t.Fatalf("got %d writes of %q, want one of %q", writes, got, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("held lines never written")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// After a flush the next line starts a new batch.
	_, _ = w.Write([]byte("later\n"))
	w.Flush()
	if got, writes := out.read(); got != want+"later\n" || writes != 2 {
		t.Fatalf("after Flush: %d writes, %q", writes, got)
	}
}

// Flush writes at once what is held, and a write that would overfill the
// batch goes out straight away after what was held before it.
func TestBatchedWriterFlushAndOverflow(t *testing.T) {
	out := &syncBuffer{}
	w := newBatchedWriter(out, time.Hour)
	_, _ = w.Write([]byte("first\n"))
	w.Flush()
	if got, _ := out.read(); got != "first\n" {
		t.Fatalf("after Flush: %q", got)
	}
	w.Flush() // nothing held: no empty write
	if _, writes := out.read(); writes != 1 {
		t.Fatalf("an empty flush wrote: %d writes", writes)
	}

	_, _ = w.Write([]byte("held\n"))
	big := strings.Repeat("x", consoleBatchMax)
	if n, err := w.Write([]byte(big)); n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got, writes := out.read(); got != "first\nheld\n"+big || writes != 3 {
		t.Fatalf("overflow: %d writes, %d bytes", writes, len(got))
	}
}
