package interop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// realAgentOpts describe one real agent for the CLI comparisons.
type realAgentOpts struct {
	rpcAuth string   // written to a config file: there is no flag for it
	tags    []string // KEY=VALUE
	args    []string // further `serf agent` flags
}

// startRealAgent runs the real Serf agent at debug level on free loopback
// ports; it is killed when the test ends.
func startRealAgent(t *testing.T, name string, o realAgentOpts) *cluster.Agent {
	t.Helper()
	args := []string{"-log-level", "debug"}
	if o.rpcAuth != "" {
		file := filepath.Join(t.TempDir(), "rpc-auth.json")
		if err := os.WriteFile(file, []byte(fmt.Sprintf(`{"rpc_auth": %q}`, o.rpcAuth)), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-config-file", file)
	}
	for _, tag := range o.tags {
		args = append(args, "-tag", tag)
	}
	return cluster.StartAgent(t, realBin, cluster.Options{Name: name, Args: append(args, o.args...)})
}

// compareCLI runs one command line through the real CLI and through ours,
// with env added to both, and reports a difference in stdout or exit code.
// normalize, if not nil, is applied to both outputs first (map order,
// moving numbers). It returns our result.
func compareCLI(t *testing.T, env []string, normalize func(string) string, args ...string) cluster.Result {
	t.Helper()
	real, our := runBoth(t, env, args...)
	a, b := real.Stdout, our.Stdout
	if normalize != nil {
		a, b = normalize(a), normalize(b)
	}
	if a != b || real.Code != our.Code {
		t.Errorf("serf %s:\nreal (exit %d):\n%s\nours (exit %d):\n%s",
			strings.Join(args, " "), real.Code, real.Stdout, our.Code, our.Stdout)
	}
	return our
}

// runBoth runs the real CLI and then ours with the same arguments.
func runBoth(t *testing.T, env []string, args ...string) (real, our cluster.Result) {
	t.Helper()
	return cluster.Run(t, env, realBin, args...), cluster.Run(t, env, ours(t), args...)
}

// sameOutput is compareCLI without environment.
func sameOutput(t *testing.T, normalize func(string) string, args ...string) cluster.Result {
	t.Helper()
	return compareCLI(t, nil, normalize, args...)
}

// sameOutputOfMovingState is sameOutput for a command whose output
// follows state that changes on its own between the two runs (network
// coordinates move with every ping): the pair is run again, up to tries
// times, until both print the same, and the last pair is the one judged.
func sameOutputOfMovingState(t *testing.T, tries int, args ...string) cluster.Result {
	t.Helper()
	for range tries - 1 {
		if real, our := runBoth(t, nil, args...); real.Stdout == our.Stdout && real.Code == our.Code {
			return our
		}
	}
	return sameOutput(t, nil, args...)
}

// linesSorted sorts the lines of s with trailing blanks cut, for output
// whose line order comes from a Go map. Cutting the blanks keeps a padded
// column from mattering only when its row happens to come last.
func linesSorted(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// waitAlive polls `serf members` (our CLI) on rpcAddr until n members are
// alive.
func waitAlive(t *testing.T, rpcAddr string, n int) {
	t.Helper()
	cluster.Eventually(t, converge, func() error {
		res := cluster.CLI(t, ours(t), rpcAddr, "members", "-status", "alive")
		if got := len(cluster.ParseMembers(res.Stdout)); res.Code != 0 || got != n {
			return fmt.Errorf("%d alive members, want %d: %s", got, n, res)
		}
		return nil
	})
}

// until is Eventually for a plain condition.
func until(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	cluster.Eventually(t, timeout, func() error {
		if cond() {
			return nil
		}
		return errors.New("still waiting for " + what)
	})
}
