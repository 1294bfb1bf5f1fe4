package command

import (
	"strings"
	"testing"
	"time"

	"github.com/mitchellh/cli"
	"github.com/serf-clone/serf/serf/serftest"
)

// result is what one CLI run produced.
type result struct {
	stdout, stderr string
	code           int
}

// runOurs runs our CLI in-process, like cmd/serf does, with output captured.
// (Flag-parse errors still go to the process's stderr, as the flag
// package writes them there.)
func runOurs(t *testing.T, args ...string) result {
	t.Helper()
	var out, help serftest.SyncBuffer
	c := NewCLI(args, &cli.BasicUi{Writer: &out}, &help, make(chan struct{}))
	code, err := c.Run()
	if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	return result{out.String(), help.String(), code}
}

// startOurs runs our CLI in the background; send on the returned channel to
// deliver a Ctrl-C, and receive the exit code from done.
func startOurs(t *testing.T, args ...string) (out *serftest.SyncBuffer, interrupt chan<- struct{}, done <-chan int) {
	t.Helper()
	out = &serftest.SyncBuffer{}
	shutdown := make(chan struct{}, 1)
	codeCh := make(chan int, 1)
	c := NewCLI(args, &cli.BasicUi{Writer: out}, out, shutdown)
	go func() {
		code, _ := c.Run()
		codeCh <- code
	}()
	return out, shutdown, codeCh
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sortedLines splits s into lines and sorts them, for outputs whose line
// order comes from a Go map.
func sortedLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i := 1; i < len(lines); i++ {
		for j := i; j > 0 && lines[j] < lines[j-1]; j-- {
			lines[j], lines[j-1] = lines[j-1], lines[j]
		}
	}
	return lines
}
