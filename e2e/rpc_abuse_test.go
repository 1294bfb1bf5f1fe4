package e2e

import (
	"crypto/rand"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/serf-clone/serf/testutil/cluster"
)

// rawConn is a hand-driven RPC connection for feeding the agent bad input.
type rawConn struct {
	t   *testing.T
	c   net.Conn
	enc *codec.Encoder
	dec *codec.Decoder
}

type reqHeader struct {
	Command string
	Seq     uint64
}

type respHeader struct {
	Seq   uint64
	Error string
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	h := &codec.MsgpackHandle{WriteExt: true}
	return &rawConn{t: t, c: c, enc: codec.NewEncoder(c, h), dec: codec.NewDecoder(c, h)}
}

func (r *rawConn) send(v ...interface{}) {
	r.t.Helper()
	if err := r.c.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
		r.t.Fatalf("set write deadline: %v", err)
	}
	for _, x := range v {
		if err := r.enc.Encode(x); err != nil {
			r.t.Fatalf("write: %v", err)
		}
	}
}

func (r *rawConn) expect(seq uint64, errText string) {
	r.t.Helper()
	r.deadline(20 * time.Second)
	var h respHeader
	if err := r.dec.Decode(&h); err != nil {
		r.t.Fatalf("read response header: %v", err)
	}
	if h.Seq != seq || h.Error != errText {
		r.t.Errorf("response %+v, want Seq %d Error %q", h, seq, errText)
	}
}

// deadline bounds the next reads on r.
func (r *rawConn) deadline(d time.Duration) {
	r.t.Helper()
	if err := r.c.SetReadDeadline(time.Now().Add(d)); err != nil {
		r.t.Fatalf("set read deadline: %v", err)
	}
}

// write sends raw bytes, failing the test if the connection refuses them.
func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// expectClosed waits for the agent to close the connection.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	r.deadline(20 * time.Second)
	buf := make([]byte, 512)
	for {
		_, err := r.c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			r.t.Errorf("agent did not close the connection")
		}
		return // EOF or reset: closed
	}
}

// TestBadRPCInput: garbage, protocol violations and absurd lengths on the
// RPC port cost the offender its connection but leave the agent serving
// everybody else, including a monitor connected before the abuse.
func TestBadRPCInput(t *testing.T) {
	t.Parallel()
	a := start(t, "victim")
	mon := cluster.StartProc(t, nil, bin(t), "monitor", "-rpc-addr", a.RPCAddr)
	mon.WaitOutput(t, "[INFO] agent: Serf agent starting", converge)

	// Random bytes.
	junk := make([]byte, 64<<10)
	rand.Read(junk)
	r := dialRaw(t, a.RPCAddr)
	// The agent may hang up while the junk is still being written: that
	// is a refusal too, so the write's error is of no interest.
	_, _ = r.c.Write(junk)
	r.c.Close()

	// A command before the handshake: error reply, then the agent hangs up.
	r = dialRaw(t, a.RPCAddr)
	r.send(reqHeader{Command: "members", Seq: 1})
	r.expect(1, "Handshake required")
	r.expectClosed()

	// Wrong IPC version keeps the connection without a handshake.
	r = dialRaw(t, a.RPCAddr)
	r.send(reqHeader{Command: "handshake", Seq: 1}, map[string]int32{"Version": 2})
	r.expect(1, "Unsupported IPC version")
	r.send(reqHeader{Command: "handshake", Seq: 2}, map[string]int32{"Version": 1})
	r.expect(2, "")
	r.send(reqHeader{Command: "handshake", Seq: 3}, map[string]int32{"Version": 1})
	r.expect(3, "Handshake already performed")

	// An unknown command after the handshake: error reply, then hang up.
	r.send(reqHeader{Command: "no-such-command", Seq: 4})
	r.expect(4, "Unsupported command")
	r.expectClosed()

	// Huge announced lengths: a 4 GiB command string, and a 4 GiB body.
	// These connections stay open (and idle) while we check the agent.
	huge := dialRaw(t, a.RPCAddr)
	huge.write([]byte{0x82, 0xa7, 'C', 'o', 'm', 'm', 'a', 'n', 'd', 0xdb, 0xff, 0xff, 0xff, 0xf0, 'x'})
	huge2 := dialRaw(t, a.RPCAddr)
	huge2.send(reqHeader{Command: "handshake", Seq: 1}, map[string]int32{"Version": 1})
	huge2.expect(1, "")
	huge2.send(reqHeader{Command: "event", Seq: 2})
	huge2.write([]byte{0x83, 0xa4, 'N', 'a', 'm', 'e', 0xc6, 0xff, 0xff, 0xff, 0xf0, 'x'})
	huge3 := dialRaw(t, a.RPCAddr)
	huge3.write([]byte{0xdf, 0xff, 0xff, 0xff, 0xff}) // map32 with 4G entries
	dialRaw(t, a.RPCAddr)                             // idle connection, never speaks

	// The agent still serves a well-behaved client, and the old monitor
	// still streams.
	res := a.CLI(t, "members")
	if res.Code != 0 || len(cluster.ParseMembers(res.Stdout)) != 1 {
		t.Errorf("serf members after abuse: %s", res)
	}
	res = a.CLI(t, "event", "after-abuse")
	if res.Code != 0 {
		t.Errorf("serf event after abuse: %s", res)
	}
	mon.WaitOutput(t, "Received event: user-event: after-abuse", converge)
	if a.Exited() {
		t.Fatalf("agent exited:\n%s", a.Output())
	}
}
