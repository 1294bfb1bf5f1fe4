// Package netns builds private networks of Linux network namespaces for
// fault-injection tests of real agent processes, and injects faults into
// them: partitions, random packet loss and one-way UDP blocks.
//
// A Net is one "switch" namespace holding a bridge, plus one namespace per
// node, joined to the bridge by a veth pair (eth0 in the node, pN in the
// switch). Nodes get 10.77.0.N/24; those addresses exist only inside the
// namespaces the test made. Each node namespace has its own loopback, so an
// agent's RPC can listen on 127.0.0.1:7373 in every node at once; CLI calls
// run inside the node's namespace too (Node.Prefix).
//
// Faults are nftables rules in the node namespaces (the kernel this runs on
// has no tc qdiscs), in a table of their own with one chain per kind of
// fault, so each kind is set and cleared on its own.
//
// Everything lives inside namespaces the test created: deleting them removes
// every interface, bridge and rule with them. t.Cleanup kills every process
// left in them and deletes them, even after a failure; New also sweeps
// leftovers of an earlier run of the same test whose process is gone.
//
// The package uses only the standard library and shells out to `ip` and
// `nft`. It needs root; Require skips the test (or fails it, under
// SERF_REQUIRE_NETNS) when namespaces cannot be made.
package netns

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// EnvRequire names the variable that, when set (make test sets it when
// running as root), turns a Require skip into a failure, so the fault suite cannot silently vanish.
const EnvRequire = "SERF_REQUIRE_NETNS"

// Fixed addresses inside every node namespace.
const (
	Subnet     = "10.77.0"
	GossipPort = 7946
	RPCAddr    = "127.0.0.1:7373"
)

// namePrefix starts every namespace this package creates.
const namePrefix = "serfns-"

// cmdTimeout bounds each ip/nft call.
const cmdTimeout = 30 * time.Second

// Available reports why network namespaces cannot be used here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (run `make netns-deps`): %v", tool, err)
		}
	}
	return nil
}

// Require skips the test when namespaces cannot be used, saying why; with
// SERF_REQUIRE_NETNS set it fails instead.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("fault suite cannot run (%s is set): %v", EnvRequire, err)
		}
		t.Skipf("fault suite skipped: %v", err)
	}
}

// Net is a private network of node namespaces around one bridge.
type Net struct {
	t      testing.TB
	prefix string // namespace names start with it
	sw     string // switch namespace
	Nodes  []*Node

	mu sync.Mutex // serialises fault changes
}

// Node is one namespace on the Net.
type Node struct {
	Name string // short name given to New, e.g. "a"
	NS   string // namespace name
	IP   string // 10.77.0.N
	net  *Net
}

// New creates a Net with one node per name and registers its removal with
// t.Cleanup. It calls Require first.
func New(t testing.TB, names ...string) *Net {
	t.Helper()
	Require(t)
	if len(names) == 0 || len(names) > 250 {
		t.Fatalf("netns: want 1..250 nodes, got %d", len(names))
	}
	testPrefix := namePrefix + sanitize(t.Name()) + "-"
	Sweep(t, testPrefix)
	var rnd [3]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	n := &Net{t: t, prefix: testPrefix + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(rnd[:]) + "-"}
	n.sw = n.prefix + "sw"
	t.Cleanup(n.remove)

	if err := n.build(names); err != nil {
		t.Fatalf("netns: building network: %v", err)
	}
	return n
}

func (n *Net) build(names []string) error {
	if err := run("", "ip", "netns", "add", n.sw); err != nil {
		return err
	}
	for _, c := range [][]string{
		{"link", "add", "br0", "type", "bridge"},
		{"link", "set", "br0", "up"},
	} {
		if err := run("", "ip", append([]string{"-n", n.sw}, c...)...); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, name := range names {
		if seen[name] {
			return fmt.Errorf("duplicate node name %q", name)
		}
		seen[name] = true
		node := &Node{Name: name, NS: n.prefix + strconv.Itoa(i), IP: Subnet + "." + strconv.Itoa(i+1), net: n}
		if err := run("", "ip", "netns", "add", node.NS); err != nil {
			return err
		}
		n.Nodes = append(n.Nodes, node)
		port := "p" + strconv.Itoa(i)
		for _, c := range [][]string{
			{"-n", n.sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", node.NS},
			{"-n", n.sw, "link", "set", port, "master", "br0"},
			{"-n", n.sw, "link", "set", port, "up"},
			{"-n", node.NS, "addr", "add", node.IP + "/24", "dev", "eth0"},
			{"-n", node.NS, "link", "set", "eth0", "up"},
			{"-n", node.NS, "link", "set", "lo", "up"},
		} {
			if err := run("", "ip", c...); err != nil {
				return err
			}
		}
		if err := run(baseRules, "ip", "netns", "exec", node.NS, "nft", "-f", "-"); err != nil {
			return fmt.Errorf("nftables in %s: %w", node.NS, err)
		}
	}
	return nil
}

// baseRules is the fault table of every node: base chains that jump to one
// regular chain per kind of fault. Loopback (RPC, CLI) is never touched.
const baseRules = `table inet serffault {
	chain partition {}
	chain oneway {}
	chain loss {}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "lo" accept
		jump partition
		jump loss
	}
	chain output {
		type filter hook output priority filter; policy accept;
		oifname "lo" accept
		jump partition
		jump oneway
	}
}
`

// Node returns the node with the given name, or fails the test.
func (n *Net) Node(name string) *Node {
	for _, nd := range n.Nodes {
		if nd.Name == name {
			return nd
		}
	}
	n.t.Fatalf("netns: no node %q", name)
	return nil
}

// Partition cuts the network into the given groups: nodes in different
// groups cannot exchange any packet (TCP or UDP, either way); nodes in the
// same group still can. Every node must be in exactly one group. It
// replaces any earlier partition.
func (n *Net) Partition(groups ...[]*Node) {
	n.t.Helper()
	group := map[*Node]int{}
	for g, nodes := range groups {
		for _, nd := range nodes {
			if _, dup := group[nd]; dup {
				n.t.Fatalf("netns: node %s is in two groups", nd.Name)
			}
			group[nd] = g
		}
	}
	if len(group) != len(n.Nodes) {
		n.t.Fatalf("netns: partition names %d of %d nodes", len(group), len(n.Nodes))
	}
	n.each(func(nd *Node) string {
		var others []string
		for _, o := range n.Nodes {
			if group[o] != group[nd] {
				others = append(others, o.IP)
			}
		}
		if len(others) == 0 {
			return flush("partition")
		}
		set := "{ " + strings.Join(others, ", ") + " }"
		return flush("partition") +
			"add rule inet serffault partition ip saddr " + set + " drop\n" +
			"add rule inet serffault partition ip daddr " + set + " drop\n"
	})
}

// Heal removes the partition and every one-way block. Loss stays as set.
func (n *Net) Heal() {
	n.t.Helper()
	n.each(func(*Node) string { return flush("partition") + flush("oneway") })
}

// Loss makes every node drop each packet it receives from the network with
// the given probability (percent, 0..100), so a packet between any two
// nodes is lost with that probability. Loss(0) removes it.
func (n *Net) Loss(percent int) {
	n.t.Helper()
	if percent < 0 || percent > 100 {
		n.t.Fatalf("netns: loss %d%% out of range", percent)
	}
	n.each(func(*Node) string {
		switch percent {
		case 0:
			return flush("loss")
		case 100:
			return flush("loss") + "add rule inet serffault loss drop\n"
		}
		return flush("loss") + fmt.Sprintf("add rule inet serffault loss numgen random mod 100 < %d drop\n", percent)
	})
}

// BlockUDP drops every UDP packet from `from` to `to`; the other direction,
// and TCP both ways, still pass. Heal removes it.
func (n *Net) BlockUDP(from, to *Node) {
	n.t.Helper()
	n.apply(from, "add rule inet serffault oneway ip daddr "+to.IP+" meta l4proto udp drop\n")
}

func flush(chain string) string { return "flush chain inet serffault " + chain + "\n" }

func (n *Net) each(rules func(*Node) string) {
	n.t.Helper()
	for _, nd := range n.Nodes {
		n.apply(nd, rules(nd))
	}
}

func (n *Net) apply(nd *Node, rules string) {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := run(rules, "ip", "netns", "exec", nd.NS, "nft", "-f", "-"); err != nil {
		n.t.Fatalf("netns: rules in %s: %v", nd.Name, err)
	}
}

// remove kills every process still in the Net's namespaces and deletes
// them (and so every interface and rule in them).
func (n *Net) remove() {
	for _, ns := range n.namespaces() {
		if err := removeNS(ns); err != nil {
			n.t.Errorf("netns: cleanup: %v", err)
		}
	}
}

func (n *Net) namespaces() []string {
	var out []string
	for _, nd := range n.Nodes {
		out = append(out, nd.NS)
	}
	// The switch goes last; deleting a node also deletes its veth peer.
	return append(out, n.sw)
}

// Sweep deletes namespaces whose names start with prefix and whose creating
// process (the pid in the name) no longer exists: leftovers of a test run
// that was killed before its cleanup ran.
func Sweep(t testing.TB, prefix string) {
	t.Helper()
	out, err := output("ip", "netns", "list")
	if err != nil {
		t.Logf("netns: sweep: %v", err)
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		pidStr, _, _ := strings.Cut(strings.TrimPrefix(f[0], prefix), "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || processAlive(pid) {
			continue
		}
		if err := removeNS(f[0]); err != nil {
			t.Logf("netns: sweep: %v", err)
		} else {
			t.Logf("netns: swept leftover namespace %s", f[0])
		}
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// removeNS kills the processes in ns, waits for them to go, and deletes it.
func removeNS(ns string) error {
	deadline := time.Now().Add(cmdTimeout)
	for {
		out, err := output("ip", "netns", "pids", ns)
		if err != nil {
			break // gone already, or unreadable: try the delete anyway
		}
		pids := strings.Fields(out)
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in %s do not exit", pids, ns)
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := output("ip", "netns", "list")
	if err == nil && !listed(out, ns) {
		return nil
	}
	return run("", "ip", "netns", "del", ns)
}

func listed(list, ns string) bool {
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == ns {
			return true
		}
	}
	return false
}

// Prefix is the command prefix that runs a program inside the node.
func (nd *Node) Prefix() []string { return []string{"ip", "netns", "exec", nd.NS} }

// BindAddr is the node's gossip address, 10.77.0.N:7946.
func (nd *Node) BindAddr() string { return nd.IP + ":" + strconv.Itoa(GossipPort) }

// Start runs bin with args inside the node as a cluster.Proc (own process
// group, killed at cleanup).
func (nd *Node) Start(t testing.TB, env []string, bin string, args ...string) *cluster.Proc {
	t.Helper()
	return cluster.StartProc(t, env, "ip", append(append(nd.Prefix()[1:], bin), args...)...)
}

// Run runs bin with args to completion inside the node.
func (nd *Node) Run(t testing.TB, bin string, args ...string) cluster.Result {
	t.Helper()
	return cluster.Run(t, nil, "ip", append(append(nd.Prefix()[1:], bin), args...)...)
}

// StartAgent starts `bin agent` in the node, named after it unless
// opts.Name is set, gossiping on 10.77.0.N:7946 with RPC on
// 127.0.0.1:7373 inside the node; the Agent's CLI calls run there too.
func (nd *Node) StartAgent(t testing.TB, bin string, opts cluster.Options) *cluster.Agent {
	t.Helper()
	return cluster.StartAgent(t, bin, nd.AgentOptions(opts))
}

// AgentOptions fills in what StartAgent sets (name, addresses, prefix), for
// starting several agents at once with cluster.StartAgents.
func (nd *Node) AgentOptions(opts cluster.Options) cluster.Options {
	if opts.Name == "" {
		opts.Name = nd.Name
	}
	opts.BindAddr, opts.RPCAddr, opts.Prefix = nd.BindAddr(), RPCAddr, nd.Prefix()
	return opts
}

// sanitize keeps a test name usable in a namespace name and short enough.
func sanitize(name string) string {
	b := []byte(name)
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	if len(b) > 60 {
		b = b[:60]
	}
	return string(b)
}

func run(stdin, name string, args ...string) error {
	_, err := runOut(stdin, name, args...)
	return err
}

func output(name string, args ...string) (string, error) { return runOut("", name, args...) }

func runOut(stdin, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return out.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
		}
		return out.String(), nil
	case <-time.After(cmdTimeout):
		_ = cmd.Process.Kill()
		killed := <-done
		return out.String(), fmt.Errorf("%s %s: timed out after %v (%v)", name, strings.Join(args, " "), cmdTimeout, killed)
	}
}
