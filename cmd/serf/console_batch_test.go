package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serf-clone/serf/serf/serftest"
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

// Lines written before the batch is written go out together, in order,
// in one write; nothing is written before that.
func TestBatchedWriterGathersLinesIntoOneWrite(t *testing.T) {
	out := &syncBuffer{}
	w := newBatchedWriter(out, time.Hour) // only Flush writes
	want := ""
	for i := range 20 {
		line := strings.Repeat(string(rune('a'+i)), 10) + "\n"
		want += line
		if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got, writes := out.read(); got != "" || writes != 0 {
		t.Fatalf("written before the batch: %d writes, %q", writes, got)
	}
	w.Flush()
	if got, writes := out.read(); got != want || writes != 1 {
		t.Fatalf("got %d writes of %q, want one of %q", writes, got, want)
	}
	w.Flush() // nothing held: no empty write
	if _, writes := out.read(); writes != 1 {
		t.Fatalf("an empty flush wrote: %d writes", writes)
	}
}

// Held lines are written by themselves once the delay is over, and the
// next line after that starts a new batch.
func TestBatchedWriterWritesAfterTheDelay(t *testing.T) {
	out := &syncBuffer{}
	w := newBatchedWriter(out, 10*time.Millisecond)
	waitFor := func(want string) {
		t.Helper()
		serftest.Eventually(t, 5*time.Second, func() error {
			if got, _ := out.read(); got != want {
				return fmt.Errorf("console has %q, want %q", got, want)
			}
			return nil
		})
	}
	_, _ = w.Write([]byte("one\n"))
	_, _ = w.Write([]byte("two\n"))
	waitFor("one\ntwo\n")
	_, _ = w.Write([]byte("three\n"))
	waitFor("one\ntwo\nthree\n")
}

// A write that would overfill the batch goes out straight away, after
// what was held before it.
func TestBatchedWriterOverflow(t *testing.T) {
	out := &syncBuffer{}
	w := newBatchedWriter(out, time.Hour)
	_, _ = w.Write([]byte("held\n"))
	big := strings.Repeat("x", consoleBatchMax)
	if n, err := w.Write([]byte(big)); n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got, writes := out.read(); got != "held\n"+big || writes != 2 {
		t.Fatalf("overflow: %d writes, %d bytes", writes, len(got))
	}
}
