package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/serf-clone/serf/testutil/cluster"
)

// TestKeyRotation: an encrypted cluster installs a new key, makes it
// primary, removes the old one, and keeps working throughout.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	gen := func() string {
		t.Helper()
		res := cluster.Run(t, nil, bin(t), "keygen")
		if res.Code != 0 || len(res.Stdout) != 45 {
			t.Fatalf("keygen: %s", res)
		}
		return res.Stdout[:44]
	}
	k1, k2 := gen(), gen()
	as := []*cluster.Agent{start(t, "k1", "-encrypt", k1), start(t, "k2", "-encrypt", k1), start(t, "k3", "-encrypt", k1)}
	cluster.JoinAll(t, converge, as...)
	a := as[0]
	step := func(args []string, want string) {
		t.Helper()
		res := a.CLI(t, "keys", args...)
		if res.Code != 0 || res.Stdout != want {
			t.Fatalf("serf keys %s: %s\nwant stdout %q", strings.Join(args, " "), res, want)
		}
	}
	listHead := "==> Asking all members for installed keys...\n==> Keys gathered, listing cluster keys...\n\n"
	step([]string{"-list"}, listHead+k1+"  [3/3]\n")
	step([]string{"-install", k2}, "==> Installing key on all members...\n==> Successfully installed key!\n")
	res := a.CLI(t, "keys", "-list")
	if res.Code != 0 || !strings.Contains(res.Stdout, k1+"  [3/3]\n") || !strings.Contains(res.Stdout, k2+"  [3/3]\n") {
		t.Fatalf("keys -list with two keys: %s", res)
	}
	step([]string{"-use", k2}, "==> Changing primary key on all members...\n==> Successfully changed primary key!\n")
	step([]string{"-remove", k1}, "==> Removing key on all members...\n==> Successfully removed key!\n")
	step([]string{"-list"}, listHead+k2+"  [3/3]\n")
	// Removing the primary key is refused by every node.
	res = a.CLI(t, "keys", "-remove", k2)
	if res.Code != 1 || !strings.Contains(res.Stdout, "Removing the primary key is not allowed") ||
		!strings.Contains(res.Stdout, "Error removing key: 3/3 nodes reported failure") {
		t.Errorf("removing the primary key: %s", res)
	}
	// The cluster still gossips with the new key: a tag change propagates.
	as[2].CLI(t, "tags", "-set", "rotated=yes")
	cluster.Eventually(t, converge, func() error {
		ms, err := a.Members(t)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Name == "k3" && m.Tags["rotated"] == "yes" {
				return nil
			}
		}
		return fmt.Errorf("k1 does not see k3's new tag: %+v", ms)
	})
}

// TestOperatorCommands: info, rtt, reachability and monitor against a
// two-agent cluster of ours.
func TestOperatorCommands(t *testing.T) {
	t.Parallel()
	a, b := start(t, "op-a", "-tag", "role=web"), start(t, "op-b")
	cluster.JoinAll(t, converge, a, b)

	res := a.CLI(t, "info")
	for _, want := range []string{"agent:\n\tname = op-a\n", "\tmembers = 2\n", "\tencrypted = false\n", "tags:\n\trole = web"} {
		if res.Code != 0 || !strings.Contains(res.Stdout, want) {
			t.Errorf("info lacks %q: %s", want, res)
		}
	}

	rtt := regexp.MustCompile(`^Estimated op-b <-> op-a rtt: \d+\.\d{3} ms\n$`)
	cluster.Eventually(t, converge, func() error {
		res := a.CLI(t, "rtt", "op-b")
		if res.Code != 0 || !rtt.MatchString(res.Stdout) {
			return fmt.Errorf("serf rtt op-b: %s", res)
		}
		return nil
	})

	res = b.CLI(t, "reachability")
	if res.Code != 0 || res.Stdout != "Total members: 2, live members: 2\nStarting reachability test...\nSuccessfully contacted all live nodes\n" {
		t.Errorf("serf reachability: %s", res)
	}

	mon := cluster.StartProc(t, nil, bin(t), "monitor", "-rpc-addr", a.RPCAddr, "-log-level", "debug")
	mon.WaitOutput(t, "[INFO] agent: Serf agent starting", converge)
	b.CLI(t, "event", "-coalesce=false", "hello", "world")
	mon.WaitOutput(t, "Received event: user-event: hello", converge)
	mon.WaitOutput(t, "Event Info:\n", converge)
	mon.WaitOutput(t, "\tPayload: []byte{0x77, 0x6f, 0x72, 0x6c, 0x64}\n", converge)
	// The agent going away ends the monitor with exit 1 and a message.
	a.Interrupt()
	if code := mon.Wait(t, exitWait); code != 1 || !strings.Contains(mon.Output(), "Remote side ended the monitor!") {
		t.Errorf("monitor after the agent left: exit %d\n%s", code, mon.Output())
	}
	a.Wait(t, exitWait)
}
