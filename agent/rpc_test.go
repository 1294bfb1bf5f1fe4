package agent

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/serf-clone/serf/client"
)

func TestRPCConnectionStateMachine(t *testing.T) {
	n := startNode(t, "sm", nil)

	// A command before the handshake is answered, then the connection closes.
	c := dialRaw(t, n.rpcAddr)
	if e := c.call(client.MembersCommand, nil); e != client.ErrHandshakeRequired {
		t.Fatalf("got %q", e)
	}
	if !c.closedByServer() {
		t.Fatal("connection left open after Handshake required")
	}

	// Wrong version keeps the connection; a second handshake is refused.
	c = dialRaw(t, n.rpcAddr)
	if e := c.call(client.HandshakeCommand, &client.HandshakeRequest{Version: 2}); e != client.ErrUnsupportedIPCVer {
		t.Fatalf("got %q", e)
	}
	c.handshake()
	if e := c.call(client.HandshakeCommand, &client.HandshakeRequest{Version: 1}); e != client.ErrDuplicateHandshake {
		t.Fatalf("got %q", e)
	}
	// Auth with a key against an agent without one fails.
	if e := c.call(client.AuthCommand, &client.AuthRequest{AuthKey: "foo"}); e != client.ErrInvalidAuthToken {
		t.Fatalf("got %q", e)
	}
	// Unknown command: answered, then closed.
	if e := c.call("bogus", nil); e != client.ErrUnsupportedCommand {
		t.Fatalf("got %q", e)
	}
	if !c.closedByServer() {
		t.Fatal("connection left open after Unsupported command")
	}

	// Invalid regex: closed without any response.
	c = dialRaw(t, n.rpcAddr)
	c.handshake()
	c.send(client.MembersFilteredCommand, &client.MembersFilteredRequest{Name: "(("})
	if !c.closedByServer() {
		t.Fatal("connection left open after a bad regex")
	}
	waitFor(t, 2*time.Second, func() bool {
		return strings.Contains(n.console.String(), "[ERR] agent.ipc: Failed to evaluate request: Failed to compile regex")
	})

	// Members-filtered with anchored regexes.
	c = dialRaw(t, n.rpcAddr)
	c.handshake()
	for _, tc := range []struct {
		req  client.MembersFilteredRequest
		want int
	}{
		{client.MembersFilteredRequest{Name: "s"}, 0},
		{client.MembersFilteredRequest{Name: "s."}, 1},
		{client.MembersFilteredRequest{Status: "alive", Tags: map[string]string{"missing": ""}}, 1},
		{client.MembersFilteredRequest{Tags: map[string]string{"missing": ".+"}}, 0},
	} {
		if e := c.call(client.MembersFilteredCommand, &tc.req); e != "" {
			t.Fatal(e)
		}
		var resp client.MembersResponse
		c.body(&resp)
		if len(resp.Members) != tc.want {
			t.Errorf("%+v: %d members", tc.req, len(resp.Members))
		}
	}
}

func TestRPCHostileInputDoesNotDisturbOthers(t *testing.T) {
	n := startNode(t, "hostile", nil)

	// A well-behaved client that stays connected throughout.
	good := dialRaw(t, n.rpcAddr)
	good.handshake()

	// Garbage bytes.
	g := dialRaw(t, n.rpcAddr)
	g.conn.Write([]byte{0xc1, 0xff, 0x00, 0x13, 0x37, 0xde, 0xad})
	if !g.closedByServer() {
		t.Fatal("garbage did not close the connection")
	}

	// A body declaring a 4 GiB string, then a stream of bytes: the server
	// must neither allocate it up front nor buffer it without bound.
	h := dialRaw(t, n.rpcAddr)
	h.handshake()
	h.send(client.EventCommand, nil)
	prefix := []byte{0x81, 0xa4, 'N', 'a', 'm', 'e', 0xdb}
	prefix = binary.BigEndian.AppendUint32(prefix, 0xfffffff0)
	h.conn.Write(prefix)
	chunk := make([]byte, 64<<10)
	closed := false
	for i := 0; i < 200; i++ { // up to 12.5 MiB
		h.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := h.conn.Write(chunk); err != nil {
			closed = true
			break
		}
	}
	if !closed && !h.closedByServer() {
		t.Fatal("oversized request did not close the connection")
	}

	// Disconnect in the middle of a request.
	d := dialRaw(t, n.rpcAddr)
	d.handshake()
	d.send(client.EventCommand, nil)
	d.conn.Write([]byte{0x83, 0xa4})
	d.conn.Close()

	// Huge declared array of members-filtered tags.
	m := dialRaw(t, n.rpcAddr)
	m.handshake()
	m.send(client.MembersFilteredCommand, nil)
	m.conn.Write([]byte{0x81, 0xa4, 'T', 'a', 'g', 's', 0xdf, 0x7f, 0xff, 0xff, 0xff})
	m.conn.Close()

	// The good client and new clients still work.
	if e := good.call(client.MembersCommand, nil); e != "" {
		t.Fatal(e)
	}
	var resp client.MembersResponse
	good.body(&resp)
	if len(resp.Members) != 1 || resp.Members[0].Name != "hostile" || resp.Members[0].Tags == nil {
		t.Fatalf("members %+v", resp.Members)
	}
	if got := membersOf(t, n.rpcAddr); len(got) != 1 {
		t.Fatalf("fresh client: %+v", got)
	}
}

func TestRPCAuth(t *testing.T) {
	n := startNode(t, "auth", func(c *Config) { c.RPCAuthKey = "sekret" })
	c := dialRaw(t, n.rpcAddr)
	c.handshake()
	if e := c.call(client.MembersCommand, nil); e != client.ErrAuthRequired {
		t.Fatalf("got %q", e)
	}
	// The connection stays open after "Authentication required".
	if e := c.call(client.AuthCommand, &client.AuthRequest{AuthKey: "wrong"}); e != client.ErrInvalidAuthToken {
		t.Fatalf("got %q", e)
	}
	if e := c.call(client.AuthCommand, &client.AuthRequest{AuthKey: "sekret"}); e != "" {
		t.Fatalf("got %q", e)
	}
	if e := c.call(client.MembersCommand, nil); e != "" {
		t.Fatalf("got %q", e)
	}
	var resp client.MembersResponse
	c.body(&resp)
	if !strings.Contains(n.console.String(), "[WARN] agent.ipc: Client sending commands before auth") {
		t.Error("no auth warning logged")
	}
}

func TestRPCStreamsMonitorQuery(t *testing.T) {
	n := startNode(t, "streams", nil)
	c := dialRaw(t, n.rpcAddr)
	c.handshake()

	if e := c.call(client.StreamCommand, &client.StreamRequest{Type: "user:x,bogus"}); e != client.ErrInvalidFilter {
		t.Fatalf("got %q", e)
	}
	streamSeq := c.send(client.StreamCommand, &client.StreamRequest{Type: "user:hello"})
	if h := c.header(); h.Error != "" || h.Seq != streamSeq {
		t.Fatalf("stream ack %+v", h)
	}
	if e := c.call(client.MonitorCommand, &client.MonitorRequest{LogLevel: "bogus"}); e != "Unknown log level: BOGUS" {
		t.Fatalf("got %q", e)
	}
	if e := c.call(client.EventCommand, &client.EventRequest{Name: "other", Payload: []byte("p")}); e != "" {
		t.Fatal(e)
	}
	// Stream records are written asynchronously, so the user event's record
	// may reach us before or after the reply to the event command.
	eventSeq := c.send(client.EventCommand, &client.EventRequest{Name: "hello", Payload: []byte("world")})
	var rec map[string]interface{}
	for gotReply, gotRecord := false, false; !gotReply || !gotRecord; {
		switch h := c.header(); {
		case h.Seq == eventSeq && !gotReply:
			if h.Error != "" {
				t.Fatal(h.Error)
			}
			gotReply = true
		case h.Seq == streamSeq && !gotRecord:
			c.body(&rec)
			gotRecord = true
		default:
			t.Fatalf("unexpected header %+v", h)
		}
	}
	if rec["Event"] != "user" || rec["Name"] != "hello" || string(rec["Payload"].([]byte)) != "world" {
		t.Fatalf("record %#v", rec)
	}
	if e := c.call(client.StopCommand, &client.StopRequest{Stop: streamSeq}); e != "" {
		t.Fatal(e)
	}

	if e := c.call(client.QueryCommand, &client.QueryRequest{Name: "_serf_x"}); e != client.ErrInternalQueryPrefix {
		t.Fatalf("got %q", e)
	}
	if e := c.call(client.RespondCommand, &client.RespondRequest{ID: 42}); e != client.ErrInvalidQueryID {
		t.Fatalf("got %q", e)
	}
	qseq := c.send(client.QueryCommand, &client.QueryRequest{Name: "q", RequestAck: true, Timeout: int64(500 * time.Millisecond)})
	if h := c.header(); h.Seq != qseq || h.Error != "" {
		t.Fatalf("query ack %+v", h)
	}
	var types []string
	for len(types) == 0 || types[len(types)-1] != client.QueryRecordDone {
		h := c.header()
		var r client.QueryRecord
		c.body(&r)
		if h.Seq != qseq {
			t.Fatalf("unexpected header %+v", h)
		}
		types = append(types, r.Type)
	}
	if types[0] != client.QueryRecordAck {
		t.Errorf("records %v", types)
	}

	monSeq := c.send(client.MonitorCommand, &client.MonitorRequest{LogLevel: "info"})
	if h := c.header(); h.Seq != monSeq || h.Error != "" {
		t.Fatalf("monitor ack %+v", h)
	}
	// The backlog replays, starting with the agent's first lines.
	var first client.LogRecord
	c.header()
	c.body(&first)
	if !strings.Contains(first.Log, "[INFO] agent: Serf agent starting") {
		t.Fatalf("first backlog line %q", first.Log)
	}
	// A second monitor is refused; log records may come first.
	again := c.send(client.MonitorCommand, &client.MonitorRequest{LogLevel: "info"})
	for {
		h := c.header()
		if h.Seq == again {
			if h.Error != client.ErrMonitorExists {
				t.Fatalf("got %q", h.Error)
			}
			break
		}
		var r client.LogRecord
		c.body(&r)
	}
}

func TestRPCTagsKeysStatsCoordinate(t *testing.T) {
	dir := t.TempDir()
	tagsFile := dir + "/tags.json"
	n := startNode(t, "misc", func(c *Config) { c.TagsFile = tagsFile })
	c := dialRaw(t, n.rpcAddr)
	c.handshake()
	if e := c.call(client.TagsCommand, &client.TagsRequest{Tags: map[string]string{"a": "1", "b": "x"}}); e != "" {
		t.Fatal(e)
	}
	if e := c.call(client.TagsCommand, &client.TagsRequest{DeleteTags: []string{"b"}}); e != "" {
		t.Fatal(e)
	}
	if got := readFileString(t, tagsFile); got != "{\n  \"a\": \"1\"\n}" {
		t.Fatalf("tags file %q", got)
	}
	if e := c.call(client.StatsCommand, nil); e != "" {
		t.Fatal(e)
	}
	var stats map[string]map[string]string
	c.body(&stats)
	if stats["agent"]["name"] != "misc" || stats["tags"]["a"] != "1" || stats["runtime"]["os"] == "" {
		t.Fatalf("stats %v", stats)
	}
	if _, ok := stats["event_handlers"]; !ok {
		t.Fatal("no event_handlers section")
	}
	// Key commands always carry a body, even on error.
	if e := c.call(client.ListKeysCommand, nil); e == "" {
		t.Log("list-keys without encryption succeeded")
	}
	var kr client.KeyResponse
	c.body(&kr)
	if e := c.call(client.GetCoordinateCommand, &client.CoordinateRequest{Node: "nobody"}); e != "" {
		t.Fatal(e)
	}
	var cr client.CoordinateResponse
	c.body(&cr)
	if cr.Ok || cr.Coord.Vec != nil {
		t.Fatalf("coordinate for unknown node %+v", cr)
	}
	// And the connection is still in sync.
	if e := c.call(client.MembersCommand, nil); e != "" {
		t.Fatal(e)
	}
	var mr client.MembersResponse
	c.body(&mr)
	if len(mr.Members) != 1 || mr.Members[0].Tags["a"] != "1" {
		t.Fatalf("members %+v", mr)
	}
}

func TestRPCSlowMonitorAndStreamReadersDoNotBlock(t *testing.T) {
	n := startNode(t, "slow", nil)
	// Two clients that subscribe and then never read.
	mon := dialRaw(t, n.rpcAddr)
	mon.handshake()
	if e := mon.call(client.MonitorCommand, &client.MonitorRequest{LogLevel: "trace"}); e != "" {
		t.Fatal(e)
	}
	ev := dialRaw(t, n.rpcAddr)
	ev.handshake()
	if e := ev.call(client.StreamCommand, &client.StreamRequest{Type: "*"}); e != "" {
		t.Fatal(e)
	}

	// 20 MB of log lines: far beyond what the stuck monitor's buffer and
	// the loopback socket buffers hold, so a logger that waited for the
	// monitor would never get through them. The bound only detects such
	// a hang; it does not measure speed.
	logger := n.agent.Logger()
	big := strings.Repeat("x", 1000)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		for i := 0; i < 20000; i++ {
			logger.Printf("[DEBUG] test: line %d %s", i, big)
		}
	}()
	select {
	case <-logged:
	case <-time.After(2 * time.Minute):
		t.Fatal("logging is blocked behind a monitor that never reads")
	}
	waitFor(t, 10*time.Second, func() bool {
		return strings.Contains(n.console.String(), "[WARN] agent.ipc: Dropping logs to ipc.client: ")
	})
	if c := strings.Count(n.console.String(), "Dropping logs to"); c > 100 {
		t.Errorf("%d drop warnings: the warning feeds on itself", c)
	}
	// Events still flow to a healthy client; the agent keeps answering.
	good := dialRaw(t, n.rpcAddr)
	good.handshake()
	if e := good.call(client.StreamCommand, &client.StreamRequest{Type: "user"}); e != "" {
		t.Fatal(e)
	}
	records := 0
	for i := 0; i < 600; i++ { // more than the stuck stream's buffer
		seq := good.send(client.EventCommand, &client.EventRequest{Name: "e", Payload: []byte(big[:100])})
		for replied := false; !replied; {
			h := good.header()
			switch h.Seq {
			case seq:
				if h.Error != "" {
					t.Fatal(h.Error)
				}
				replied = true
			case 2:
				var rec map[string]interface{}
				good.body(&rec)
				records++
			default:
				t.Fatalf("unexpected %+v", h)
			}
		}
	}
	for records < 600 {
		if h := good.header(); h.Seq != 2 {
			t.Fatalf("unexpected %+v", h)
		}
		var rec map[string]interface{}
		good.body(&rec)
		records++
	}
	if got := membersOf(t, n.rpcAddr); len(got) != 1 {
		t.Fatal("members failed")
	}
}

func TestRPCRespondThroughQueryStream(t *testing.T) {
	n := startNode(t, "resp", nil)
	sub := dialRaw(t, n.rpcAddr)
	sub.handshake()
	sseq := sub.send(client.StreamCommand, &client.StreamRequest{Type: "query:ask"})
	if h := sub.header(); h.Error != "" || h.Seq != sseq {
		t.Fatalf("stream ack %+v", h)
	}

	asker := dialRaw(t, n.rpcAddr)
	asker.handshake()
	qseq := asker.send(client.QueryCommand, &client.QueryRequest{Name: "ask", Payload: []byte("?"),
		Timeout: int64(2 * time.Second)})
	if h := asker.header(); h.Error != "" || h.Seq != qseq {
		t.Fatalf("query ack %+v", h)
	}

	if h := sub.header(); h.Seq != sseq {
		t.Fatalf("record header %+v", h)
	}
	var rec client.QueryEventRecord
	sub.body(&rec)
	if rec.Event != "query" || rec.ID != 1 || rec.Name != "ask" || string(rec.Payload) != "?" {
		t.Fatalf("query record %+v", rec)
	}
	if e := sub.call(client.RespondCommand, &client.RespondRequest{ID: rec.ID, Payload: []byte("answer")}); e != "" {
		t.Fatal(e)
	}
	if e := sub.call(client.RespondCommand, &client.RespondRequest{ID: rec.ID + 1, Payload: []byte("x")}); e != client.ErrInvalidQueryID {
		t.Fatalf("got %q", e)
	}

	got := ""
	for {
		h := asker.header()
		var r client.QueryRecord
		asker.body(&r)
		if h.Seq != qseq {
			t.Fatalf("unexpected %+v", h)
		}
		if r.Type == client.QueryRecordResponse {
			got = r.From + "=" + string(r.Payload)
		}
		if r.Type == client.QueryRecordDone {
			break
		}
	}
	if got != "resp=answer" {
		t.Fatalf("response %q", got)
	}
}

func TestRPCRandomGarbageNeverPanics(t *testing.T) {
	n := startNode(t, "fuzz", nil)
	rng := rand.New(rand.NewPCG(1, 2))
	cmds := []string{"event", "join", "members-filtered", "stream", "monitor", "stop", "query", "respond",
		"tags", "force-leave", "install-key", "get-coordinate", "auth", "handshake"}
	for i := 0; i < 150; i++ {
		c := dialRaw(t, n.rpcAddr)
		c.handshake()
		c.send(cmds[i%len(cmds)], nil)
		junk := make([]byte, rng.IntN(300))
		for j := range junk {
			junk[j] = byte(rng.IntN(256))
		}
		if i%10 == 0 { // deep nesting
			junk = append(bytes.Repeat([]byte{0x91}, 5000), 0x01)
		}
		c.conn.Write(junk)
		c.conn.Close()
	}
	if got := membersOf(t, n.rpcAddr); len(got) != 1 {
		t.Fatalf("agent unhealthy after garbage: %+v", got)
	}
}
