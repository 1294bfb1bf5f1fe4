// Package realagenttest runs the real HashiCorp Serf binary for tests that
// check our client and CLI against it. It is a thin layer over the
// multi-process harness in testutil/cluster, which finds the binary
// (SERF_REAL_BIN, set by `make test`) and owns every process it starts.
package realagenttest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// Binary returns the path of the real serf binary (see cluster.RealBinary).
func Binary(t testing.TB) string {
	t.Helper()
	return cluster.RealBinary(t)
}

// Agent is a running real serf agent, stopped when the test ends.
type Agent struct {
	*cluster.Agent
}

// Options tune Start.
type Options struct {
	Name    string
	RPCAuth string
	Tags    []string // KEY=VALUE
	Args    []string // anything else to pass to `serf agent`
}

// Start launches a real agent on free loopback ports, logging at debug
// level, and waits until it serves RPC.
func Start(t testing.TB, opts Options) *Agent {
	t.Helper()
	args := []string{"-log-level", "debug"}
	if opts.RPCAuth != "" {
		// rpc_auth can only be set from a config file.
		file := filepath.Join(t.TempDir(), "auth.json")
		body := fmt.Sprintf("{\"rpc_auth\": %q}", opts.RPCAuth)
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatalf("writing agent config: %v", err)
		}
		args = append(args, "-config-file", file)
	}
	for _, tag := range opts.Tags {
		args = append(args, "-tag", tag)
	}
	args = append(args, opts.Args...)
	return &Agent{cluster.StartAgent(t, Binary(t), cluster.Options{Name: opts.Name, Args: args})}
}

// Stop kills the agent and waits for it to exit. It is idempotent.
func (a *Agent) Stop() { a.Kill() }

// RunCLI runs the real serf CLI with args and returns its stdout, stderr
// and exit code. (Unlike cluster.Run, it keeps the two streams apart:
// the CLI's help and usage go to different ones.)
func RunCLI(t testing.TB, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout = &o
	cmd.Stderr = &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running real serf %v: %v", args, err)
	}
	return o.String(), e.String(), 0
}

// RunCLITimeout runs the real serf CLI, interrupts it (as Ctrl-C would)
// after d and returns what it printed and its exit code.
func RunCLITimeout(t testing.TB, d time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	var o, e bytes.Buffer
	cmd.Stdout = &o
	cmd.Stderr = &e
	if err := cmd.Start(); err != nil {
		t.Fatalf("running real serf %v: %v", args, err)
	}
	timer := time.AfterFunc(d, func() { _ = cmd.Process.Signal(os.Interrupt) })
	defer timer.Stop()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running real serf %v: %v", args, err)
	}
	return o.String(), e.String(), 0
}
