// Package realagenttest starts the real HashiCorp Serf binary for tests that
// check our client and CLI against it. The binary is found as
// testutil/cluster.RealBinary finds it (SERF_REAL_BIN, which `make test`
// sets).
package realagenttest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// Binary returns the path of the real serf binary (see cluster.RealBinary).
func Binary(t testing.TB) string {
	t.Helper()
	return cluster.RealBinary(t)
}

// Agent is a running real serf agent.
type Agent struct {
	Name     string
	BindAddr string // gossip address, 127.0.0.1:PORT
	RPCAddr  string
	cmd      *exec.Cmd
	out      *syncBuffer
	exited   chan struct{}
}

// Options tune Start.
type Options struct {
	Name    string
	RPCAuth string
	Tags    []string // KEY=VALUE
	Args    []string // anything else to pass to `serf agent`
}

// Start launches a real agent on free loopback ports, waits until its RPC
// port accepts connections and stops it when the test ends.
func Start(t testing.TB, opts Options) *Agent {
	t.Helper()
	bin := Binary(t)
	if opts.Name == "" {
		opts.Name = "node1"
	}
	a := &Agent{
		Name:     opts.Name,
		BindAddr: "127.0.0.1:" + strconv.Itoa(FreePort(t, true)),
		RPCAddr:  "127.0.0.1:" + strconv.Itoa(FreePort(t, false)),
		out:      &syncBuffer{},
		exited:   make(chan struct{}),
	}
	args := []string{"agent", "-node", opts.Name, "-bind", a.BindAddr, "-rpc-addr", a.RPCAddr, "-log-level", "debug"}
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
	a.cmd = exec.Command(bin, args...)
	a.cmd.Stdout = a.out
	a.cmd.Stderr = a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("starting real agent: %v", err)
	}
	go func() {
		_ = a.cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(a.Stop)

	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", a.RPCAddr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return a
		}
		select {
		case <-a.exited:
			t.Fatalf("real agent exited early:\n%s", a.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("real agent RPC %s not ready: %v\n%s", a.RPCAddr, err, a.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the agent and waits for it to exit. It is idempotent.
func (a *Agent) Stop() {
	select {
	case <-a.exited:
		return
	default:
	}
	_ = a.cmd.Process.Kill()
	<-a.exited
}

// Exited is closed once the agent process has ended.
func (a *Agent) Exited() <-chan struct{} { return a.exited }

// Output returns everything the agent printed so far.
func (a *Agent) Output() string { return a.out.String() }

// WaitOutput waits until the agent's output contains s.
func (a *Agent) WaitOutput(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !bytes.Contains([]byte(a.Output()), []byte(s)) {
		if time.Now().After(deadline) {
			t.Fatalf("agent output never contained %q:\n%s", s, a.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RunCLI runs the real serf CLI with args and returns its stdout, stderr
// and exit code.
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
	var o, e syncBuffer
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

// FreePort returns a loopback port that is currently free for TCP and, when
// udp is set, for UDP as well (gossip uses both on the same number).
func FreePort(t testing.TB, udp bool) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if udp {
			u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				l.Close()
				continue
			}
			u.Close()
		}
		l.Close()
		return port
	}
	t.Fatalf("no free port found")
	return 0
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
