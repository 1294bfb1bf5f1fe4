package cluster

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds how long an agent may take to print its banner and
// accept RPC connections.
const StartTimeout = 30 * time.Second

// Agent is one `serf agent` process with its own gossip and RPC ports.
type Agent struct {
	*Proc
	Name     string
	Bin      string // binary that runs the agent; default CLI for this agent
	BindAddr string // 127.0.0.1:port (gossip, TCP+UDP)
	RPCAddr  string // 127.0.0.1:port
	// Prefix is the command every process of this agent runs under (the
	// agent itself and CLI calls through a.CLI), e.g. `ip netns exec NS`
	// for an agent in a network namespace. Empty: run bin directly.
	Prefix []string
	t      testing.TB
}

// Options configure StartAgent.
type Options struct {
	Name string   // -node; required
	Args []string // extra agent flags, e.g. -tag k=v, -event-handler x
	Env  []string // extra environment for the agent process
	// BindAddr and RPCAddr, when set, replace the free ports (to restart
	// an agent where it was, e.g. for snapshot rejoin tests).
	BindAddr, RPCAddr string
	// NoWait returns as soon as the process started, without waiting for
	// the banner (for tests of startup failures).
	NoWait bool
	// Prefix runs the agent, and every CLI call made through the Agent, as
	// `Prefix... bin ...` (see Agent.Prefix). With a prefix the RPC address
	// may not be reachable from the test process, so readiness is checked
	// with `serf members` run under the same prefix instead of a dial.
	Prefix []string
}

// StartAgent runs `bin agent -node NAME -bind 127.0.0.1:P -rpc-addr
// 127.0.0.1:R ARGS...` on free ports and waits until it printed
// "Serf agent running!" and accepts TCP connections on its RPC port. It
// retries with new ports if a port was taken in the meantime.
func StartAgent(t testing.TB, bin string, opts Options) *Agent {
	t.Helper()
	var lastOut string
	for attempt := 0; attempt < 3; attempt++ {
		a, err := tryStartAgent(t, bin, opts)
		if err == nil {
			return a
		}
		lastOut = a.Output()
		a.Kill()
		if !strings.Contains(lastOut, "address already in use") || opts.BindAddr != "" || opts.RPCAddr != "" {
			t.Fatalf("agent %s did not start: %v\noutput:\n%s", opts.Name, err, lastOut)
		}
	}
	t.Fatalf("agent %s: ports kept being taken; last output:\n%s", opts.Name, lastOut)
	return nil
}

func tryStartAgent(t testing.TB, bin string, opts Options) (*Agent, error) {
	a := &Agent{Name: opts.Name, Bin: bin, BindAddr: opts.BindAddr, RPCAddr: opts.RPCAddr, Prefix: opts.Prefix, t: t}
	if a.BindAddr == "" {
		gossip, err := FreeGossipPort()
		if err != nil {
			t.Fatal(err)
		}
		a.BindAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(gossip))
	}
	if a.RPCAddr == "" {
		rpc, err := FreeTCPPort()
		if err != nil {
			t.Fatal(err)
		}
		a.RPCAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(rpc))
	}
	args := append([]string{"agent", "-node", opts.Name, "-bind", a.BindAddr, "-rpc-addr", a.RPCAddr}, opts.Args...)
	p, err := startProc(opts.Env, a.command(bin), a.args(args)...)
	if err != nil {
		t.Fatalf("start agent %s: %v", opts.Name, err)
	}
	a.Proc = p
	t.Cleanup(p.Kill)
	if opts.NoWait {
		return a, nil
	}
	err = Poll(StartTimeout, func() error {
		if p.Exited() {
			return Permanent(fmt.Errorf("agent exited early: %v", p.err))
		}
		if !strings.Contains(p.Output(), "Serf agent running!") {
			return fmt.Errorf("no banner yet")
		}
		if len(a.Prefix) > 0 {
			if res := a.CLI(t, "members"); res.Code != 0 {
				return fmt.Errorf("rpc not answering: %s", res)
			}
			return nil
		}
		c, err := net.DialTimeout("tcp", a.RPCAddr, time.Second)
		if err != nil {
			return fmt.Errorf("rpc not reachable: %w", err)
		}
		c.Close()
		return nil
	})
	return a, err
}

// command and args turn `bin args...` into the command line under a's
// Prefix.
func (a *Agent) command(bin string) string {
	if len(a.Prefix) > 0 {
		return a.Prefix[0]
	}
	return bin
}

func (a *Agent) args(args []string) []string {
	if len(a.Prefix) > 0 {
		return append(append(append([]string{}, a.Prefix[1:]...), a.Bin), args...)
	}
	return args
}

// CLI runs `a.Bin CMD -rpc-addr ADDR ARGS...` against this agent (under
// a.Prefix, if any).
func (a *Agent) CLI(t testing.TB, cmd string, args ...string) Result {
	t.Helper()
	if len(a.Prefix) > 0 {
		return Run(t, nil, a.command(a.Bin), a.args(append([]string{cmd, "-rpc-addr", a.RPCAddr}, args...))...)
	}
	return CLI(t, a.Bin, a.RPCAddr, cmd, args...)
}

// CLI runs `bin CMD -rpc-addr ADDR ARGS...`: any serf CLI against any agent.
func CLI(t testing.TB, bin, rpcAddr, cmd string, args ...string) Result {
	t.Helper()
	return Run(t, nil, bin, append([]string{cmd, "-rpc-addr", rpcAddr}, args...)...)
}

// Interrupt sends SIGINT (graceful leave in the agent).
func (a *Agent) Interrupt() {
	a.t.Helper()
	if err := a.Signal(syscall.SIGINT); err != nil {
		a.t.Fatalf("SIGINT %s: %v", a.Name, err)
	}
}

// Members runs `members` against the agent with a's own binary and parses
// the text table. Errors are returned, not fatal, so it can be polled.
func (a *Agent) Members(t testing.TB) ([]Member, error) {
	t.Helper()
	if a.Exited() {
		return nil, Permanent(fmt.Errorf("agent %s has exited (%v); output:\n%s", a.Name, a.err, a.Output()))
	}
	res := a.CLI(t, "members")
	if res.Code != 0 {
		return nil, fmt.Errorf("serf members on %s: %s", a.Name, res)
	}
	return ParseMembers(res.Stdout), nil
}

// WaitMembers polls until a's member list has exactly the given name ->
// status entries (other members are not allowed), or fails the test.
func (a *Agent) WaitMembers(t testing.TB, timeout time.Duration, want map[string]string) {
	t.Helper()
	Eventually(t, timeout, func() error {
		ms, err := a.Members(t)
		if err != nil {
			return err
		}
		got := map[string]string{}
		for _, m := range ms {
			got[m.Name] = m.Status
		}
		if len(got) != len(want) {
			return fmt.Errorf("%s sees %v, want %v", a.Name, got, want)
		}
		for n, s := range want {
			if got[n] != s {
				return fmt.Errorf("%s sees %v, want %v", a.Name, got, want)
			}
		}
		return nil
	})
}

// WaitStatus polls until a sees member name with the given status.
func (a *Agent) WaitStatus(t testing.TB, timeout time.Duration, name, status string) {
	t.Helper()
	Eventually(t, timeout, func() error {
		ms, err := a.Members(t)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Name == name {
				if m.Status == status {
					return nil
				}
				return fmt.Errorf("%s sees %s as %s, want %s", a.Name, name, m.Status, status)
			}
		}
		return fmt.Errorf("%s does not list %s (want %s)", a.Name, name, status)
	})
}

// JoinAll makes every agent after the first join the first one through the
// CLI (`serf join`) and waits until every agent sees all of them alive.
func JoinAll(t testing.TB, timeout time.Duration, agents ...*Agent) {
	t.Helper()
	want := map[string]string{}
	for _, a := range agents {
		want[a.Name] = "alive"
	}
	for _, a := range agents[1:] {
		res := a.CLI(t, "join", agents[0].BindAddr)
		if res.Code != 0 || !strings.Contains(res.Stdout, "Successfully joined cluster by contacting 1 nodes.") {
			t.Fatalf("%s join %s: %s", a.Name, agents[0].BindAddr, res)
		}
	}
	for _, a := range agents {
		a.WaitMembers(t, timeout, want)
	}
}
