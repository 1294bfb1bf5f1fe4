package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/serf-clone/serf/client"
	"github.com/serf-clone/serf/serf"
	"github.com/serf-clone/serf/serf/serftest"
)

// Fuzz targets for what the agent decodes from a local client or a file:
// the RPC request stream (headers and bodies, before and after the
// handshake, with and without an auth key), JSON config files and the tags
// file. Every target asserts that no input panics and that each input is
// done within fuzzInputDeadline, and bounds memory as its comment says.
// Seeds live in testdata/fuzz/<Target>/ and are checked (rewritten with
// SERF_WRITE_FUZZ_SEEDS=1) by TestFuzzSeedCorpus, so they stay the client
// library's own encoding of real requests. `go test` runs the seeds; `make
// fuzz` fuzzes each target.

const (
	// fuzzMaxInput: longer inputs are skipped. Real requests and files are
	// far smaller; the RPC server's own message limits bound larger ones.
	fuzzMaxInput = 64 << 10

	// fuzzInputDeadline: an input not done by then counts as a hang.
	fuzzInputDeadline = 10 * time.Second

	// fuzzRigInputs: the agent and its RPC servers are replaced after this
	// many inputs, so state requests leave behind (user events, tags,
	// query collectors, the monitor ring's lines) cannot accumulate over a
	// long run.
	fuzzRigInputs = 256

	fuzzAuthKey = "fuzz-token"
)

// fuzzConn is one end of an in-memory connection that, unlike net.Pipe,
// can be half-closed: the client writes its bytes and closes its side, and
// the server still answers until it closes. Deadlines are ignored: the
// client's bytes are all there at once, followed by EOF.
type fuzzConn struct {
	r    *io.PipeReader
	w    *io.PipeWriter
	once sync.Once
}

type fuzzAddr string

func (a fuzzAddr) Network() string { return "mem" }
func (a fuzzAddr) String() string  { return string(a) }

func (c *fuzzConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *fuzzConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c *fuzzConn) Close() error {
	c.once.Do(func() {
		_ = c.r.CloseWithError(net.ErrClosed)
		_ = c.w.Close()
	})
	return nil
}
func (c *fuzzConn) LocalAddr() net.Addr              { return fuzzAddr("agent") }
func (c *fuzzConn) RemoteAddr() net.Addr             { return fuzzAddr("fuzz-client") }
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }

// fuzzListener hands the RPC server the connections the target makes.
type fuzzListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newFuzzListener() *fuzzListener {
	return &fuzzListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *fuzzListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *fuzzListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *fuzzListener) Addr() net.Addr { return fuzzAddr("agent") }

// dial connects to the server behind l; the caller gets the client's
// reading end and writing end.
func (l *fuzzListener) dial() (*io.PipeReader, *io.PipeWriter, error) {
	toServerR, toServerW := io.Pipe()
	toClientR, toClientW := io.Pipe()
	select {
	case l.conns <- &fuzzConn{r: toServerR, w: toClientW}:
		return toClientR, toServerW, nil
	case <-l.closed:
		return nil, nil, net.ErrClosed
	}
}

// rpcFuzzRig is an agent on a serftest network (no sockets) with two RPC
// servers, one requiring fuzzAuthKey, its logs kept only in the monitor
// ring. It is replaced every fuzzRigInputs inputs, and after an input's
// `leave` has shut it down.
type rpcFuzzRig struct {
	tb       testing.TB
	net      *serftest.Network
	agent    *Agent
	open     *RPCServer
	authed   *RPCServer
	lnOpen   *fuzzListener
	lnAuthed *fuzzListener
	inputs   int
}

func (r *rpcFuzzRig) listener(auth bool) *fuzzListener {
	if r.agent != nil && (r.inputs >= fuzzRigInputs || r.stopped()) {
		r.close()
	}
	if r.agent == nil {
		r.start()
	}
	r.inputs++
	if auth {
		return r.lnAuthed
	}
	return r.lnOpen
}

// stopped reports whether an input's `leave` has shut the agent down.
func (r *rpcFuzzRig) stopped() bool {
	select {
	case <-r.agent.ShutdownCh():
		return true
	default:
		return false
	}
}

func (r *rpcFuzzRig) start() {
	r.net = serftest.NewNetwork(1)
	logs, err := NewLogSink(io.Discard, "DEBUG")
	if err != nil {
		r.tb.Fatal(err)
	}
	logs.Flush()
	conf := DefaultConfig()
	conf.NodeName = "fuzz"
	sc := serftest.TestConfig("fuzz", r.net.NewTransport("fuzz"), io.Discard)
	a, err := Create(conf, sc, logs)
	if err != nil {
		r.tb.Fatal(err)
	}
	if err := a.Start(); err != nil {
		r.tb.Fatal(err)
	}
	r.agent, r.inputs = a, 0
	r.lnOpen, r.lnAuthed = newFuzzListener(), newFuzzListener()
	opts := RPCServerOptions{AuthFailureDelay: time.Microsecond}
	r.open = NewRPCServerWithOptions(a, r.lnOpen, logs, logs.Monitors(), opts)
	opts.AuthKey = fuzzAuthKey
	r.authed = NewRPCServerWithOptions(a, r.lnAuthed, logs, logs.Monitors(), opts)
}

func (r *rpcFuzzRig) close() {
	if r.agent == nil {
		return
	}
	r.open.Shutdown()
	r.authed.Shutdown()
	if err := r.agent.Shutdown(); err != nil {
		r.tb.Errorf("agent shutdown: %v", err)
	}
	r.net.Close()
	r.agent = nil
}

// fuzzMayJoin reports whether the stream may hold a `join`, whose addresses
// memberlist resolves with DNS, which fuzzing must not reach. Command
// names are msgpack strings, so a join appears in the bytes as it is; any
// such input is skipped (the agent's own tests cover join).
func fuzzMayJoin(stream []byte) bool {
	return strings.Contains(strings.ToLower(string(stream)), client.JoinCommand)
}

// FuzzRPCStream sends arbitrary bytes on one RPC connection, to the server
// without (auth false) or with an auth key, then closes its side, and reads
// every reply until the server closes. The stream holds any sequence of
// headers and bodies: handshakes, auth, every command, streams, monitors
// and queries. Memory: each message is bounded by the server's limits
// (64 KiB before the handshake, 4 MiB after) and the input by fuzzMaxInput;
// what requests make the agent keep is bounded by fuzzRigInputs.
func FuzzRPCStream(f *testing.F) {
	rig := &rpcFuzzRig{tb: f}
	f.Cleanup(rig.close)
	f.Fuzz(func(t *testing.T, auth bool, stream []byte) {
		if len(stream) > fuzzMaxInput || fuzzMayJoin(stream) {
			return
		}
		if _, err := rig.exchange(auth, stream); err != nil {
			t.Fatal(err)
		}
	})
}

// exchange sends stream on a new connection, closes the sending side and
// returns every reply byte once the server has closed the connection.
func (r *rpcFuzzRig) exchange(auth bool, stream []byte) ([]byte, error) {
	rd, w, err := r.listener(auth).dial()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_, _ = w.Write(stream) // fails once the server hangs up early
		_ = w.Close()
	}()
	defer func() { <-wrote }()
	type result struct {
		replies []byte
		err     error
	}
	read := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(rd)
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
		read <- result{b, err}
	}()
	timer := time.NewTimer(fuzzInputDeadline)
	defer timer.Stop()
	select {
	case res := <-read:
		return res.replies, res.err
	case <-timer.C:
		_ = rd.Close()
		return nil, fmt.Errorf("the server did not finish with the connection within %v", fuzzInputDeadline)
	}
}

// The fuzz harness is not vacuous: a real request stream gets its replies,
// also from the agent that replaces one a `leave` ended.
func TestRPCFuzzRigAnswers(t *testing.T) {
	rig := &rpcFuzzRig{tb: t}
	t.Cleanup(rig.close)
	hs := &client.HandshakeRequest{Version: client.IPCVersion}
	for i, auth := range []bool{false, true, false} {
		if i == 2 {
			if _, err := rig.exchange(false, fuzzRequests(t, client.HandshakeCommand, hs, client.LeaveCommand, nil)); err != nil {
				t.Fatal(err)
			}
			if !rig.stopped() {
				t.Fatal("leave did not stop the agent")
			}
		}
		reqs := []interface{}{client.HandshakeCommand, hs, client.MembersCommand, nil}
		if auth {
			reqs = []interface{}{client.HandshakeCommand, hs, client.AuthCommand, &client.AuthRequest{AuthKey: fuzzAuthKey}, client.MembersCommand, nil}
		}
		replies, err := rig.exchange(auth, fuzzRequests(t, reqs...))
		if err != nil {
			t.Fatal(err)
		}
		dec := codec.NewDecoderBytes(replies, client.NewMsgpackHandle())
		for i := 0; i < len(reqs)/2; i++ {
			var h client.ResponseHeader
			if err := dec.Decode(&h); err != nil || h.Error != "" {
				t.Fatalf("auth %v: reply %d: %+v, %v", auth, i, h, err)
			}
		}
		var resp client.MembersResponse
		if err := dec.Decode(&resp); err != nil || len(resp.Members) != 1 || resp.Members[0].Name != "fuzz" {
			t.Fatalf("auth %v: members %+v, %v", auth, resp, err)
		}
	}
}

// FuzzConfigFile reads a config directory holding one JSON file with
// arbitrary content, merges it over the defaults and finishes it as `serf
// agent` does before starting. Memory: the decoded document is bounded by
// the file (fuzzMaxInput); nothing is kept.
func FuzzConfigFile(f *testing.F) {
	dir := f.TempDir() // inputs run one at a time in each process
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0600); err != nil {
			t.Fatal(err)
		}
		c, err := ReadConfigPaths([]string{dir})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "Error decoding '") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		merged := MergeConfig(DefaultConfig(), c)
		merged.NodeName = "fuzz" // else Finish asks the OS for the host name
		_ = merged.Finish(func(string) {})
		_, _ = merged.EncryptBytes()
	})
}

// FuzzTagsFile creates an agent whose -tags-file has arbitrary content, as
// a restart does; Create either fails with the agent's message or takes
// the file's tags. Memory: the tags are bounded by the file (fuzzMaxInput).
func FuzzTagsFile(f *testing.F) {
	path := filepath.Join(f.TempDir(), "tags.json") // inputs run one at a time in each process
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			return
		}
		if err := os.WriteFile(path, data, 0600); err != nil {
			t.Fatal(err)
		}
		conf := DefaultConfig()
		conf.NodeName = "fuzz"
		conf.TagsFile = path
		a, err := Create(conf, serf.DefaultConfig(), io.Discard)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "Failed to decode tags file: ") {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if a == nil {
			t.Fatal("no agent and no error")
		}
	})
}

// fuzzRequests encodes requests as the client library sends them: header,
// then body if not nil.
func fuzzRequests(t *testing.T, reqs ...interface{}) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := codec.NewEncoder(&buf, client.NewMsgpackHandle())
	var seq uint64
	for i := 0; i < len(reqs); i += 2 {
		seq++
		if err := enc.Encode(&client.RequestHeader{Command: reqs[i].(string), Seq: seq}); err != nil {
			t.Fatal(err)
		}
		if reqs[i+1] != nil {
			if err := enc.Encode(reqs[i+1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return buf.Bytes()
}

// The seed corpora: real request streams and files, and broken ones.
func TestFuzzSeedCorpus(t *testing.T) {
	hs := &client.HandshakeRequest{Version: client.IPCVersion}
	members := fuzzRequests(t, client.HandshakeCommand, hs, client.MembersCommand, nil)
	authed := fuzzRequests(t, client.HandshakeCommand, hs, client.AuthCommand, &client.AuthRequest{AuthKey: fuzzAuthKey},
		client.MembersCommand, nil, client.StatsCommand, nil)
	badAuth := fuzzRequests(t, client.HandshakeCommand, hs, client.AuthCommand, &client.AuthRequest{AuthKey: "wrong"},
		client.MembersCommand, nil)
	busy := fuzzRequests(t, client.HandshakeCommand, hs,
		client.MembersFilteredCommand, &client.MembersFilteredRequest{Tags: map[string]string{"role": "web.*"}, Status: "alive", Name: "f.*"},
		client.EventCommand, &client.EventRequest{Name: "deploy", Payload: []byte("v1"), Coalesce: true},
		client.TagsCommand, &client.TagsRequest{Tags: map[string]string{"role": "db"}, DeleteTags: []string{"dc"}},
		client.StreamCommand, &client.StreamRequest{Type: "member-join,user:deploy,query"},
		client.MonitorCommand, &client.MonitorRequest{LogLevel: "debug"},
		client.QueryCommand, &client.QueryRequest{Name: "uptime", Payload: []byte("p"), RequestAck: true, Timeout: int64(50 * time.Millisecond)},
		client.RespondCommand, &client.RespondRequest{ID: 1, Payload: []byte("r")},
		client.StopCommand, &client.StopRequest{Stop: 5},
		client.ForceLeaveCommand, &client.ForceLeaveRequest{Node: "gone", Prune: true},
		client.GetCoordinateCommand, &client.CoordinateRequest{Node: "fuzz"},
		client.ListKeysCommand, nil,
		client.InstallKeyCommand, &client.KeyRequest{Key: "AQEBAQEBAQEBAQEBAQEBAQ=="},
		client.StatsCommand, nil)
	noHandshake := fuzzRequests(t, client.MembersCommand, nil)
	badFilter := fuzzRequests(t, client.HandshakeCommand, hs, client.MembersFilteredCommand, &client.MembersFilteredRequest{Name: "("},
		client.StreamCommand, &client.StreamRequest{Type: "nope"})
	unknown := fuzzRequests(t, client.HandshakeCommand, hs, "bogus", nil)
	leave := fuzzRequests(t, client.HandshakeCommand, hs, client.LeaveCommand, nil, client.MembersCommand, nil)
	wrongVersion := fuzzRequests(t, client.HandshakeCommand, &client.HandshakeRequest{Version: 9}, client.HandshakeCommand, hs,
		client.HandshakeCommand, hs)

	stream := func(name string, auth bool, b []byte) serftest.FuzzSeed {
		return serftest.FuzzSeed{Name: name, Args: []any{auth, b}}
	}
	b := func(s string) []byte { return []byte(s) }
	file := func(name, body string) serftest.FuzzSeed { return serftest.FuzzSeed{Name: name, Args: []any{b(body)}} }
	serftest.CheckSeedCorpus(t, map[string][]serftest.FuzzSeed{
		"FuzzRPCStream": {
			stream("handshake-members", false, members),
			stream("handshake-auth-members", true, authed),
			stream("bad-auth", true, badAuth),
			stream("every-command", false, busy),
			stream("no-handshake", false, noHandshake),
			stream("bad-filters", false, badFilter),
			stream("unknown-command", false, unknown),
			stream("leave", false, leave),
			stream("handshake-versions", false, wrongVersion),
			stream("truncated", false, members[:len(members)-2]),
			stream("header-str32-huge", false, []byte{0x82, 0xa7, 'C', 'o', 'm', 'm', 'a', 'n', 'd', 0xdb, 0x7f, 0xff, 0xff, 0xff}),
			stream("not-a-map", false, []byte{0x93, 1, 2, 3}),
			stream("bad-type-byte", true, []byte{0xc1}),
			stream("empty", false, []byte{}),
		},
		"FuzzConfigFile": {
			file("full", `{"node_name":"n1","role":"web","tags":{"dc":"east"},"bind":"127.0.0.1:7946","rpc_addr":"127.0.0.1:7373",
"log_level":"debug","protocol":5,"event_handlers":["user:deploy=./deploy.sh","member-join=true"],"start_join":["a"],
"reconnect_interval":"1s","reconnect_timeout":"24h","tombstone_timeout":"24h","retry_interval":"30s","broadcast_timeout":"5s",
"encrypt_key":"AQEBAQEBAQEBAQEBAQEBAQ==","snapshot_path":"/tmp/s","rejoin_after_leave":true,"discover":"c","mdns":{"disable_ipv6":true}}`),
			file("empty-object", `{}`),
			file("unknown-key", `{"no_such_key":1}`),
			file("wrong-type", `{"protocol":"five","tags":[1]}`),
			file("bad-duration", `{"reconnect_interval":"soon"}`),
			file("bad-handler", `{"event_handlers":["nope:=x"]}`),
			file("truncated", `{"node_name":`),
			file("not-an-object", `[1,2]`),
		},
		"FuzzTagsFile": {
			file("tags", "{\n  \"dc\": \"east\",\n  \"role\": \"web\"\n}"),
			file("empty", `{}`),
			file("null", `null`),
			file("not-strings", `{"a":1}`),
			file("truncated", `{"a":"b`),
			file("zero-bytes", ``),
		},
	})
}
