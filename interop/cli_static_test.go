package interop

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

// addrRE matches the random loopback addresses, kept out of subtest names.
var addrRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// TestCLIStaticOutputIdentical: help texts, usage errors, validation
// errors and connection errors are byte-identical (stdout, stderr, exit
// code) between the real CLI and ours. No agent runs; RPC commands point at
// a closed port.
func TestCLIStaticOutputIdentical(t *testing.T) {
	t.Parallel()
	our := ours(t)
	port, err := cluster.FreeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	closed := fmt.Sprintf("127.0.0.1:%d", port)
	// Agent cases must fail validation; should one start anyway, it stays
	// on loopback. Each case gets its own gossip port, reserved as late as
	// possible, because parallel tests allocate ports too.
	agent := func(bad ...string) []string {
		gport, err := cluster.FreeGossipPort()
		if err != nil {
			t.Fatal(err)
		}
		return append([]string{"agent", "-bind", fmt.Sprintf("127.0.0.1:%d", gport), "-rpc-addr", closed}, bad...)
	}
	cmds := []string{"agent", "event", "force-leave", "info", "join", "keygen", "keys", "leave",
		"members", "monitor", "query", "reachability", "rtt", "tags", "version"}
	cases := [][]string{
		{}, {"-h"}, {"--help"}, {"-v"}, {"--version"}, {"version"}, {"help"}, {"bogus"},
		{"members", "-bogus-flag"}, {"-x", "members"},
		{"members", "--version"}, {"version", "extra"}, {"query", "-help"},
		{"members", "-format"}, {"query", "-timeout", "soon", "q"},
		{"event"}, {"event", "-rpc-addr", closed, "a", "b", "c"}, {"event", "-rpc-addr", closed, "ev"},
		{"force-leave"}, {"force-leave", "-rpc-addr", closed, "x"},
		{"join"}, {"join", "-rpc-addr", closed, "127.0.0.1:1"},
		{"query"}, {"query", "-rpc-addr", closed, "-relay-factor", "300", "q"}, {"query", "-rpc-addr", closed, "-tag", "bad", "q"},
		{"query", "-rpc-addr", closed, "q"},
		{"tags"}, {"tags", "-rpc-addr", closed, "-set", "a=b"},
		{"keys"}, {"keys", "-list", "-install", "x"}, {"keys", "-rpc-addr", closed, "-list"},
		{"rtt", "-rpc-addr", closed}, {"rtt", "-rpc-addr", closed, "a"},
		{"members", "-rpc-addr", closed}, {"members", "-rpc-addr", closed, "-tag", "bad"},
		{"members", "-format", "xml", "-rpc-addr", closed},
		{"info", "-rpc-addr", closed}, {"leave", "-rpc-addr", closed},
		{"monitor", "-rpc-addr", closed}, {"reachability", "-rpc-addr", closed},
		agent("-log-level", "VERBOSE"), agent("-profile", "moon"),
		agent("-encrypt", "notbase64"), agent("-tag", "novalue"),
		agent("-event-handler", "bogus-type=foo.sh"),
		agent("-retry-interval", "bogus"),
	}
	// Ports held busy by the test: agents must fail to bind them.
	busyRPC, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busyRPC.Close()
	busyGossip, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busyGossip.Close()
	cases = append(cases,
		agent("-protocol", "9"),
		agent("-encrypt", "c2hvcnQ="),
		agent("-rpc-addr", busyRPC.Addr().String()),
		agent("-bind", busyGossip.Addr().String()),
	)
	for _, c := range cmds {
		cases = append(cases, []string{c, "-h"})
	}
	for _, args := range cases {
		name := addrRE.ReplaceAllString(strings.Join(append([]string{"serf"}, args...), " "), "ADDR")
		t.Run(name, func(t *testing.T) {
			want := cluster.Run(t, nil, realBin, args...)
			got := cluster.Run(t, nil, our, args...)
			if got.String() != want.String() {
				t.Errorf("output differs\n--- real:\n%s\n--- ours:\n%s", want, got)
			}
		})
	}
}
