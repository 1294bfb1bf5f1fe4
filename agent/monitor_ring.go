package agent

import (
	"sync"
)

// LogHandler receives log lines (without the trailing newline). HandleLog is
// called with the writer's lock held and must not block or log.
type LogHandler interface {
	HandleLog(line string)
}

// MonitorRing is what `serf monitor` reads: it keeps the most recent log
// lines, of every level, in a ring, replays them to each handler (an RPC
// monitor) that registers and copies every new line to all of them.
type MonitorRing struct {
	mu       sync.Mutex
	lines    []string
	next     int
	full     bool
	handlers map[LogHandler]struct{}
}

// NewMonitorRing keeps the last n lines.
func NewMonitorRing(n int) *MonitorRing {
	if n < 1 {
		n = 1
	}
	return &MonitorRing{lines: make([]string, n), handlers: make(map[LogHandler]struct{})}
}

// RegisterHandler adds h and replays the ring to it, oldest line first.
func (l *MonitorRing) RegisterHandler(h LogHandler) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.handlers[h]; ok {
		return
	}
	l.handlers[h] = struct{}{}
	if l.full {
		for _, line := range l.lines[l.next:] {
			h.HandleLog(line)
		}
	}
	for _, line := range l.lines[:l.next] {
		h.HandleLog(line)
	}
}

// DeregisterHandler removes h.
func (l *MonitorRing) DeregisterHandler(h LogHandler) {
	l.mu.Lock()
	delete(l.handlers, h)
	l.mu.Unlock()
}

// Write stores one log write as one line (a multi-line message stays one
// entry) and hands it to every handler.
func (l *MonitorRing) Write(p []byte) (int, error) {
	n := len(p)
	if n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	line := string(p)

	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines[l.next] = line
	l.next++
	if l.next == len(l.lines) {
		l.next = 0
		l.full = true
	}
	for h := range l.handlers {
		h.HandleLog(line)
	}
	return n, nil
}
