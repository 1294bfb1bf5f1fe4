package netns

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the program run inside the namespaces:
// NETNS_HELPER=serve listens on the node's address (TCP and UDP, port
// GossipPort) and echoes; NETNS_HELPER=probe PROTO ADDR sends one message
// and exits 0 if the echo came back within a second.
func TestMain(m *testing.M) {
	switch os.Getenv("NETNS_HELPER") {
	case "serve":
		serve(os.Args[len(os.Args)-1])
	case "probe":
		os.Exit(probe(os.Args[len(os.Args)-2], os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

func serve(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
	fmt.Println("serving")
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(1)
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			c.Write(buf[:n])
		}()
	}
}

func probe(proto, addr string) int {
	c, err := net.DialTimeout(proto, addr, time.Second)
	if err != nil {
		return 1
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		return 1
	}
	buf := make([]byte, 4)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "ping" {
		return 1
	}
	return 0
}

// reach reports whether from gets an echo from to over proto.
func reach(t *testing.T, from, to *Node, proto string) bool {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	res := from.Run(t, "env", "NETNS_HELPER=probe", self, "-test.run=^$", proto, to.BindAddr())
	return res.Code == 0
}

func TestNetFaults(t *testing.T) {
	n := New(t, "a", "b", "c")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range n.Nodes {
		p := nd.Start(t, []string{"NETNS_HELPER=serve"}, self, "-test.run=^$", nd.BindAddr())
		p.WaitOutput(t, "serving", 10*time.Second)
	}
	a, b, c := n.Node("a"), n.Node("b"), n.Node("c")
	check := func(from, to *Node, proto string, want bool) {
		t.Helper()
		if got := reach(t, from, to, proto); got != want {
			t.Errorf("%s -> %s over %s: reachable = %v, want %v", from.Name, to.Name, proto, got, want)
		}
	}

	for _, proto := range []string{"tcp", "udp"} {
		check(a, b, proto, true)
		check(c, a, proto, true)
	}

	n.Partition([]*Node{a}, []*Node{b, c})
	for _, proto := range []string{"tcp", "udp"} {
		check(a, b, proto, false)
		check(c, a, proto, false)
		check(b, c, proto, true)
	}
	n.Heal()
	check(a, b, "tcp", true)

	// UDP a->b dropped: a's probe to b and b's echo back to a are lost;
	// TCP still passes, and c is untouched.
	n.BlockUDP(a, b)
	check(a, b, "udp", false)
	check(b, a, "udp", false)
	check(a, b, "tcp", true)
	check(c, b, "udp", true)
	n.Heal()
	check(a, b, "udp", true)

	n.Loss(100)
	check(a, b, "udp", false)
	n.Loss(0)
	check(a, b, "udp", true)
}

// TestCleanupRemovesEverything: after a Net's test ends, none of its
// namespaces is left and its processes are gone.
func TestCleanupRemovesEverything(t *testing.T) {
	Require(t) // else the subtest skips and leaves nothing to check
	var names []string
	t.Run("net", func(t *testing.T) {
		n := New(t, "x", "y")
		n.Node("x").Start(t, nil, "sleep", "600")
		names = n.namespaces()
	})
	out, err := output("ip", "netns", "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range names {
		if listed(out, ns) {
			t.Errorf("namespace %s left after cleanup", ns)
		}
	}
	if len(names) != 3 || !strings.HasPrefix(names[0], namePrefix) {
		t.Errorf("namespaces = %v", names)
	}
}

// TestSweep removes a leftover whose creator is gone and keeps one whose
// creator is alive.
func TestSweep(t *testing.T) {
	Require(t)
	prefix := namePrefix + sanitize(t.Name()) + "-"
	dead := prefix + "999999999-x-0" // no such pid
	alive := prefix + fmt.Sprint(os.Getpid()) + "-x-0"
	for _, ns := range []string{dead, alive} {
		if err := run("", "ip", "netns", "add", ns); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = removeNS(alive); _ = removeNS(dead) })
	Sweep(t, prefix)
	out, _ := output("ip", "netns", "list")
	if listed(out, dead) {
		t.Errorf("sweep kept %s", dead)
	}
	if !listed(out, alive) {
		t.Errorf("sweep removed %s of a live process", alive)
	}
}
