package interop

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

// TestRPCAuthIdentical: an agent with rpc_auth (config file only) accepts
// the right token and refuses a missing or wrong one with the same output
// from either kind of agent and either CLI; SERF_RPC_AUTH is honoured.
func TestRPCAuthIdentical(t *testing.T) {
	t.Parallel()
	our := ours(t)
	cfg := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(cfg, []byte(`{"rpc_auth": "s3cret"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	realA := cluster.StartAgent(t, realBin, cluster.Options{Name: "auth", Args: []string{"-config-file", cfg}})
	ourA := cluster.StartAgent(t, our, cluster.Options{Name: "auth", Args: []string{"-config-file", cfg}})
	cases := []struct {
		name string
		env  []string
		args []string
		want string // in the real CLI's stdout against the real agent
	}{
		{"token", nil, []string{"-rpc-auth", "s3cret"}, "auth  " + realA.BindAddr + "  alive\n"},
		{"env-token", []string{"SERF_RPC_AUTH=s3cret"}, nil, "auth  " + realA.BindAddr + "  alive\n"},
		{"no-token", nil, nil, "Error retrieving members: Authentication required\n"},
		{"wrong-token", nil, []string{"-rpc-auth", "nope"}, "Error connecting to Serf agent: Invalid authentication token\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := func(cli string, a *cluster.Agent) cluster.Result {
				return cluster.Run(t, tc.env, cli, append([]string{"members", "-rpc-addr", a.RPCAddr}, tc.args...)...)
			}
			base := run(realBin, realA)
			if base.Stdout != tc.want {
				t.Fatalf("baseline (real CLI, real agent): %s\nwant stdout %q", base, tc.want)
			}
			// The member row holds the agent's own address; compare the rest.
			norm := func(r cluster.Result, a *cluster.Agent) string {
				return addrRE.ReplaceAllString(r.String(), "ADDR")
			}
			if got := run(realBin, ourA); norm(got, ourA) != norm(base, realA) {
				t.Errorf("real CLI: our agent differs\n--- real agent:\n%s\n--- our agent:\n%s", base, got)
			}
			if got := run(our, realA); got.String() != base.String() {
				t.Errorf("real agent: our CLI differs\n--- real CLI:\n%s\n--- our CLI:\n%s", base, got)
			}
		})
	}
}
