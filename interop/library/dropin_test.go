package library

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// upstreamToOurs is the whole migration from HashiCorp's packages to ours:
// import paths, nothing else.
var upstreamToOurs = strings.NewReplacer(
	`"github.com/hashicorp/serf/serf"`, `"github.com/serf-clone/serf/serf"`,
	`"github.com/hashicorp/serf/client"`, `"github.com/serf-clone/serf/client"`,
	`"github.com/hashicorp/serf/coordinate"`, `"github.com/serf-clone/serf/serf/coordinate"`,
)

// goCmd runs the go command in dir and fails the test with its output.
func goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// runDropIn runs a built dropin program and checks it reports success.
func runDropIn(t *testing.T, bin string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
}

// TestDropIn: testdata/dropin/main.go, a program written against
// github.com/hashicorp/serf v0.10.2's serf, client and coordinate
// packages, builds and runs against upstream (in the sibling interop
// module, which requires it) and, with only its import paths rewritten,
// builds and runs the same way against ours (in this module). It uses
// `case serf.MemberEvent:`, the Config fields upstream has, Config.Init,
// Merge and ReconnectTimeoutOverride delegates, ValidateNodeNames, queries
// with QueryParam, the KeyManager's *WithOptions methods, coordinates,
// and client.Monitor with a logutils.LogLevel.
func TestDropIn(t *testing.T) {
	t.Parallel()
	src, err := filepath.Abs(filepath.Join("testdata", "dropin", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	t.Run("upstream", func(t *testing.T) {
		bin := filepath.Join(dir, "dropin-upstream")
		goCmd(t, "..", "build", "-o", bin, src)
		runDropIn(t, bin)
	})

	t.Run("ours", func(t *testing.T) {
		rewritten := upstreamToOurs.Replace(string(orig))
		if strings.Contains(rewritten, `"github.com/hashicorp/serf`) {
			t.Fatal("an upstream import is left after the rewrite")
		}
		file := filepath.Join(dir, "main.go")
		if err := os.WriteFile(file, []byte(rewritten), 0o644); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "dropin-ours")
		goCmd(t, ".", "build", "-o", bin, file)
		runDropIn(t, bin)
	})
}
