package command

import (
	"strings"
	"time"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/agent"
)

// jsonUI is the agent command's UI under -log-json: the banner, warnings
// and errors become JSON log objects like every log line (module
// "agent"), so that everything the agent prints parses as JSON. Empty
// lines are dropped. Output and Info go to standard output, Warn and
// Error to standard error, as with the text UI.
type jsonUI struct {
	ui cli.Ui
}

func (u *jsonUI) line(level, msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	return strings.TrimSuffix(string(agent.JSONLogLine(level, "agent", msg, time.Now())), "\n")
}

func (u *jsonUI) Ask(q string) (string, error)       { return u.ui.Ask(q) }
func (u *jsonUI) AskSecret(q string) (string, error) { return u.ui.AskSecret(q) }

func (u *jsonUI) Output(s string) {
	if l := u.line("INFO", s); l != "" {
		u.ui.Output(l)
	}
}

func (u *jsonUI) Info(s string) {
	if l := u.line("INFO", s); l != "" {
		u.ui.Output(l)
	}
}

func (u *jsonUI) Warn(s string) {
	if l := u.line("WARN", s); l != "" {
		u.ui.Error(l)
	}
}

func (u *jsonUI) Error(s string) {
	if l := u.line("ERR", s); l != "" {
		u.ui.Error(l)
	}
}

// rawWriter writes already formatted log lines to ui's standard output,
// one Output call per line, without a prefix.
type rawWriter struct {
	ui cli.Ui
}

func (w rawWriter) Write(p []byte) (int, error) {
	w.ui.Output(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
