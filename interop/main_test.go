package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// realVersion is the upstream release every test compares against.
const realVersion = "v0.10.2"

var (
	realBin     string // real serf v0.10.2
	ourBin      string // our serf, built from the repository root
	ourBuildErr error  // set when our binary does not build (yet)
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "serf-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)

	realBin, err = realSerf()
	if err != nil {
		fmt.Fprintf(os.Stderr, "interop: cannot get the real serf %s: %v\n", realVersion, err)
		return 1
	}
	if p := os.Getenv("SERF_OUR_BIN"); p != "" {
		// Lets the suite run with the real binary in both roles, which
		// checks the tests themselves.
		ourBin = p
		return m.Run()
	}
	ourBin = filepath.Join(tmp, "serf")
	if out, err := goCmd("..", "build", "-o", ourBin, "./cmd/serf"); err != nil {
		// Not fatal for the whole run: tests of the real binary alone still
		// validate the harness; tests that need ours fail with this error.
		ourBuildErr = fmt.Errorf("go build ./cmd/serf: %v\n%s", err, out)
		fmt.Fprintln(os.Stderr, "interop: WARNING:", ourBuildErr)
	}
	return m.Run()
}

// realSerf returns $SERF_REAL_BIN, or the cached install under the
// repository's ignored .cache/, installing it there on first use.
func realSerf() (string, error) {
	if p := os.Getenv("SERF_REAL_BIN"); p != "" {
		return p, nil
	}
	dir, err := filepath.Abs(filepath.Join("..", ".cache", "realserf-"+realVersion))
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "serf")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	// Install into a fresh dir and rename, so a concurrent or interrupted
	// run never leaves a half-written binary in the cache.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	stage, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(stage)
	cmd := exec.Command("go", "install", "github.com/hashicorp/serf/cmd/serf@"+realVersion)
	cmd.Dir = stage // outside any module, so go.mod files play no part
	cmd.Env = append(os.Environ(), "GOBIN="+stage, "GOFLAGS=", staticBuild)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install: %v\n%s", err, out)
	}
	if err := os.Rename(stage, dir); err != nil && !os.IsExist(err) {
		if _, statErr := os.Stat(bin); statErr != nil {
			return "", err
		}
	}
	return bin, nil
}

// staticBuild builds both binaries without cgo, as HashiCorp builds Serf's
// release binaries and as `make build` builds ours: no libc or dynamic
// loader mapped into each agent, and the same for both sides of a benchmark.
const staticBuild = "CGO_ENABLED=0"

func goCmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), staticBuild)
	return cmd.CombinedOutput()
}

// ours returns our binary or fails the test with the build error, so tests
// that need a feature not merged yet fail loudly instead of skipping.
func ours(t testing.TB) string {
	t.Helper()
	if ourBuildErr != nil {
		t.Fatalf("our serf binary is not available: %v", ourBuildErr)
	}
	return ourBin
}
