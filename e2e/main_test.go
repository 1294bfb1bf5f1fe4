package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Deadlines for gossip to settle on a loaded 2-core machine. They bound
// waits; nothing asserts on speed.
const (
	converge   = 60 * time.Second
	failDetect = 90 * time.Second
	exitWait   = 30 * time.Second
)

var (
	serfBin  string
	buildErr error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if p := os.Getenv("SERF_E2E_BIN"); p != "" {
		serfBin = p
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "serf-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	serfBin = filepath.Join(tmp, "serf")
	cmd := exec.Command("go", "build", "-o", serfBin, "./cmd/serf")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		// Every test then fails with this error (see bin), rather than the
		// whole package silently reporting nothing.
		buildErr = fmt.Errorf("go build ./cmd/serf: %v\n%s", err, out)
		fmt.Fprintln(os.Stderr, "e2e:", buildErr)
	}
	return m.Run()
}

// bin returns the serf binary under test or fails with the build error.
func bin(t testing.TB) string {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("serf binary not available: %v", buildErr)
	}
	return serfBin
}
