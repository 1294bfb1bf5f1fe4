package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

func start(t *testing.T, name string, args ...string) *cluster.Agent {
	t.Helper()
	return cluster.StartAgent(t, bin(t), cluster.Options{Name: name, Args: args})
}

// TestGettingStarted follows the README: start an agent, look at it with
// `serf members`, stop it with Ctrl-C.
func TestGettingStarted(t *testing.T) {
	t.Parallel()
	a := start(t, "gs")
	a.WaitOutput(t, "[INFO] serf: EventMemberJoin: gs 127.0.0.1", converge)
	out := a.Output()
	banner := []string{
		"==> Starting Serf agent...\n",
		"==> Starting Serf agent RPC...\n",
		"==> Serf agent running!\n",
		"                      Node name: 'gs'\n",
		"                      Bind addr: '" + a.BindAddr + "'\n",
		"                       RPC addr: '" + a.RPCAddr + "'\n",
		"                      Encrypted: false\n",
		"                       Snapshot: false\n",
		"                        Profile: lan\n",
		"    Message Compression Enabled: true\n",
		"\n==> Log data will now stream in as it occurs:\n\n",
		"[INFO] agent: Serf agent starting\n",
	}
	last := -1
	for _, line := range banner {
		i := strings.Index(out, line)
		if i < 0 {
			t.Errorf("agent output lacks %q", line)
			continue
		}
		if i < last {
			t.Errorf("banner line %q out of order", line)
		}
		last = i
	}
	if !strings.HasPrefix(out, "==> Starting Serf agent...\n") {
		t.Errorf("agent output does not start with the banner:\n%s", out)
	}

	res := a.CLI(t, "members")
	want := fmt.Sprintf("gs  %s  alive\n", a.BindAddr)
	if res.Code != 0 || res.Stdout != want {
		t.Errorf("serf members: %s\nwant stdout %q", res, want)
	}

	a.Interrupt()
	if code := a.Wait(t, exitWait); code != 0 {
		t.Errorf("exit code after SIGINT = %d, want 0", code)
	}
	out = a.Output()
	shutdown := []string{
		"==> Caught signal: interrupt\n",
		"==> Gracefully shutting down agent...\n",
		"[INFO] agent: requesting graceful leave from Serf\n",
		"[INFO] agent: requesting serf shutdown\n",
		"[INFO] agent: shutdown complete\n",
	}
	last = -1
	for _, line := range shutdown {
		i := strings.Index(out, line)
		if i < 0 || i < last {
			t.Errorf("shutdown output lacks %q (or out of order):\n%s", line, out)
			continue
		}
		last = i
	}
}

// TestThreeAgentsJoin: three agents joined with `serf join` all see three
// alive members with the right addresses.
func TestThreeAgentsJoin(t *testing.T) {
	t.Parallel()
	as := []*cluster.Agent{start(t, "one"), start(t, "two"), start(t, "three")}
	cluster.JoinAll(t, converge, as...)
	requireAdvertisedAddrs(t, as)
	// Joining again is harmless and reports the contacted node.
	res := as[2].CLI(t, "join", as[1].BindAddr)
	if res.Code != 0 || res.Stdout != "Successfully joined cluster by contacting 1 nodes.\n" {
		t.Errorf("re-join: %s", res)
	}
	// A failed join is reported, exit 1.
	port, err := cluster.FreeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	res = as[0].CLI(t, "join", fmt.Sprintf("127.0.0.1:%d", port))
	if res.Code != 1 || !strings.HasPrefix(res.Stdout, "Error joining the cluster: ") {
		t.Errorf("join to a closed port: %s", res)
	}
}

// TestRPCAddrEnv: SERF_RPC_ADDR selects the agent; -rpc-addr wins over it.
func TestRPCAddrEnv(t *testing.T) {
	t.Parallel()
	a := start(t, "envy")
	want := fmt.Sprintf("envy  %s  alive\n", a.BindAddr)
	res := cluster.Run(t, []string{"SERF_RPC_ADDR=" + a.RPCAddr}, bin(t), "members")
	if res.Code != 0 || res.Stdout != want {
		t.Errorf("SERF_RPC_ADDR members: %s", res)
	}
	port, err := cluster.FreeTCPPort()
	if err != nil {
		t.Fatal(err)
	}
	closed := fmt.Sprintf("127.0.0.1:%d", port)
	res = cluster.Run(t, []string{"SERF_RPC_ADDR=" + closed}, bin(t), "members", "-rpc-addr", a.RPCAddr)
	if res.Code != 0 || res.Stdout != want {
		t.Errorf("-rpc-addr over SERF_RPC_ADDR: %s", res)
	}
	res = cluster.Run(t, []string{"SERF_RPC_ADDR=" + closed}, bin(t), "members")
	if res.Code != 1 || !strings.HasPrefix(res.Stdout, "Error connecting to Serf agent: ") {
		t.Errorf("SERF_RPC_ADDR to a closed port: %s", res)
	}
}

// TestLeaveFailForceLeave: a graceful leave is seen as left, kill -9 as
// failed, and force-leave turns the failed member into left everywhere.
func TestLeaveFailForceLeave(t *testing.T) {
	t.Parallel()
	as := []*cluster.Agent{start(t, "n1"), start(t, "n2"), start(t, "n3"), start(t, "n4")}
	cluster.JoinAll(t, converge, as...)
	n1, n2, n3, n4 := as[0], as[1], as[2], as[3]

	res := n4.CLI(t, "leave")
	if res.Code != 0 || res.Stdout != "Graceful leave complete\n" {
		t.Errorf("serf leave: %s", res)
	}
	if code := n4.Wait(t, exitWait); code != 0 {
		t.Errorf("n4 exit code after serf leave = %d", code)
	}
	for _, a := range as[:3] {
		a.WaitStatus(t, converge, "n4", "left")
	}

	n3.Kill()
	for _, a := range as[:2] {
		a.WaitStatus(t, failDetect, "n3", "failed")
	}

	res = n1.CLI(t, "force-leave", "n3")
	if res.Code != 0 || res.Stdout != "" {
		t.Errorf("serf force-leave: %s", res)
	}
	for _, a := range []*cluster.Agent{n1, n2} {
		a.WaitMembers(t, converge, map[string]string{"n1": "alive", "n2": "alive", "n3": "left", "n4": "left"})
	}
}

// TestTagsVisible: tags given at start and changed with `serf tags` show up
// in every agent's member list.
func TestTagsVisible(t *testing.T) {
	t.Parallel()
	a := start(t, "tag-a", "-tag", "role=web")
	b := start(t, "tag-b")
	cluster.JoinAll(t, converge, a, b)
	waitTags := func(want map[string]string) {
		t.Helper()
		cluster.Eventually(t, converge, func() error {
			ms, err := b.Members(t)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if m.Name == "tag-a" && fmt.Sprint(m.Tags) == fmt.Sprint(want) {
					return nil
				}
			}
			return fmt.Errorf("tag-b sees %+v, want tag-a tags %v", ms, want)
		})
	}
	waitTags(map[string]string{"role": "web"})
	res := a.CLI(t, "tags", "-set", "dc=east", "-set", "rack=r1")
	if res.Code != 0 || res.Stdout != "Successfully updated agent tags\n" {
		t.Fatalf("serf tags -set: %s", res)
	}
	waitTags(map[string]string{"dc": "east", "rack": "r1", "role": "web"})
	res = a.CLI(t, "tags", "-delete", "role")
	if res.Code != 0 {
		t.Fatalf("serf tags -delete: %s", res)
	}
	waitTags(map[string]string{"dc": "east", "rack": "r1"})
	res = b.CLI(t, "members", "-tag", "dc=east")
	if ms := cluster.ParseMembers(res.Stdout); len(ms) != 1 || ms[0].Name != "tag-a" {
		t.Errorf("members -tag dc=east: %s", res)
	}
}

// requireAdvertisedAddrs checks that every agent lists every other at the
// address it was bound to.
func requireAdvertisedAddrs(t *testing.T, as []*cluster.Agent) {
	t.Helper()
	for _, a := range as {
		ms, err := a.Members(t)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			for _, b := range as {
				if b.Name == m.Name && m.Addr != b.BindAddr {
					t.Errorf("%s lists %s at %s, want %s", a.Name, m.Name, m.Addr, b.BindAddr)
				}
			}
		}
	}
}
