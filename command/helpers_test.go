package command

import (
	"testing"

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
