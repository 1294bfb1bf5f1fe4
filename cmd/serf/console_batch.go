package main

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// consoleBatchDelay is how long the agent's console holds a line before
// writing it: short enough that nobody watching can tell, long enough to
// gather a storm's burst of lines into one write.
const consoleBatchDelay = 50 * time.Millisecond

// consoleBatchMax is how much the console holds at most; a write that
// would take it past this writes everything at once.
const consoleBatchMax = 64 << 10

// batchedWriter is the agent's console (its log lines and messages): what
// is written is held for up to a delay and then written with one system
// call.
//
// In a join storm an agent logs a line for every member that joins, most
// of them from inside memberlist's node lock. On a machine where hundreds
// of agents compete for two CPUs, a thread is often descheduled inside
// such a write; Go's sysmon then takes the agent's one P from it, wakes
// another thread to run it, and goes back to polling every 20 µs: several
// context switches per line, on every agent. Gathering the lines of 50 ms
// into one write measured about 14 % less CPU over a storm of 256, and
// the last agent converged sooner in six storms of seven (BENCHMARKS.md,
// session 20).
//
// Flush writes what is held at once; run calls it when the command
// returns. A crash of the process loses at most the last delay's lines.
type batchedWriter struct {
	out   io.Writer
	delay time.Duration

	mu      sync.Mutex
	held    bytes.Buffer
	pending *time.Timer // armed while held is not empty
}

func newBatchedWriter(out io.Writer, delay time.Duration) *batchedWriter {
	return &batchedWriter{out: out, delay: delay}
}

// Write holds p until the delay since the oldest held byte is over. It
// never fails: like the console's UI, whose callers ignore write errors,
// a console that cannot be written loses its lines.
func (w *batchedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held.Len()+len(p) > consoleBatchMax {
		w.writeHeldLocked()
		_, _ = w.out.Write(p)
		return len(p), nil
	}
	w.held.Write(p)
	if w.pending == nil {
		w.pending = time.AfterFunc(w.delay, w.Flush)
	}
	return len(p), nil
}

// Flush writes whatever is held now.
func (w *batchedWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writeHeldLocked()
}

func (w *batchedWriter) writeHeldLocked() {
	if w.pending != nil {
		w.pending.Stop()
		w.pending = nil
	}
	if w.held.Len() > 0 {
		_, _ = w.out.Write(w.held.Bytes())
		w.held.Reset()
	}
}
