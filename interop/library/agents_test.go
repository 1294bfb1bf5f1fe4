package library

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
	"github.com/serf-clone/serf/testutil/cluster"
)

// Bounds on waits for gossip on a loaded 2-core machine; not expectations
// about speed.
const (
	settle     = 30 * time.Second
	failDetect = 90 * time.Second
)

// realOpts describe a real agent.
type realOpts struct {
	rpcAuth string   // goes into a config file: there is no flag for it
	tags    []string // KEY=VALUE
	args    []string // further `serf agent` flags
}

// startReal runs a real Serf agent at debug level on free loopback ports;
// it is killed when the test ends.
func startReal(t *testing.T, name string, o realOpts) *cluster.Agent {
	t.Helper()
	bin := cluster.RealBinary(t)
	args := []string{"-log-level", "debug"}
	if o.rpcAuth != "" {
		file := filepath.Join(t.TempDir(), "rpc-auth.json")
		if err := os.WriteFile(file, []byte(fmt.Sprintf(`{"rpc_auth": %q}`, o.rpcAuth)), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-config-file", file)
	}
	for _, tag := range o.tags {
		args = append(args, "-tag", tag)
	}
	return cluster.StartAgent(t, bin, cluster.Options{Name: name, Args: append(args, o.args...)})
}

// realCLI runs the real CLI against a: `serf CMD -rpc-addr ADDR ARGS...`,
// returning stdout and stderr together.
func realCLI(t *testing.T, a *cluster.Agent, cmd string, args ...string) string {
	t.Helper()
	return a.CLI(t, cmd, args...).Combined()
}

// startOurs creates one of our serf.Serf members on 127.0.0.1 with the
// local memberlist profile; tweak adjusts the config before Create. It is
// shut down when the test ends, and its log is printed if the test failed.
func startOurs(t *testing.T, name string, tweak func(*serf.Config)) (*serf.Serf, *serftest.SyncBuffer) {
	t.Helper()
	logs := &serftest.SyncBuffer{}
	port, err := cluster.FreeGossipPort()
	if err != nil {
		t.Fatal(err)
	}
	conf := serf.DefaultConfig()
	conf.NodeName = name
	conf.ProtocolVersion = 5
	conf.Logger = log.New(logs, "", log.LstdFlags)
	conf.EventCh = make(chan serf.Event, 1024)
	conf.LeavePropagateDelay = 200 * time.Millisecond
	conf.MemberlistConfig = memberlist.DefaultLocalConfig()
	conf.MemberlistConfig.BindAddr = "127.0.0.1"
	conf.MemberlistConfig.BindPort = port
	if tweak != nil {
		tweak(conf)
	}
	s, err := serf.Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Shutdown()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs)
		}
	})
	return s, logs
}

// until polls cond until it holds or fails the test after timeout.
func until(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	serftest.Eventually(t, timeout, func() error {
		if cond() {
			return nil
		}
		return fmt.Errorf("still waiting for %s", what)
	})
}

// member returns s's view of the member called name.
func member(s *serf.Serf, name string) (serf.Member, bool) {
	for _, m := range s.Members() {
		if m.Name == name {
			return m, true
		}
	}
	return serf.Member{}, false
}

// numWithStatus counts the members s sees with status st.
func numWithStatus(s *serf.Serf, st serf.MemberStatus) int {
	n := 0
	for _, m := range s.Members() {
		if m.Status == st {
			n++
		}
	}
	return n
}

// awaitEvent reads ch until an event matches or fails the test.
func awaitEvent(t *testing.T, ch <-chan serf.Event, what string, match func(serf.Event) bool) {
	t.Helper()
	deadline := time.After(settle)
	for {
		select {
		case e := <-ch:
			if match(e) {
				return
			}
		case <-deadline:
			t.Fatalf("%s never arrived", what)
		}
	}
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// containsAll reports whether out contains every part.
func containsAll(out string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(out, p) {
			return false
		}
	}
	return true
}
