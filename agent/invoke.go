package agent

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/armon/circbuf"
	metrics "github.com/hashicorp/go-metrics"
	"github.com/serf-clone/serf/internal/batchsched"
	"github.com/serf-clone/serf/serf"
)

const (
	// scriptOutputMax bounds how much of a handler's stdout+stderr we keep
	// (the last bytes win), so a chatty script cannot grow our memory.
	scriptOutputMax = 8 * 1024

	// scriptFailureOutputMax bounds how much of a failed script's output
	// is logged with the failure (the last bytes win).
	scriptFailureOutputMax = 4 * 1024

	// scriptSlowAfter is when a still-running handler earns a warning.
	scriptSlowAfter = time.Second

	// scriptKillGrace bounds how long we wait for a killed script's output
	// pipes to close (children may hold them open).
	scriptKillGrace = time.Second
)

// scriptError is a failed invocation together with the tail of what the
// script wrote, so the failure can be logged with its reason.
type scriptError struct {
	err    error
	output []byte
}

func (e *scriptError) Error() string { return e.err.Error() }
func (e *scriptError) Unwrap() error { return e.err }

// scriptOutput returns the output carried by an invocation error, if any.
func scriptOutput(err error) []byte {
	var se *scriptError
	if errors.As(err, &se) {
		return se.output
	}
	return nil
}

// runEventScript runs one handler script for one event and waits for it.
// The event is described by SERF_* environment variables and by stdin (see
// scriptEnv and memberEventStdin). A query gets the script's output (stdout
// and stderr, as Serf) as its response when the script succeeds and prints
// something. Cancelling ctx kills the script; so does timeout, when it is
// positive and the script is still running after it. On Unix the kill takes
// the script's whole process group.
func runEventScript(ctx context.Context, logger *log.Logger, script string, timeout time.Duration, self serf.Member, e serf.Event) error {
	defer metrics.MeasureSinceWithLabels([]string{"agent", "invoke", script}, time.Now(), nil)
	output, err := circbuf.NewBuffer(scriptOutputMax)
	if err != nil {
		return err
	}

	var payload []byte
	switch ev := e.(type) {
	case serf.MemberEvent:
		payload = memberEventStdin(ev)
	case serf.UserEvent:
		payload = withNewline(ev.Payload)
	case *serf.Query:
		payload = withNewline(ev.Payload)
	default:
		return fmt.Errorf("Unknown event type: %s", e.EventType().String())
	}

	runCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	shell, flag := "/bin/sh", "-c"
	if runtime.GOOS == "windows" {
		shell, flag = "cmd", "/C"
	}
	cmd := exec.CommandContext(runCtx, shell, flag, script)
	cmd.WaitDelay = scriptKillGrace
	killTreeOnCancel(cmd)
	// One writer for both streams, so exec gives the script one pipe for
	// fd 1 and fd 2 and the output keeps the order the script wrote it in
	// (a query's response is both streams, as in Serf). Stderr is
	// therefore not kept apart: a failure logs the tail of this output.
	cmd.Stdout = output
	cmd.Stderr = output
	cmd.Env = append(os.Environ(), scriptEnv(self, e)...)

	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}

	slow := time.AfterFunc(scriptSlowAfter, func() {
		logger.Printf("[WARN] agent: Script '%s' slow, execution exceeding %v", script, scriptSlowAfter)
	})
	defer slow.Stop()

	// The script starts in the default scheduling class, whatever the
	// agent's threads run in (internal/batchsched).
	if err := batchsched.StartOutside(cmd.Start); err != nil {
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
		if timeout > 0 && ctx.Err() == nil && errors.Is(runCtx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %v (event handler timeout), killed", timeout)
		}
		tail := output.Bytes()
		if len(tail) > scriptFailureOutputMax {
			tail = tail[len(tail)-scriptFailureOutputMax:]
		}
		return &scriptError{err: err, output: tail}
	}

	if q, ok := e.(*serf.Query); ok && output.TotalWritten() > 0 {
		if err := q.Respond(output.Bytes()); err != nil {
			logger.Printf("[WARN] agent: Failed to respond to query '%s': %s", e.String(), err)
		}
	}
	return nil
}

// logScriptFailure logs a failed invocation: Serf's line, then the last
// scriptFailureOutputMax bytes of the script's output (stderr and stdout as
// the script wrote them), one log line per output line so that every line
// carries our own level prefix and a script cannot forge agent log lines.
// Control characters other than tab are shown as \xHH.
func logScriptFailure(logger *log.Logger, script string, err error) {
	logger.Printf("[ERR] agent: Error invoking script '%s': %s", script, err)
	text := strings.TrimRight(string(scriptOutput(err)), "\r\n")
	if text == "" {
		return
	}
	for _, line := range strings.Split(text, "\n") {
		logger.Printf("[ERR] agent: Script '%s' output: %s", script, printable(line))
	}
}

// printable replaces control characters other than tab with \xHH.
func printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			fmt.Fprintf(&b, `\x%02x`, c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// scriptEnv builds the SERF_* variables for an invocation. Values go
// through escapeEnv (see escapeInput).
func scriptEnv(self serf.Member, e serf.Event) []string {
	env := []string{
		"SERF_EVENT=" + e.EventType().String(),
		"SERF_SELF_NAME=" + escapeEnv(self.Name),
		"SERF_SELF_ROLE=" + escapeEnv(self.Tags["role"]),
	}
	for k, v := range self.Tags {
		env = append(env, "SERF_TAG_"+envTagName(k)+"="+escapeEnv(v))
	}
	switch ev := e.(type) {
	case serf.UserEvent:
		env = append(env, "SERF_USER_EVENT="+escapeEnv(ev.Name), fmt.Sprintf("SERF_USER_LTIME=%d", ev.LTime))
	case *serf.Query:
		env = append(env, "SERF_QUERY_NAME="+escapeEnv(ev.Name), fmt.Sprintf("SERF_QUERY_LTIME=%d", ev.LTime))
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

// memberEventStdin renders "NAME\tIP\tROLE\tk=v,k=v\n" per member, the
// name and role through escapeField and each tag key and value through
// escapeTag.
func memberEventStdin(e serf.MemberEvent) []byte {
	var b strings.Builder
	for _, m := range e.Members {
		pairs := make([]string, 0, len(m.Tags))
		for k, v := range m.Tags {
			pairs = append(pairs, escapeTag(k)+"="+escapeTag(v))
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n",
			escapeField(m.Name), m.Addr.String(), escapeField(m.Tags["role"]),
			strings.Join(pairs, ","))
	}
	return []byte(b.String())
}

// Handler input escaping (a deliberate difference from Serf v0.10.2).
//
// Serf puts event names, query names, the local name and tags into the
// environment as they are, so a NUL makes every script fail to start
// ("environment variable contains NUL") and a newline forges lines in an
// environment dump; on member-event stdin it turns tab and newline into \t
// and \n but leaves \r, NUL, and the ',' and '=' that separate tags, so the
// line cannot be parsed back. The rule here, in three contexts:
//
//   - environment values: NUL, LF and CR become \0, \n and \r;
//   - stdin name and role fields: also tab becomes \t (as Serf);
//   - stdin tag keys and values: also ',' and '=' become \, and \=.
//
// A backslash is written as \\ only where it would otherwise read as the
// start of one of those sequences: when the next character is a backslash,
// is escaped, or is one of the letters of the context's sequences (0, n, r,
// and t for stdin), and at the end of a tag key or value. Every other byte,
// including every other backslash, is unchanged, so any input without those
// characters gets exactly Serf's bytes. To decode: \\ is a backslash, \0 \n
// \r \t \, \= are the characters above, any other backslash is itself.
func escapeInput(s, specials string, trailing bool) string {
	if !strings.ContainsAny(s, specials+`\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte(specials, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(escapeCode(c))
		case c == '\\':
			b.WriteByte('\\')
			if i+1 == len(s) {
				if trailing {
					b.WriteByte('\\')
				}
			} else if n := s[i+1]; n == '\\' || strings.IndexByte(specials, n) >= 0 || isEscapeCode(specials, n) {
				b.WriteByte('\\')
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// The characters escaped in each context (see escapeInput).
const (
	envSpecials   = "\x00\n\r"
	fieldSpecials = "\x00\t\n\r"
	tagSpecials   = "\x00\t\n\r,="
)

func escapeEnv(s string) string   { return escapeInput(s, envSpecials, false) }
func escapeField(s string) string { return escapeInput(s, fieldSpecials, false) }
func escapeTag(s string) string   { return escapeInput(s, tagSpecials, true) }

// escapeCode is the character written after the backslash for c.
func escapeCode(c byte) byte {
	switch c {
	case 0:
		return '0'
	case '\t':
		return 't'
	case '\n':
		return 'n'
	case '\r':
		return 'r'
	}
	return c
}

// isEscapeCode reports whether c follows a backslash in one of the
// sequences of the context whose escaped characters are specials.
func isEscapeCode(specials string, c byte) bool {
	for i := 0; i < len(specials); i++ {
		if escapeCode(specials[i]) == c {
			return true
		}
	}
	return false
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
