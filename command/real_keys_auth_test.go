package command

import (
	"testing"

	"github.com/serf-clone/serf/client/realagenttest"
)

func TestRealKeysWithEncryption(t *testing.T) {
	const (
		k1 = "0s3dEQDpvcU1Pd1Gg/1zcWCxF5LuFxxBCNJoAtXPGUo="
		k2 = "LZ55WBBkjVytKLE/naOZcd0MFqW3aHw0olFnaOuF+c0="
	)
	a := realagenttest.Start(t, realagenttest.Options{Name: "k1", Args: []string{"-encrypt", k1}})
	rpc := "-rpc-addr=" + a.RPCAddr

	// Every step runs the real CLI first and ours second, so each action
	// is applied twice; they are all idempotent.
	compare(t, nil, "keys", rpc, "-list")
	compare(t, nil, "keys", rpc, "-install", k2)
	compare(t, bySortedLines, "keys", rpc, "-list")
	compare(t, nil, "keys", rpc, "-remove", k1) // the primary key: refused
	compare(t, nil, "keys", rpc, "-use", k2)
	compare(t, nil, "keys", rpc, "-remove", k1)
	compare(t, nil, "keys", rpc, "-list")
}

func TestRealRPCAuth(t *testing.T) {
	a := realagenttest.Start(t, realagenttest.Options{Name: "alpha", RPCAuth: "sekrit"})
	rpc := "-rpc-addr=" + a.RPCAddr

	compare(t, nil, "members", rpc)
	compare(t, nil, "members", rpc, "-rpc-auth", "wrong")
	compare(t, nil, "members", rpc, "-rpc-auth", "sekrit")

	// SERF_RPC_AUTH and SERF_RPC_ADDR supply the defaults.
	t.Setenv("SERF_RPC_ADDR", a.RPCAddr)
	t.Setenv("SERF_RPC_AUTH", "sekrit")
	realOut, _, realCode := realagenttest.RunCLI(t, nil, "members")
	ours := runOurs(t, "members")
	if ours.stdout != realOut || ours.code != realCode || realCode != 0 {
		t.Fatalf("env defaults: real %q %d, ours %q %d", realOut, realCode, ours.stdout, ours.code)
	}
}
