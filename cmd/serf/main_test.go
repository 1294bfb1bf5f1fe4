package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/client/realagenttest"
	"github.com/serf-clone/serf/testutil/cluster"
)

// When this variable is set the test binary behaves as the serf binary,
// so the tests can run our CLI as a real process (exit codes, signals,
// stderr) without building it separately.
const beSerfEnv = "SERF_CLONE_BE_SERF"

func TestMain(m *testing.M) {
	if os.Getenv(beSerfEnv) == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

type procResult struct {
	stdout, stderr string
	code           int
}

func ourCmd(args ...string) (*exec.Cmd, *cluster.SyncBuffer, *cluster.SyncBuffer) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), beSerfEnv+"=1")
	var o, e cluster.SyncBuffer
	cmd.Stdout, cmd.Stderr = &o, &e
	return cmd, &o, &e
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("running our serf: %v", err)
	return -1
}

func runProc(t *testing.T, args ...string) procResult {
	t.Helper()
	cmd, o, e := ourCmd(args...)
	err := cmd.Run()
	return procResult{o.String(), e.String(), exitCode(t, err)}
}

func TestProcessOutputMatchesRealSerf(t *testing.T) {
	realagenttest.Binary(t)
	for _, args := range [][]string{
		{},
		{"nosuch"},
		{"help"},
		{"-h"},
		{"--help"},
		{"-v"},
		{"--version"},
		{"members", "--version"},
		{"version", "extra"},
		{"members", "-h"},
		{"query", "-help"},
		{"members", "-bogus"},
		{"query", "-timeout", "soon", "q"},
		{"members", "-format"},
		{"members", "-rpc-addr=127.0.0.1:1"},
		{"-x", "members"},
	} {
		realOut, realErr, realCode := realagenttest.RunCLI(t, nil, args...)
		ours := runProc(t, args...)
		if ours.stdout != realOut || ours.stderr != realErr || ours.code != realCode {
			t.Errorf("serf %s:\nreal (exit %d) stdout %q stderr %q\nours (exit %d) stdout %q stderr %q",
				strings.Join(args, " "), realCode, realOut, realErr, ours.code, ours.stdout, ours.stderr)
		}
	}
}

func TestEnvironmentDefaults(t *testing.T) {
	realagenttest.Binary(t)
	env := []string{"SERF_RPC_ADDR=127.0.0.1:1"}
	realOut, _, realCode := realagenttest.RunCLI(t, env, "members")
	cmd, o, _ := ourCmd("members")
	cmd.Env = append(cmd.Env, env...)
	code := exitCode(t, cmd.Run())
	if o.String() != realOut || code != realCode {
		t.Fatalf("SERF_RPC_ADDR: real %q %d, ours %q %d", realOut, realCode, o.String(), code)
	}
}

// interruptWhen starts our serf with args, waits until its stdout contains
// marker, sends SIGINT and returns the final output and exit code.
func interruptWhen(t *testing.T, marker string, args ...string) procResult {
	t.Helper()
	cmd, o, e := ourCmd(args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(o.String(), marker) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("never saw %q; stdout %q stderr %q", marker, o.String(), e.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return procResult{o.String(), e.String(), exitCode(t, err)}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("serf %v ignored SIGINT", args)
		return procResult{}
	}
}

func TestCtrlC(t *testing.T) {
	a := realagenttest.Start(t, realagenttest.Options{Name: "alpha"})
	rpc := "-rpc-addr=" + a.RPCAddr

	r := interruptWhen(t, "Ack from 'alpha'", "query", rpc, "-timeout", "30s", "q")
	if r.code != 1 || strings.Contains(r.stdout, "Total") {
		t.Errorf("query: %+v", r)
	}
	r = interruptWhen(t, "Serf agent starting", "monitor", rpc)
	if r.code != 0 || strings.Contains(r.stdout, "Remote side") {
		t.Errorf("monitor: %+v", r)
	}
	r = interruptWhen(t, "Starting reachability test...", "reachability", rpc)
	if r.code != 1 || !strings.HasSuffix(r.stdout, "Test interrupted\n") {
		t.Errorf("reachability: %+v", r)
	}
}
