package agent

import (
	"io"
	"sync"
)

// GatedWriter holds writes back until Flush, then passes everything through.
// The agent uses it so log lines only appear after the startup banner.
type GatedWriter struct {
	mu   sync.Mutex
	w    io.Writer
	held [][]byte
	open bool
}

// NewGatedWriter returns a closed gate in front of w.
func NewGatedWriter(w io.Writer) *GatedWriter { return &GatedWriter{w: w} }

// Write buffers p while the gate is closed.
func (g *GatedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		return g.w.Write(p)
	}
	g.held = append(g.held, append([]byte(nil), p...))
	return len(p), nil
}

// Flush writes the held lines in order and opens the gate.
func (g *GatedWriter) Flush() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.held {
		_, _ = g.w.Write(p)
	}
	g.held = nil
	g.open = true
}
