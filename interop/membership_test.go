package interop

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serf-clone/serf/testutil/cluster"
)

// Generous deadlines for gossip to settle on a loaded 2-core machine; they
// bound the wait, they are not expectations about speed.
const (
	converge   = 60 * time.Second
	failDetect = 90 * time.Second
)

func allStatus(status string, agents ...*cluster.Agent) map[string]string {
	want := map[string]string{}
	for _, a := range agents {
		want[a.Name] = status
	}
	return want
}

// startAgents starts one agent per binary, named prefix0, prefix1, ...
func startAgents(t *testing.T, names []string, bins []string, args ...string) []*cluster.Agent {
	t.Helper()
	var as []*cluster.Agent
	for i, bin := range bins {
		as = append(as, cluster.StartAgent(t, bin, cluster.Options{Name: names[i], Args: args}))
	}
	return as
}

// TestRealOnlyClusterHarness is the control for every mixed test: the
// harness drives three real agents and the real CLI through join, graceful
// leave and a crash. If this fails, the harness or machine is at fault.
func TestRealOnlyClusterHarness(t *testing.T) {
	t.Parallel()
	as := startAgents(t, []string{"real-a", "real-b", "real-c"}, []string{realBin, realBin, realBin})
	cluster.JoinAll(t, converge, as...)

	as[2].Interrupt()
	if code := as[2].Wait(t, 30*time.Second); code != 0 {
		t.Fatalf("real agent exit code after SIGINT = %d, want 0\n%s", code, as[2].Output())
	}
	as[0].WaitStatus(t, converge, "real-c", "left")

	if err := as[1].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	as[0].WaitStatus(t, failDetect, "real-b", "failed")
}

// TestMixedClusterConverges: 2 real + 2 of ours, joined through both CLIs,
// every agent sees all four alive.
func TestMixedClusterConverges(t *testing.T) {
	t.Parallel()
	our := ours(t)
	as := startAgents(t,
		[]string{"real-1", "ours-1", "real-2", "ours-2"},
		[]string{realBin, our, realBin, our})
	// Each agent joins through its own kind of CLI, alternating seeds.
	mustJoin(t, as[1], as[0].BindAddr) // ours joins real
	mustJoin(t, as[2], as[1].BindAddr) // real joins ours
	mustJoin(t, as[3], as[2].BindAddr) // ours joins real
	for _, a := range as {
		a.WaitMembers(t, converge, allStatus("alive", as...))
	}
}

// TestMixedLeaveAndFail: real agents see ours leave (SIGINT -> left) and
// fail (kill -9 -> failed), and ours see the same of theirs.
func TestMixedLeaveAndFail(t *testing.T) {
	t.Parallel()
	our := ours(t)
	as := startAgents(t,
		[]string{"real-1", "real-2", "real-3", "ours-1", "ours-2", "ours-3"},
		[]string{realBin, realBin, realBin, our, our, our})
	cluster.JoinAll(t, converge, as...)
	r1, r2, r3, o1, o2, o3 := as[0], as[1], as[2], as[3], as[4], as[5]

	leave := func(a *cluster.Agent, observers ...*cluster.Agent) {
		t.Helper()
		a.Interrupt()
		if code := a.Wait(t, 30*time.Second); code != 0 {
			t.Fatalf("%s exit code after SIGINT = %d, want 0\n%s", a.Name, code, a.Output())
		}
		for _, o := range observers {
			o.WaitStatus(t, converge, a.Name, "left")
		}
	}
	crash := func(a *cluster.Agent, observers ...*cluster.Agent) {
		t.Helper()
		a.Kill()
		for _, o := range observers {
			o.WaitStatus(t, failDetect, a.Name, "failed")
		}
	}
	leave(o1, r1, r2, r3, o2, o3) // real agents see ours leave
	leave(r1, r2, r3, o2, o3)     // ours see a real one leave
	crash(o2, r2, r3, o3)         // real agents see ours fail
	crash(r2, r3, o3)             // ours see a real one fail

	// force-leave through either CLI and either agent reaches both kinds.
	if res := cluster.CLI(t, realBin, o3.RPCAddr, "force-leave", "real-2"); res.Code != 0 || res.Stdout != "" {
		t.Fatalf("real CLI force-leave real-2 via ours-3: %s", res)
	}
	r3.WaitStatus(t, converge, "real-2", "left")
	o3.WaitStatus(t, converge, "real-2", "left")
	if res := cluster.CLI(t, our, r3.RPCAddr, "force-leave", "-prune", "ours-2"); res.Code != 0 || res.Stdout != "" {
		t.Fatalf("our CLI force-leave -prune ours-2 via real-3: %s", res)
	}
	gone := map[string]string{"real-1": "left", "real-2": "left", "real-3": "alive", "ours-1": "left", "ours-3": "alive"}
	r3.WaitMembers(t, converge, gone)
	o3.WaitMembers(t, converge, gone)
}

func mustJoin(t *testing.T, a *cluster.Agent, addr string) {
	t.Helper()
	res := a.CLI(t, "join", addr)
	if res.Code != 0 || res.Stdout != "Successfully joined cluster by contacting 1 nodes.\n" {
		t.Fatalf("%s: serf join %s: %s", a.Name, addr, res)
	}
}

// TestEncryptedMixedCluster: agents of both kinds started with the same
// -encrypt key form one cluster, and the keyring agrees on every node.
func TestEncryptedMixedCluster(t *testing.T) {
	t.Parallel()
	our := ours(t)
	key := cluster.Run(t, nil, realBin, "keygen")
	if key.Code != 0 || len(key.Stdout) != 45 {
		t.Fatalf("keygen: %s", key)
	}
	k := key.Stdout[:44]
	as := startAgents(t,
		[]string{"real-1", "ours-1", "real-2", "ours-2"},
		[]string{realBin, our, realBin, our}, "-encrypt", k)
	for _, a := range as {
		a.WaitOutput(t, "Encrypted: true", 5*time.Second)
	}
	cluster.JoinAll(t, converge, as...)

	// Without the key an agent of either kind cannot get in.
	for _, bin := range []string{realBin, our} {
		x := cluster.StartAgent(t, bin, cluster.Options{Name: "no-key"})
		res := x.CLI(t, "join", as[0].BindAddr)
		if res.Code == 0 {
			t.Errorf("%s without key joined the encrypted cluster: %s", bin, res)
		}
		x.Kill()
	}

	t.Run("keys-list", func(t *testing.T) {
		for _, a := range as {
			for _, cli := range []string{realBin, our} {
				res := cluster.CLI(t, cli, a.RPCAddr, "keys", "-list")
				want := fmt.Sprintf("==> Asking all members for installed keys...\n==> Keys gathered, listing cluster keys...\n\n%s  [4/4]\n", k)
				if res.Code != 0 || res.Stdout != want {
					t.Errorf("%s keys -list on %s:\n%s\nwant stdout:\n%s", cli, a.Name, res, want)
				}
			}
		}
	})

	t.Run("rotate", func(t *testing.T) {
		k2 := cluster.Run(t, nil, our, "keygen").Stdout[:44]
		steps := []struct {
			cli  string
			args []string
			want string
		}{
			{realBin, []string{"-install", k2}, "==> Installing key on all members...\n==> Successfully installed key!\n"},
			{our, []string{"-use", k2}, "==> Changing primary key on all members...\n==> Successfully changed primary key!\n"},
			{realBin, []string{"-remove", k}, "==> Removing key on all members...\n==> Successfully removed key!\n"},
			{our, []string{"-list"}, fmt.Sprintf("==> Asking all members for installed keys...\n==> Keys gathered, listing cluster keys...\n\n%s  [4/4]\n", k2)},
		}
		for i, s := range steps {
			res := cluster.CLI(t, s.cli, as[i].RPCAddr, "keys", s.args...)
			if res.Code != 0 || res.Stdout != s.want {
				t.Fatalf("%s keys %s via %s: %s\nwant stdout %q", s.cli, strings.Join(s.args, " "), as[i].Name, res, s.want)
			}
		}
		// Every node, of either kind, refuses to drop its primary key with
		// the same message.
		res := cluster.CLI(t, realBin, as[1].RPCAddr, "keys", "-remove", k2)
		for _, a := range as {
			if !strings.Contains(res.Stdout, fmt.Sprintf("failed:  %s  Removing the primary key is not allowed\n", a.Name)) {
				t.Errorf("keys -remove of the primary key lacks the refusal from %s: %s", a.Name, res)
			}
		}
		if res.Code != 1 || !strings.HasSuffix(res.Stdout, "\nError removing key: 4/4 nodes reported failure\n") {
			t.Errorf("keys -remove of the primary key: %s", res)
		}
		// The cluster still gossips under the new key.
		as[3].CLI(t, "tags", "-set", "rotated=yes")
		cluster.Eventually(t, converge, func() error {
			ms, err := as[0].Members(t)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if m.Name == as[3].Name && m.Tags["rotated"] == "yes" {
					return nil
				}
			}
			return errorf("%s does not see the new tag of %s: %+v", as[0].Name, as[3].Name, ms)
		})
	})
}
