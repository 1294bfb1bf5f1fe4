package agent

import (
	"fmt"
	"strings"

	"github.com/serf-clone/serf/serf"
)

// EventFilter selects events by type and, for "user" and "query", by name.
// Event "*" matches everything; an empty Name matches every name.
type EventFilter struct {
	Event string
	Name  string
}

// Matches reports whether e passes the filter.
func (f EventFilter) Matches(e serf.Event) bool {
	if f.Event == "*" {
		return true
	}
	if e.EventType().String() != f.Event {
		return false
	}
	if f.Name == "" {
		return true
	}
	switch ev := e.(type) {
	case serf.UserEvent:
		return f.Event == "user" && ev.Name == f.Name
	case *serf.Query:
		return f.Event == "query" && ev.Name == f.Name
	}
	// A name on a member-event filter cannot be written in the spec syntax;
	// treat it as "no name constraint".
	return true
}

// Valid reports whether the filter names a known event type (serf's
// names, see serf.ParseEventType) or is "*".
func (f EventFilter) Valid() bool {
	if f.Event == "*" {
		return true
	}
	_, ok := serf.ParseEventType(f.Event)
	return ok
}

// ParseEventFilter splits a comma-separated filter list ("" means "*").
// Entries are not validated here; see Valid.
func ParseEventFilter(spec string) []EventFilter {
	if spec == "" {
		spec = "*"
	}
	parts := strings.Split(spec, ",")
	out := make([]EventFilter, 0, len(parts))
	for _, p := range parts {
		f := EventFilter{Event: p}
		for _, kind := range []string{"user", "query"} {
			if name, ok := strings.CutPrefix(p, kind+":"); ok {
				f = EventFilter{Event: kind, Name: name}
			}
		}
		out = append(out, f)
	}
	return out
}

// matchesAny reports whether any filter in fs passes e.
func matchesAny(fs []EventFilter, e serf.Event) bool {
	for _, f := range fs {
		if f.Matches(e) {
			return true
		}
	}
	return false
}

// EventScript is one (filter, shell command) pair of a handler spec.
type EventScript struct {
	EventFilter
	Script string
}

// String describes the script the way startup validation reports it.
func (s EventScript) String() string {
	if s.Name != "" {
		return fmt.Sprintf("Event '%s:%s' invoking '%s'", s.Event, s.Name, s.Script)
	}
	return fmt.Sprintf("Event '%s' invoking '%s'", s.Event, s.Script)
}

// ParseEventScript parses "SCRIPT" or "FILTERS=SCRIPT" (split at the first
// '='), giving one EventScript per filter in the list.
func ParseEventScript(spec string) []EventScript {
	filter, script, found := strings.Cut(spec, "=")
	if !found {
		filter, script = "", spec
	}
	filters := ParseEventFilter(filter)
	out := make([]EventScript, 0, len(filters))
	for _, f := range filters {
		out = append(out, EventScript{EventFilter: f, Script: script})
	}
	return out
}
