package agent

import (
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// testNode is an in-process agent with its RPC server.
type testNode struct {
	name    string
	agent   *Agent
	rpc     *RPCServer
	logs    *LogSink
	console *serftest.SyncBuffer
	bind    string
	rpcAddr string
}

// startNode runs an agent on 127.0.0.1 with the "local" memberlist profile
// and no coalescing; edit may adjust the agent config before Create.
func startNode(t testing.TB, name string, edit func(*Config)) *testNode {
	t.Helper()
	conf := DefaultConfig()
	conf.NodeName = name
	conf.EnableCompression = true
	if edit != nil {
		edit(conf)
	}
	console := &serftest.SyncBuffer{}
	logs, err := NewLogSink(console, "DEBUG")
	if err != nil {
		t.Fatal(err)
	}
	logs.Flush()

	var a *Agent
	var port int
	for attempt := 0; ; attempt++ {
		port = serftest.FreePort(t)
		conf.Profile = "local"
		conf.BindAddr = fmt.Sprintf("127.0.0.1:%d", port)
		conf.AdvertiseAddr = conf.BindAddr
		conf.BroadcastTimeout = 2 * time.Second
		sc := testSerfConfig(t, conf)
		sc.LeavePropagateDelay = 100 * time.Millisecond
		a, err = Create(conf, sc, logs)
		if err != nil {
			t.Fatal(err)
		}
		if err = a.Start(); err == nil {
			break
		}
		a.Shutdown()
		if attempt > 5 {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{
		name:    name,
		agent:   a,
		logs:    logs,
		console: console,
		bind:    fmt.Sprintf("127.0.0.1:%d", port),
		rpcAddr: ln.Addr().String(),
	}
	n.rpc = NewRPCServer(a, conf.RPCAuthKey, ln, logs, logs.Monitors())
	t.Cleanup(n.stop)
	return n
}

func (n *testNode) stop() {
	n.rpc.Shutdown()
	n.agent.Shutdown()
}

// rawClient speaks the RPC protocol by hand.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	enc  *codec.Encoder
	dec  *codec.Decoder
	seq  uint64
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn,
		enc: codec.NewEncoder(conn, client.NewMsgpackHandle()),
		dec: codec.NewDecoder(conn, client.NewMsgpackHandle())}
}

// send writes a request; body nil sends the header only.
func (c *rawClient) send(cmd string, body interface{}) uint64 {
	c.t.Helper()
	c.seq++
	if err := c.enc.Encode(&client.RequestHeader{Command: cmd, Seq: c.seq}); err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		if err := c.enc.Encode(body); err != nil {
			c.t.Fatal(err)
		}
	}
	return c.seq
}

// header reads one response header (fails the test after 10 s).
func (c *rawClient) header() client.ResponseHeader {
	c.t.Helper()
	var h client.ResponseHeader
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := c.dec.Decode(&h); err != nil {
		c.t.Fatalf("reading header: %v", err)
	}
	return h
}

func (c *rawClient) body(v interface{}) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := c.dec.Decode(v); err != nil {
		c.t.Fatalf("reading body: %v", err)
	}
}

// call sends a request and returns the response header's error.
func (c *rawClient) call(cmd string, body interface{}) string {
	c.t.Helper()
	seq := c.send(cmd, body)
	h := c.header()
	if h.Seq != seq {
		c.t.Fatalf("seq %d, want %d", h.Seq, seq)
	}
	return h.Error
}

func (c *rawClient) handshake() {
	c.t.Helper()
	if e := c.call(client.HandshakeCommand, &client.HandshakeRequest{Version: 1}); e != "" {
		c.t.Fatalf("handshake: %s", e)
	}
}

// closedByServer reports whether the server closed the connection.
func (c *rawClient) closedByServer() bool {
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1)
	_, err := c.conn.Read(buf)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

// members runs `members` on a fresh connection.
func membersOf(t *testing.T, addr string) []client.Member {
	t.Helper()
	c := dialRaw(t, addr)
	c.handshake()
	if e := c.call(client.MembersCommand, nil); e != "" {
		t.Fatal(e)
	}
	var resp client.MembersResponse
	c.body(&resp)
	return resp.Members
}

func readFileString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testSerfConfig maps conf with the agent's own mapping (SerfConfig), then
// turns event coalescing off so tests see events as they happen.
func testSerfConfig(t testing.TB, conf *Config) *serf.Config {
	t.Helper()
	sc, err := conf.SerfConfig()
	if err != nil {
		t.Fatal(err)
	}
	sc.CoalescePeriod, sc.QuiescentPeriod = 0, 0
	sc.UserCoalescePeriod, sc.UserQuiescentPeriod = 0, 0
	return sc
}
