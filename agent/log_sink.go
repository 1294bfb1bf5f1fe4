package agent

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"
	"sync"
	"time"

	gsyslog "github.com/hashicorp/go-syslog"
	"github.com/hashicorp/logutils"
)

// monitorBacklog is how many recent lines a new monitor gets replayed.
const monitorBacklog = 512

// LogSink is the agent's one log sink. Every line written to it goes
//   - through the level filter and a gate to the console (the gate holds
//     lines until the startup banner is done, see Flush),
//   - unfiltered into the monitor ring and on to RPC monitors,
//   - through the level filter to syslog, when enabled.
//
// Loggers for the agent, Serf and memberlist all write here.
type LogSink struct {
	mu     sync.Mutex // serializes writes and level changes
	filter *logutils.LevelFilter
	gate   *consoleGate
	ring   *MonitorRing
	syslog gsyslog.Syslogger
	json   bool // lines are rewritten as JSON objects (log_json)
}

// NewLogSink builds the sink; console receives the filtered, gated lines.
// level is case-insensitive; an unknown level is an error with the exact
// text the agent prints.
func NewLogSink(console io.Writer, level string) (*LogSink, error) {
	level = strings.ToUpper(level)
	if !ValidLogLevel(level) {
		return nil, invalidLevelError(level)
	}
	gate := newConsoleGate(console)
	return &LogSink{
		filter: newLevelFilter(level, gate),
		gate:   gate,
		ring:   NewMonitorRing(monitorBacklog),
	}, nil
}

func invalidLevelError(level string) error {
	return fmt.Errorf("Invalid log level: %s. Valid log levels are: %v", level, LogLevelNames())
}

// EnableSyslog also sends filtered lines to syslog with tag "serf".
func (l *LogSink) EnableSyslog(facility string) error {
	s, err := gsyslog.NewLogger(gsyslog.LOG_NOTICE, facility, "serf")
	if err != nil {
		return fmt.Errorf("Syslog setup failed: %v", err)
	}
	l.mu.Lock()
	l.syslog = s
	l.mu.Unlock()
	return nil
}

// SetJSON makes every line that reaches the console, monitors and syslog
// a JSON object (see JSONLogLine); the level filter still reads the
// original line.
func (l *LogSink) SetJSON(on bool) {
	l.mu.Lock()
	l.json = on
	l.mu.Unlock()
}

// SetLevel changes the console/syslog level (monitors are unaffected).
func (l *LogSink) SetLevel(level string) error {
	level = strings.ToUpper(level)
	if !ValidLogLevel(level) {
		return invalidLevelError(level)
	}
	l.mu.Lock()
	l.filter.SetMinLevel(logutils.LogLevel(level))
	l.mu.Unlock()
	return nil
}

// Level is the console/syslog level in effect.
func (l *LogSink) Level() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.filter.MinLevel)
}

// Flush releases the lines held back during startup and lets later lines
// through as they come.
func (l *LogSink) Flush() { l.gate.Flush() }

// Monitors is the ring that replays recent lines to, and copies new ones
// to, RPC monitors.
func (l *LogSink) Monitors() *MonitorRing { return l.ring }

// Logger returns a logger in the agent's format: LstdFlags, no prefix.
func (l *LogSink) Logger() *log.Logger { return log.New(l, "", log.LstdFlags) }

// Write implements io.Writer for one log line (or one multi-line message).
func (l *LogSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.json {
		_, _ = l.filter.Write(p)
		_, _ = l.ring.Write(p)
		if l.syslog != nil && l.filter.Check(p) {
			level, msg := splitLevel(p)
			_ = l.syslog.WriteLevel(syslogPriority(level), msg)
		}
		return len(p), nil
	}
	out := jsonFromLogLine(p, time.Now())
	pass := l.filter.Check(p)
	if pass {
		_, _ = l.gate.Write(out)
	}
	_, _ = l.ring.Write(out)
	if l.syslog != nil && pass {
		level, _ := splitLevel(p)
		_ = l.syslog.WriteLevel(syslogPriority(level), out)
	}
	return len(p), nil
}

// splitLevel returns the bracketed level of a line and the text after it.
func splitLevel(p []byte) (string, []byte) {
	i := bytes.IndexByte(p, '[')
	if i < 0 {
		return "", p
	}
	j := bytes.IndexByte(p[i:], ']')
	if j < 0 {
		return "", p
	}
	rest := p[i+j+1:]
	rest = bytes.TrimPrefix(rest, []byte(" "))
	return string(p[i+1 : i+j]), rest
}

// syslogPriority maps our levels one step "up" onto syslog priorities.
func syslogPriority(level string) gsyslog.Priority {
	switch level {
	case "TRACE":
		return gsyslog.LOG_DEBUG
	case "DEBUG":
		return gsyslog.LOG_INFO
	case "WARN":
		return gsyslog.LOG_WARNING
	case "ERR":
		return gsyslog.LOG_ERR
	case "CRIT":
		return gsyslog.LOG_CRIT
	}
	return gsyslog.LOG_NOTICE
}
