package serf

import (
	"encoding/base64"
	"fmt"
	"log"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/serf-clone/serf/testutil/cluster"
)

// TestAgainstRealSerf joins a real Serf agent and exchanges membership,
// tags, user events, queries and a graceful leave with it. It runs only
// when SERF_REAL_BIN names a real serf binary.
func TestAgainstRealSerf(t *testing.T) {
	real := startRealAgent(t, "real", "-tag", "role=real")
	cli, agentLog := real.cli, real.log

	// Sent before we exist: we should get it by push/pull replay.
	if out := cli("event", "-coalesce=false", "early", "e"); !strings.Contains(out, "dispatched") {
		t.Fatalf("serf event: %s", out)
	}

	events := make(chan Event, 1024)
	s, logs := startClone(t, "clone", func(conf *Config) {
		conf.Tags = map[string]string{"role": "clone", "dc": "x"}
		conf.EventCh = events
	})
	if _, err := s.Join([]string{real.addr}, false); err != nil {
		t.Fatal(err)
	}

	waitUntil(t, 10*time.Second, "real agent to list us with our tags", func() bool {
		out := cli("members", "-detailed")
		return strings.Contains(out, "clone") && strings.Contains(out, "role=clone") && strings.Contains(out, "alive")
	})
	waitUntil(t, 10*time.Second, "us to see the real agent", func() bool {
		m, ok := findMember(s, "real")
		return ok && m.Status == StatusAlive && m.Tags["role"] == "real" && m.DelegateCur == 5
	})

	waitForEvent(t, events, func(e Event) bool {
		ue, ok := e.(UserEvent)
		return ok && ue.Name == "early" && string(ue.Payload) == "e"
	})

	// New tags are seen by the real agent.
	if err := s.SetTags(map[string]string{"role": "changed"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "real agent to see our new tags", func() bool {
		return strings.Contains(cli("members", "-detailed"), "role=changed")
	})

	// Our user event reaches the real agent.
	if err := s.UserEvent("from-clone", []byte("p1"), false); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "real agent to receive our event", func() bool {
		return agentLog.Contains("user-event: from-clone")
	})

	// The real agent's event reaches us.
	if out := cli("event", "from-real", "p2"); !strings.Contains(out, "Event 'from-real' dispatched") {
		t.Fatalf("serf event: %s", out)
	}
	waitForEvent(t, events, func(e Event) bool {
		ue, ok := e.(UserEvent)
		return ok && ue.Name == "from-real" && string(ue.Payload) == "p2"
	})

	// A query from the real CLI, answered by us.
	go func() {
		for e := range events {
			if q, ok := e.(*Query); ok && q.Name == "ask" {
				_ = q.Respond([]byte("answer-from-clone"))
				return
			}
		}
	}()
	out := cli("query", "-timeout", "3s", "-node", "clone", "ask")
	if !strings.Contains(out, "answer-from-clone") || !strings.Contains(out, "Total Acks: 1") {
		t.Fatalf("real query output: %q", out)
	}

	// Our query, answered by the real agent's ack machinery.
	// With a relay factor the real agent also relays its ack through a
	// member, which can only be us: that exercises decoding its relay.
	resp, err := s.Query(InternalQueryPrefix+"ping", nil, &QueryParam{RequestAck: true, RelayFactor: 1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var acks []string
	for a := range resp.AckCh() {
		acks = append(acks, a)
	}
	if len(acks) != 2 || !contains(acks, "real") || !contains(acks, "clone") {
		t.Fatalf("acks %v", acks)
	}
	if !logs.Contains("[DEBUG] serf: Relaying response to addr: 127.0.0.1:") {
		t.Fatal("the real agent's relayed ack never came through us")
	}

	// Coordinates flow both ways in ping acks.
	waitUntil(t, 15*time.Second, "coordinates exchanged", func() bool {
		_, ok := s.GetCachedCoordinate("real")
		return ok && strings.Contains(cli("rtt", "clone"), "Estimated clone <-> real rtt")
	})

	// A graceful leave is seen as left.
	if err := s.Leave(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "real agent to see us left", func() bool {
		return strings.Contains(cli("members"), "left")
	})
}

func waitForEvent(t *testing.T, ch <-chan Event, match func(Event) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ch:
			if match(e) {
				return
			}
		case <-deadline:
			t.Fatal("event never arrived")
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	// A port free for both TCP and UDP.
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// realAgent is a real Serf agent process for interop tests.
type realAgent struct {
	cmd  *exec.Cmd
	log  *cluster.SyncBuffer
	bin  string
	rpc  string
	addr string // gossip address
}

func startRealAgent(t *testing.T, name string, extraArgs ...string) *realAgent {
	t.Helper()
	bin := cluster.RealBinary(t)
	a := &realAgent{log: &cluster.SyncBuffer{}, bin: bin,
		rpc: fmt.Sprintf("127.0.0.1:%d", freePort(t)), addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	args := append([]string{"agent", "-node", name, "-log-level", "debug", "-bind", a.addr, "-rpc-addr", a.rpc}, extraArgs...)
	a.cmd = exec.Command(bin, args...)
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = a.cmd.Process.Kill()
		_ = a.cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, a.log)
		}
	})
	waitUntil(t, 10*time.Second, "real agent RPC", func() bool { return strings.Contains(a.cli("members"), name) })
	return a
}

func (a *realAgent) cli(args ...string) string {
	// Flags must precede positional arguments.
	full := append([]string{args[0], "-rpc-addr", a.rpc}, args[1:]...)
	out, _ := exec.Command(a.bin, full...).CombinedOutput()
	return string(out)
}

// startClone creates one of our nodes on real loopback networking.
func startClone(t *testing.T, name string, tweak ...func(*Config)) (*Serf, *cluster.SyncBuffer) {
	t.Helper()
	logs := &cluster.SyncBuffer{}
	conf := DefaultConfig()
	conf.NodeName = name
	conf.ProtocolVersion = 5
	conf.Logger = log.New(logs, "", log.LstdFlags)
	conf.EventCh = make(chan Event, 1024)
	conf.LeavePropagateDelay = 200 * time.Millisecond
	conf.MemberlistConfig = memberlist.DefaultLocalConfig()
	conf.MemberlistConfig.BindAddr = "127.0.0.1"
	conf.MemberlistConfig.BindPort = freePort(t)
	for _, f := range tweak {
		f(conf)
	}
	s, err := Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Shutdown()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs)
		}
	})
	return s, logs
}

// Failure and force-leave work across implementations in both directions.
func TestRealSerfFailureAndForceLeave(t *testing.T) {
	real := startRealAgent(t, "real")
	a, _ := startClone(t, "cloneA")
	b, _ := startClone(t, "cloneB")
	for _, s := range []*Serf{a, b} {
		if _, err := s.Join([]string{real.addr}, false); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 10*time.Second, "3 alive", func() bool { return countStatus(a, StatusAlive) == 3 })

	// Our node dies; the real agent sees it fail, then prunes it on request.
	b.Shutdown()
	waitUntil(t, 60*time.Second, "real agent to see cloneB failed", func() bool {
		return strings.Contains(real.cli("members"), "failed")
	})
	waitUntil(t, 60*time.Second, "cloneA to see cloneB failed", func() bool {
		m, _ := findMember(a, "cloneB")
		return m.Status == StatusFailed
	})
	if out := real.cli("force-leave", "-prune", "cloneB"); strings.TrimSpace(out) != "" {
		t.Fatalf("force-leave: %s", out)
	}
	waitUntil(t, 10*time.Second, "cloneA to erase cloneB", func() bool {
		_, ok := findMember(a, "cloneB")
		return !ok
	})

	// The real agent dies; we force it out and the state is left.
	_ = real.cmd.Process.Kill()
	// memberlist still counts the dead cloneB, so it expects one peer to
	// confirm the suspicion and, with nobody left to confirm, waits out the
	// maximum suspicion timeout: 6 x 3 s in the local profile, about 20 s in
	// all. The bound leaves room for a loaded machine.
	waitUntil(t, 60*time.Second, "cloneA to see real failed", func() bool {
		m, _ := findMember(a, "real")
		return m.Status == StatusFailed
	})
	if err := a.RemoveFailedNode("real"); err != nil {
		t.Fatal(err)
	}
	if m, _ := findMember(a, "real"); m.Status != StatusLeft {
		t.Fatalf("real is %v after force-leave", m.Status)
	}
}

// Key rotation driven from either side reaches both implementations.
func TestRealSerfKeyRotation(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(testKey(1))
	k2 := base64.StdEncoding.EncodeToString(testKey(2))
	real := startRealAgent(t, "real", "-encrypt", k1)
	s, _ := startClone(t, "clone", func(conf *Config) {
		kr, err := memberlist.NewKeyring(nil, testKey(1))
		if err != nil {
			t.Fatal(err)
		}
		conf.MemberlistConfig.Keyring = kr
	})
	if _, err := s.Join([]string{real.addr}, false); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "2 alive", func() bool { return countStatus(s, StatusAlive) == 2 })

	// From us: install on both.
	if resp, err := s.KeyManager().InstallKey(k2); err != nil || resp.NumResp != 2 {
		t.Fatalf("install: %v %+v", err, resp)
	}
	// From the real CLI: list sees our answer too.
	out := real.cli("keys", "-list")
	if !strings.Contains(out, k2+"  [2/2]") || !strings.Contains(out, k1+"  [2/2]") {
		t.Fatalf("real keys -list: %q", out)
	}
	// From the real CLI: switch primary, then ours agrees.
	if out := real.cli("keys", "-use", k2); !strings.Contains(out, "Successfully changed primary key!") {
		t.Fatalf("real keys -use:\n%s", out)
	}
	resp, err := s.KeyManager().ListKeys()
	if err != nil || resp.PrimaryKeys[k2] != 2 {
		t.Fatalf("list: %v %+v", err, resp)
	}
}
