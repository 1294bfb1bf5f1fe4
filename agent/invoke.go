package agent

import (
	"context"
	"fmt"
	metrics "github.com/hashicorp/go-metrics"
	"log"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/armon/circbuf"
	"github.com/serf-clone/serf/serf"
)

const (
	// scriptOutputMax bounds how much of a handler's stdout+stderr we keep
	// (the last bytes win), so a chatty script cannot grow our memory.
	scriptOutputMax = 8 * 1024

	// scriptSlowAfter is when a still-running handler earns a warning.
	scriptSlowAfter = time.Second

	// scriptKillGrace bounds how long we wait for a killed script's output
	// pipes to close (children may hold them open).
	scriptKillGrace = time.Second
)

// runEventScript runs one handler script for one event and waits for it.
// The event is described by SERF_* environment variables and by stdin (see
// writeEventStdin). A query gets the script's output as its response when
// the script succeeds and prints something. Cancelling ctx kills the script.
func runEventScript(ctx context.Context, logger *log.Logger, script string, self serf.Member, e serf.Event) error {
	defer metrics.MeasureSinceWithLabels([]string{"agent", "invoke", script}, time.Now(), nil)
	output, err := circbuf.NewBuffer(scriptOutputMax)
	if err != nil {
		return err
	}

	shell, flag := "/bin/sh", "-c"
	if runtime.GOOS == "windows" {
		shell, flag = "cmd", "/C"
	}
	cmd := exec.CommandContext(ctx, shell, flag, script)
	cmd.WaitDelay = scriptKillGrace
	killTreeOnCancel(cmd)
	cmd.Stdout = output
	cmd.Stderr = output
	cmd.Env = append(os.Environ(), scriptEnv(self, e)...)

	var payload []byte
	switch ev := e.(type) {
	case *serf.MemberEvent:
		payload = memberEventStdin(ev)
	case serf.UserEvent:
		payload = withNewline(ev.Payload)
	case *serf.Query:
		payload = withNewline(ev.Payload)
	default:
		return fmt.Errorf("Unknown event type: %s", e.EventType().String())
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}

	slow := time.AfterFunc(scriptSlowAfter, func() {
		logger.Printf("[WARN] agent: Script '%s' slow, execution exceeding %v", script, scriptSlowAfter)
	})
	defer slow.Stop()

	if err := cmd.Start(); err != nil {
		return err
	}
	// Feed stdin concurrently: a script that never reads must not block us
	// beyond its own lifetime (the write fails once the process exits).
	go func() {
		defer stdin.Close()
		if len(payload) > 0 {
			_, _ = stdin.Write(payload)
		}
	}()

	err = cmd.Wait()
	slow.Stop()
	logger.Printf("[DEBUG] agent: Event '%s' script output: %s", e.EventType().String(), output.String())
	if err != nil {
		return err
	}

	if q, ok := e.(*serf.Query); ok && output.TotalWritten() > 0 {
		if err := q.Respond(output.Bytes()); err != nil {
			logger.Printf("[WARN] agent: Failed to respond to query '%s': %s", e.String(), err)
		}
	}
	return nil
}

// scriptEnv builds the SERF_* variables for an invocation.
func scriptEnv(self serf.Member, e serf.Event) []string {
	env := []string{
		"SERF_EVENT=" + e.EventType().String(),
		"SERF_SELF_NAME=" + self.Name,
		"SERF_SELF_ROLE=" + self.Tags["role"],
	}
	for k, v := range self.Tags {
		env = append(env, "SERF_TAG_"+envTagName(k)+"="+v)
	}
	switch ev := e.(type) {
	case serf.UserEvent:
		env = append(env, "SERF_USER_EVENT="+ev.Name, fmt.Sprintf("SERF_USER_LTIME=%d", ev.LTime))
	case *serf.Query:
		env = append(env, "SERF_QUERY_NAME="+ev.Name, fmt.Sprintf("SERF_QUERY_LTIME=%d", ev.LTime))
	}
	return env
}

// envTagName upper-cases a tag name and replaces anything outside
// [A-Z0-9_] with '_' so it is a portable environment variable name.
func envTagName(tag string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		}
		return '_'
	}, strings.ToUpper(tag))
}

// memberEventStdin renders "NAME\tIP\tROLE\tk=v,k=v\n" per member.
func memberEventStdin(e *serf.MemberEvent) []byte {
	var b strings.Builder
	for _, m := range e.Members {
		pairs := make([]string, 0, len(m.Tags))
		for k, v := range m.Tags {
			pairs = append(pairs, k+"="+v)
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n",
			escapeField(m.Name), m.Addr.String(), escapeField(m.Tags["role"]),
			escapeField(strings.Join(pairs, ",")))
	}
	return []byte(b.String())
}

// escapeField keeps one member per line: tabs and newlines become the
// two-character sequences \t and \n.
func escapeField(s string) string {
	s = strings.ReplaceAll(s, "\t", `\t`)
	return strings.ReplaceAll(s, "\n", `\n`)
}

// withNewline appends '\n' to a non-empty payload lacking one, because
// most shell `read`s need it. It never modifies the caller's slice.
func withNewline(p []byte) []byte {
	if len(p) == 0 || p[len(p)-1] == '\n' {
		return p
	}
	out := make([]byte, len(p)+1)
	copy(out, p)
	out[len(p)] = '\n'
	return out
}
