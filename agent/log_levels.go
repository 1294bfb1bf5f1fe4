package agent

import (
	"io"

	"github.com/hashicorp/logutils"
)

// logLevels are the levels an agent accepts, lowest first. The table is
// built once and only ever read (its slices are handed to level filters,
// which do not write to them).
var logLevels = [...]logutils.LogLevel{"TRACE", "DEBUG", "INFO", "WARN", "ERR"}

// newLevelFilter returns a filter over our levels writing to w.
func newLevelFilter(min string, w io.Writer) *logutils.LevelFilter {
	return &logutils.LevelFilter{
		Levels:   logLevels[:],
		MinLevel: logutils.LogLevel(min),
		Writer:   w,
	}
}

// ValidLogLevel reports whether level (already upper-cased) is one of ours.
func ValidLogLevel(level string) bool {
	for _, l := range logLevels {
		if string(l) == level {
			return true
		}
	}
	return false
}

// LogLevelNames renders the valid levels the way the error message shows
// them: [TRACE DEBUG INFO WARN ERR].
func LogLevelNames() []logutils.LogLevel {
	return append([]logutils.LogLevel(nil), logLevels[:]...)
}
