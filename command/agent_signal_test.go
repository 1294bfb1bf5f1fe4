package command

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/serf/serftest"
)

// TestAgentSubprocess is not a test on its own: when SERF_AGENT_SUBPROCESS
// is set it runs `serf agent` with the arguments after "--" and exits, so
// the signal tests can drive a real process.
func TestAgentSubprocess(t *testing.T) {
	if os.Getenv("SERF_AGENT_SUBPROCESS") == "" {
		t.Skip("helper process only")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(newAgentCommand(&cli.BasicUi{Writer: os.Stdout}, nil).Run(args))
}

type agentProc struct {
	cmd *exec.Cmd
	out *serftest.SyncBuffer
}

func startAgentProc(t *testing.T, args ...string) *agentProc {
	t.Helper()
	bind := fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
	rpc := fmt.Sprintf("127.0.0.1:%d", serftest.FreePort(t))
	all := append([]string{"-test.run=^TestAgentSubprocess$", "--", "-node", "sig", "-bind", bind, "-rpc-addr", rpc,
		"-profile", "local"}, args...)
	p := &agentProc{cmd: exec.Command(os.Args[0], all...), out: &serftest.SyncBuffer{}}
	p.cmd.Env = append(os.Environ(), "SERF_AGENT_SUBPROCESS=1")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	p.waitFor(t, "Received event: member-join")
	return p
}

func (p *agentProc) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(p.out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", s, p.out.String())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func (p *agentProc) exitCode(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(15 * time.Second):
		t.Fatalf("agent did not exit:\n%s", p.out.String())
		return -1
	}
}

func TestAgentSignals(t *testing.T) {
	if os.Getenv("SERF_AGENT_SUBPROCESS") != "" {
		t.Skip()
	}
	t.Run("hup-then-term", func(t *testing.T) {
		dir := t.TempDir()
		conf := dir + "/c.json"
		writeConfigFile(t, conf, []byte(`{"tags": {"a": "1"}}`))
		p := startAgentProc(t, "-config-file", conf)
		writeConfigFile(t, conf, []byte(`{"tags": {"b": "2"}, "log_level": "debug"}`))
		p.cmd.Process.Signal(syscall.SIGHUP)
		p.waitFor(t, "==> Caught signal: hangup\n==> Reloading configuration...\n")
		p.waitFor(t, "[INFO] serf: EventMemberUpdate: sig")
		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.exitCode(t); code != 1 {
			t.Fatalf("SIGTERM exit %d", code)
		}
		out := p.out.String()
		if !strings.Contains(out, "==> Caught signal: terminated\n") || strings.Contains(out, "graceful leave") ||
			!strings.Contains(out, "[INFO] agent: shutdown complete") {
			t.Fatalf("output:\n%s", out)
		}
	})
	t.Run("int-graceful", func(t *testing.T) {
		p := startAgentProc(t)
		p.cmd.Process.Signal(os.Interrupt)
		if code := p.exitCode(t); code != 0 {
			t.Fatalf("SIGINT exit %d", code)
		}
		if !strings.Contains(p.out.String(), "==> Gracefully shutting down agent...\n") {
			t.Fatalf("output:\n%s", p.out.String())
		}
	})
	t.Run("term-with-leave-on-terminate", func(t *testing.T) {
		dir := t.TempDir()
		writeConfigFile(t, dir+"/c.json", []byte(`{"leave_on_terminate": true}`))
		p := startAgentProc(t, "-config-dir", dir)
		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.exitCode(t); code != 0 {
			t.Fatalf("exit %d:\n%s", code, p.out.String())
		}
		if !strings.Contains(p.out.String(), "[INFO] agent: requesting graceful leave from Serf") {
			t.Fatalf("output:\n%s", p.out.String())
		}
	})
	t.Run("int-skip-leave", func(t *testing.T) {
		dir := t.TempDir()
		writeConfigFile(t, dir+"/c.json", []byte(`{"skip_leave_on_interrupt": true}`))
		p := startAgentProc(t, "-config-file", dir+"/c.json")
		p.cmd.Process.Signal(os.Interrupt)
		if code := p.exitCode(t); code != 1 {
			t.Fatalf("exit %d", code)
		}
	})
}

// writeConfigFile writes an agent config file or fails the test.
func writeConfigFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
