package agent

import (
	"io"
	"sync"
)

// consoleGate stands between the log sink and the console: it holds log
// lines back until Flush, then passes everything through, so that nothing
// interleaves with the agent's startup banner.
type consoleGate struct {
	mu   sync.Mutex
	w    io.Writer
	held [][]byte
	open bool
}

// newConsoleGate returns a closed gate in front of w.
func newConsoleGate(w io.Writer) *consoleGate { return &consoleGate{w: w} }

// Write buffers p while the gate is closed.
func (g *consoleGate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		return g.w.Write(p)
	}
	g.held = append(g.held, append([]byte(nil), p...))
	return len(p), nil
}

// Flush writes the held lines in order and opens the gate.
func (g *consoleGate) Flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.held {
		_, _ = g.w.Write(p)
	}
	g.held = nil
	g.open = true
}
