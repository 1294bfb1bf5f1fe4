package interop

import (
	"fmt"
	"strings"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

// TestErrorOutputIdentical: requests the agent must refuse produce the same
// output whichever agent refuses them and whichever CLI asks. The baseline is
// the real CLI against a real agent; it is compared with the real CLI
// against our agent (agent behaviour, error strings on the wire) and our CLI
// against the real agent (CLI behaviour). Each agent is alone in its own
// cluster under the same node name so the outputs can match byte for byte.
func TestErrorOutputIdentical(t *testing.T) {
	t.Parallel()
	our := ours(t)
	key := cluster.Run(t, nil, realBin, "keygen").Stdout[:44]
	other := cluster.Run(t, nil, realBin, "keygen").Stdout[:44]
	realA := cluster.StartAgent(t, realBin, cluster.Options{Name: "solo"})
	ourA := cluster.StartAgent(t, our, cluster.Options{Name: "solo"})
	realE := cluster.StartAgent(t, realBin, cluster.Options{Name: "solo-e", Args: []string{"-encrypt", key}})
	ourE := cluster.StartAgent(t, our, cluster.Options{Name: "solo-e", Args: []string{"-encrypt", key}})

	port, err := cluster.FreeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	closed := fmt.Sprintf("127.0.0.1:%d", port)
	big := strings.Repeat("x", 2000)
	plain := [][]string{
		{"join", closed},
		{"keys", "-list"},
		{"keys", "-install", key},
		{"event", "big", big},
		{"event", "big", big[:600]},
		{"query", "_serf_ping"},
		{"query", "big", big},
		{"tags", "-set", "big=" + big[:600]},
		{"members", "-name", "("},
		{"members", "-status", "("},
		{"force-leave", "nobody"},
		{"rtt", "nobody"},
		{"rtt", "solo", "nobody"},
		{"members", "-format", "xml"},
		{"info", "-format", "xml"},
		{"query", "-format", "xml", "q"},
	}
	encrypted := [][]string{
		{"keys", "-use", other},
		{"keys", "-remove", key},
		{"keys", "-install", "notbase64"},
		{"keys", "-install=c2hvcnQ="}, // valid base64, wrong key size
		{"keys", "-use", "notbase64"},
		{"keys", "-list"},
	}
	check := func(t *testing.T, r, o *cluster.Agent, args []string) {
		base := cluster.CLI(t, realBin, r.RPCAddr, args[0], args[1:]...)
		realOnOur := cluster.CLI(t, realBin, o.RPCAddr, args[0], args[1:]...)
		ourOnReal := cluster.CLI(t, our, r.RPCAddr, args[0], args[1:]...)
		if realOnOur.String() != base.String() {
			t.Errorf("real CLI: our agent answers differently\n--- real agent:\n%s\n--- our agent:\n%s", base, realOnOur)
		}
		if ourOnReal.String() != base.String() {
			t.Errorf("real agent: our CLI prints differently\n--- real CLI:\n%s\n--- our CLI:\n%s", base, ourOnReal)
		}
	}
	for _, args := range plain {
		t.Run(shortName(args), func(t *testing.T) { check(t, realA, ourA, args) })
	}
	for _, args := range encrypted {
		t.Run("encrypted "+shortName(args), func(t *testing.T) { check(t, realE, ourE, args) })
	}
}

// shortName names a subtest by the command and its first flag, so names
// stay stable although ports and keys are random.
func shortName(args []string) string {
	if len(args) > 1 && strings.HasPrefix(args[1], "-") {
		return args[0] + " " + args[1]
	}
	return args[0]
}
