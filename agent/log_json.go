package agent

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// JSONTimeFormat is how @timestamp is written, as go-hclog writes it.
const JSONTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// jsonLevels maps our bracketed levels onto go-hclog's level names, and
// back (levelProbe).
var jsonLevels = map[string]string{
	"TRACE": "trace",
	"DEBUG": "debug",
	"INFO":  "info",
	"WARN":  "warn",
	"ERR":   "error",
	"CRIT":  "error",
}

// jsonRecord is one log line in go-hclog's JSON shape. encoding/json
// writes the fields in this order, which is the sorted order hclog's
// map-based encoder writes.
type jsonRecord struct {
	Level     string `json:"@level"`
	Message   string `json:"@message"`
	Module    string `json:"@module"`
	Timestamp string `json:"@timestamp"`
}

// JSONLogLine renders one message as a JSON object and a newline. level
// is one of ours (INFO, ERR, ...); an unknown or empty level gives "info".
func JSONLogLine(level, module, msg string, t time.Time) []byte {
	l, ok := jsonLevels[level]
	if !ok {
		l = "info"
	}
	b, err := json.Marshal(jsonRecord{
		Level:     l,
		Message:   msg,
		Module:    module,
		Timestamp: t.Format(JSONTimeFormat),
	})
	if err != nil { // cannot happen for strings
		b = []byte(`{}`)
	}
	return append(b, '\n')
}

// jsonFromLogLine turns a line in the standard logger's format,
// "2006/01/02 15:04:05 [LEVEL] module: message", into JSONLogLine's form.
// The module is the word before the first ": " after the level (agent,
// serf, memberlist, ...); a line without one has an empty module.
func jsonFromLogLine(p []byte, now time.Time) []byte {
	line := string(bytes.TrimRight(p, "\n"))
	level, rest := "", line
	if i := strings.IndexByte(line, '['); i >= 0 {
		if j := strings.IndexByte(line[i:], ']'); j > 0 {
			if _, ok := jsonLevels[line[i+1:i+j]]; ok {
				level, rest = line[i+1:i+j], strings.TrimPrefix(line[i+j+1:], " ")
			}
		}
	}
	module := ""
	if k := strings.Index(rest, ": "); k > 0 && !strings.ContainsAny(rest[:k], " \t\n") {
		module, rest = rest[:k], rest[k+2:]
	}
	return JSONLogLine(level, module, rest, now)
}

// levelProbe gives the level filter something to read for a JSON line: a
// bracketed level ("[ERR]") recovered from its @level. Other lines are
// returned as they are.
func levelProbe(line []byte) []byte {
	if len(line) == 0 || line[0] != '{' {
		return line
	}
	var r jsonRecord
	if json.Unmarshal(line, &r) != nil {
		return line
	}
	for ours, theirs := range jsonLevels {
		if theirs == r.Level && ours != "CRIT" {
			return []byte("[" + ours + "]")
		}
	}
	return line
}
