package interop

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/logutils"
	"github.com/hashicorp/serf/client"

	"github.com/serf-clone/serf/testutil/cluster"
)

// TestClientLibrary: the real github.com/hashicorp/serf/client works against
// our agent exactly as against a real one (the control).
func TestClientLibrary(t *testing.T) {
	cases := []struct {
		name string
		bin  func(t *testing.T) string
	}{
		{"real-agent", func(*testing.T) string { return realBin }},
		{"our-agent", func(t *testing.T) string { return ours(t) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testClientLibrary(t, tc.bin(t))
		})
	}
}

// recv waits for one value from ch or fails the test.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: nothing received within 30s", what)
	}
	var zero T
	return zero
}

func testClientLibrary(t *testing.T, bin string) {
	a := cluster.StartAgent(t, bin, cluster.Options{Name: "lib-a", Args: []string{"-tag", "role=web"}})
	b := cluster.StartAgent(t, bin, cluster.Options{Name: "lib-b"})

	c, err := client.ClientFromConfig(&client.Config{Addr: a.RPCAddr, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close()

	// Monitor first: the backlog has the startup lines.
	logCh := make(chan string, 1024)
	monH, err := c.Monitor(logutils.LogLevel("INFO"), logCh)
	if err != nil {
		t.Fatalf("Monitor: %v", err)
	}
	for line := ""; !strings.Contains(line, "[INFO] agent: Serf agent starting"); {
		line = recv(t, logCh, "monitor backlog")
	}

	// Stream every event, then join: a member-join for lib-b must arrive.
	evCh := make(chan map[string]interface{}, 256)
	streamH, err := c.Stream("*", evCh)
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	n, err := c.Join([]string{b.BindAddr}, false)
	if err != nil || n != 1 {
		t.Fatalf("Join = %d, %v; want 1, nil", n, err)
	}
	for joined := false; !joined; {
		ev := recv(t, evCh, "member-join event")
		if ev["Event"] != "member-join" {
			continue
		}
		ms, _ := ev["Members"].([]interface{})
		for _, m := range ms {
			if mm, ok := m.(map[interface{}]interface{}); ok && mm["Name"] == "lib-b" {
				joined = true
			}
		}
	}

	// Members, with the fields the library decodes.
	cluster.Eventually(t, converge, func() error {
		ms, err := c.Members()
		if err != nil {
			return err
		}
		if len(ms) != 2 {
			return errorf("Members = %+v, want 2", ms)
		}
		for _, m := range ms {
			if m.Status != "alive" || m.Addr.String() != "127.0.0.1" || m.Port == 0 ||
				m.DelegateMin != 2 || m.DelegateMax != 5 || m.DelegateCur != 5 ||
				m.ProtocolMin != 1 || m.ProtocolMax != 5 || m.ProtocolCur != 2 {
				return errorf("member %+v", m)
			}
			if m.Name == "lib-a" && m.Tags["role"] != "web" {
				return errorf("lib-a tags %v", m.Tags)
			}
		}
		return nil
	})

	// Stats
	st, err := c.Stats()
	if err != nil || st["agent"]["name"] != "lib-a" || st["serf"]["members"] != "2" || st["tags"]["role"] != "web" {
		t.Errorf("Stats = %v, %v", st, err)
	}

	// UpdateTags, seen through MembersFiltered.
	if err := c.UpdateTags(map[string]string{"dc": "east"}, []string{"role"}); err != nil {
		t.Fatalf("UpdateTags: %v", err)
	}
	cluster.Eventually(t, converge, func() error {
		ms, err := c.MembersFiltered(map[string]string{"dc": "east"}, "alive", "lib-.*")
		if err != nil {
			return err
		}
		if len(ms) != 1 || ms[0].Name != "lib-a" || len(ms[0].Tags) != 1 {
			return errorf("MembersFiltered(dc=east) = %+v", ms)
		}
		return nil
	})

	// UserEvent arrives on the stream with its fields.
	if err := c.UserEvent("ping", []byte("pong"), false); err != nil {
		t.Fatalf("UserEvent: %v", err)
	}
	for {
		ev := recv(t, evCh, "user event")
		if ev["Event"] != "user" {
			continue
		}
		p, _ := ev["Payload"].([]byte)
		if ev["Name"] != "ping" || !bytes.Equal(p, []byte("pong")) || ev["Coalesce"] != false {
			t.Errorf("user event record %#v", ev)
		}
		if _, ok := ev["LTime"]; !ok {
			t.Errorf("user event record has no LTime: %#v", ev)
		}
		break
	}
	if err := c.Stop(streamH); err != nil {
		t.Errorf("Stop(stream): %v", err)
	}

	// Query with acks from both nodes (no handlers, so no responses).
	ackCh := make(chan string, 8)
	respCh := make(chan client.NodeResponse, 8)
	if err := c.Query(&client.QueryParam{Name: "q1", Payload: []byte("x"), RequestAck: true, AckCh: ackCh, RespCh: respCh}); err != nil {
		t.Fatalf("Query: %v", err)
	}
	acks := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for done := false; !done; {
		select {
		case a, ok := <-ackCh: // closed by the library when the query is done
			if !ok {
				done = true
				break
			}
			acks[a] = true
		case <-deadline:
			t.Fatalf("query not done within 30s; acks so far %v", acks)
		}
	}
	if acks[""] && bin == realBin {
		// Known race in the real agent (see dropRealQueryRace).
		t.Logf("real agent streamed empty acks; ignoring them")
		delete(acks, "")
	}
	if !acks["lib-a"] || !acks["lib-b"] || len(acks) != 2 {
		t.Errorf("query acks = %v", acks)
	}

	// Coordinates exist for both nodes.
	for _, node := range []string{"lib-a", "lib-b"} {
		cluster.Eventually(t, converge, func() error {
			co, err := c.GetCoordinate(node)
			if err != nil || co == nil || len(co.Vec) != 8 {
				return errorf("GetCoordinate(%s) = %+v, %v", node, co, err)
			}
			return nil
		})
	}

	if err := c.ForceLeave("nobody"); err != nil {
		t.Errorf("ForceLeave(nobody): %v", err)
	}
	if err := c.Stop(monH); err != nil {
		t.Errorf("Stop(monitor): %v", err)
	}
	if err := c.Leave(); err != nil {
		t.Errorf("Leave: %v", err)
	}
	if code := a.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("agent exit code after Leave = %d", code)
	}
}
