package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer that one goroutine may write (a process's
// output copier, a logger, a UI) while others read it. Tests across the
// repository use it to capture output.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Contains reports whether the output so far contains s.
func (b *SyncBuffer) Contains(s string) bool {
	return strings.Contains(b.String(), s)
}

// Len is how many bytes were written so far.
func (b *SyncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// Since returns what was written after the first off bytes, without
// copying what came before (a big cluster's agents write megabytes).
func (b *SyncBuffer) Since(off int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	all := b.buf.Bytes()
	if off >= len(all) {
		return ""
	}
	return string(all[max(off, 0):])
}

// Proc is a long-running child process (an agent, `serf monitor`, ...) whose
// stdout and stderr are collected into one buffer. It runs in its own process
// group so that Kill also reaches the handler scripts it started.
type Proc struct {
	Args []string
	cmd  *exec.Cmd
	out  SyncBuffer
	done chan struct{}
	err  error // exit error, valid after done is closed
}

// StartProc starts bin with args and registers a cleanup that kills the
// process group and waits for it. env entries are added to os.Environ().
func StartProc(t testing.TB, env []string, bin string, args ...string) *Proc {
	t.Helper()
	p, err := startProc(env, bin, args...)
	if err != nil {
		t.Fatalf("start %s %s: %v", bin, strings.Join(args, " "), err)
	}
	t.Cleanup(p.Kill)
	return p
}

func startProc(env []string, bin string, args ...string) (*Proc, error) {
	p := &Proc{Args: append([]string{bin}, args...), done: make(chan struct{})}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = &p.out
	cmd.Stderr = &p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A handler script that inherited the output pipe must not block Wait.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p.cmd = cmd
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Output returns everything the process wrote so far (stdout and stderr).
func (p *Proc) Output() string { return p.out.String() }

// OutputLen is how many bytes of output the process wrote so far.
func (p *Proc) OutputLen() int { return p.out.Len() }

// OutputSince returns the output after its first off bytes.
func (p *Proc) OutputSince(off int) string { return p.out.Since(off) }

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process itself (not its group).
func (p *Proc) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return errors.New("process already exited")
	}
	return p.cmd.Process.Signal(sig)
}

// Kill sends SIGKILL to the whole process group and waits for the exit.
// Safe to call more than once and after the process exited.
func (p *Proc) Kill() {
	if !p.Exited() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

// Wait waits up to timeout for the exit and returns the exit code
// (-1 if killed by a signal). It fails the test on timeout.
func (p *Proc) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v; output:\n%s", strings.Join(p.Args, " "), timeout, p.Output())
	}
	return p.cmd.ProcessState.ExitCode()
}

// WaitOutput polls until the output contains substr.
func (p *Proc) WaitOutput(t testing.TB, substr string, timeout time.Duration) {
	t.Helper()
	Eventually(t, timeout, func() error {
		if strings.Contains(p.Output(), substr) {
			return nil
		}
		if p.Exited() {
			return Permanent(fmt.Errorf("process exited (%v) without printing %q", p.err, substr))
		}
		return fmt.Errorf("no %q yet", substr)
	})
}

// Result is the outcome of a finished command.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Combined is stdout followed by stderr.
func (r Result) Combined() string { return r.Stdout + r.Stderr }

func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// CLITimeout bounds every Run call.
const CLITimeout = 60 * time.Second

// Run runs bin with args to completion (bounded by CLITimeout) with env
// added to os.Environ(). A non-zero exit is not an error; failing to start
// or the timeout is fatal.
func Run(t testing.TB, env []string, bin string, args ...string) Result {
	t.Helper()
	return RunStdin(t, env, "", bin, args...)
}

// RunStdin is Run with stdin.
func RunStdin(t testing.TB, env []string, stdin string, bin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CLITimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out after %v\n%s", bin, strings.Join(args, " "), CLITimeout, res)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.Code = exitErr.ExitCode()
	default:
		t.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	return res
}
