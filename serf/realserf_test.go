package serf

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// TestAgainstRealSerf joins a real Serf agent and exchanges membership,
// tags, user events, queries and a graceful leave with it. It runs only
// when SERF_REAL_BIN names a real serf binary.
func TestAgainstRealSerf(t *testing.T) {
	bin := os.Getenv("SERF_REAL_BIN")
	if bin == "" {
		t.Skip("set SERF_REAL_BIN to a real serf binary")
	}
	gossipPort, rpcPort, ourPort := freePort(t), freePort(t), freePort(t)
	rpc := fmt.Sprintf("127.0.0.1:%d", rpcPort)

	ctx, cancel := context.WithCancel(context.Background())
	agentLog := &logBuffer{}
	agent := exec.CommandContext(ctx, bin, "agent", "-node", "real", "-log-level", "debug",
		"-bind", fmt.Sprintf("127.0.0.1:%d", gossipPort), "-rpc-addr", rpc, "-tag", "role=real")
	agent.Stdout, agent.Stderr = agentLog, agentLog
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = agent.Wait() })
	cli := func(args ...string) string {
		// Flags must precede positional arguments.
		full := append([]string{args[0], "-rpc-addr", rpc}, args[1:]...)
		out, _ := exec.Command(bin, full...).CombinedOutput()
		return string(out)
	}
	waitUntil(t, 10*time.Second, "real agent RPC", func() bool { return strings.Contains(cli("members"), "real") })

	// Sent before we exist: we should get it by push/pull replay.
	if out := cli("event", "-coalesce=false", "early", "e"); !strings.Contains(out, "dispatched") {
		t.Fatalf("serf event: %s", out)
	}

	logs := &logBuffer{}
	events := make(chan Event, 1024)
	conf := DefaultConfig()
	conf.NodeName = "clone"
	conf.ProtocolVersion = 5
	conf.Tags = map[string]string{"role": "clone", "dc": "x"}
	conf.Logger = log.New(logs, "", log.LstdFlags)
	conf.EventCh = events
	conf.LeavePropagateDelay = 500 * time.Millisecond
	conf.MemberlistConfig = memberlist.DefaultLocalConfig()
	conf.MemberlistConfig.BindAddr = "127.0.0.1"
	conf.MemberlistConfig.BindPort = ourPort
	s, err := Create(conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Shutdown()
		if t.Failed() {
			t.Logf("agent log:\n%s\nour log:\n%s", agentLog, logs)
		}
	})
	if _, err := s.Join([]string{fmt.Sprintf("127.0.0.1:%d", gossipPort)}, false); err != nil {
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
		return agentLog.contains("user-event: from-clone")
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
	if !logs.contains("[DEBUG] serf: Relaying response to addr: 127.0.0.1:") {
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
