package client

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
)

// fakeAgent is one scripted server connection.
type fakeAgent struct {
	t    *testing.T
	conn net.Conn
	dec  *codec.Decoder
	enc  *codec.Encoder
	w    *bufio.Writer
}

// startFake runs script against the first connection to a loopback
// listener and returns the listener's address.
func startFake(t *testing.T, script func(f *fakeAgent)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	go func() {
		defer close(done)
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		w := bufio.NewWriter(conn)
		f := &fakeAgent{t: t, conn: conn, w: w,
			dec: codec.NewDecoder(bufio.NewReader(conn), NewMsgpackHandle()),
			enc: codec.NewEncoder(w, NewMsgpackHandle())}
		script(f)
	}()
	return l.Addr().String()
}

// request reads one request header and, if withBody, its body.
func (f *fakeAgent) request(withBody bool) RequestHeader {
	var hdr RequestHeader
	if err := f.dec.Decode(&hdr); err != nil {
		return hdr
	}
	if withBody {
		var body interface{}
		_ = f.dec.Decode(&body)
	}
	return hdr
}

// reply writes objects and flushes.
func (f *fakeAgent) reply(objs ...interface{}) {
	for _, o := range objs {
		_ = f.enc.Encode(o)
	}
	_ = f.w.Flush()
}

// raw writes bytes as they are.
func (f *fakeAgent) raw(b []byte) {
	_, _ = f.w.Write(b)
	_ = f.w.Flush()
}

func (f *fakeAgent) handshake() {
	hdr := f.request(true)
	f.reply(&ResponseHeader{Seq: hdr.Seq})
}

// waitClosed reads until the client hangs up.
func (f *fakeAgent) waitClosed() {
	_ = f.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var v interface{}
	for f.dec.Decode(&v) == nil {
	}
}

func connect(t *testing.T, addr string) *RPCClient {
	t.Helper()
	c, err := ClientFromConfig(&Config{Addr: addr, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSeqStartsAtOneAndIncrements(t *testing.T) {
	seqs := make(chan uint64, 4)
	addr := startFake(t, func(f *fakeAgent) {
		hdr := f.request(true)
		seqs <- hdr.Seq
		f.reply(&ResponseHeader{Seq: hdr.Seq})
		hdr = f.request(true)
		seqs <- hdr.Seq
		f.reply(&ResponseHeader{Seq: hdr.Seq})
		hdr = f.request(false)
		seqs <- hdr.Seq
		f.reply(&ResponseHeader{Seq: hdr.Seq}, map[string]map[string]string{"agent": {"name": "x"}})
		f.waitClosed()
	})
	c, err := ClientFromConfig(&Config{Addr: addr, AuthKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stats, err := c.Stats()
	if err != nil || stats["agent"]["name"] != "x" {
		t.Fatalf("Stats: %v %v", stats, err)
	}
	for want := uint64(1); want <= 3; want++ {
		if got := <-seqs; got != want {
			t.Fatalf("seq %d, want %d", got, want)
		}
	}
}

func TestGarbageHeaderClosesClient(t *testing.T) {
	addr := startFake(t, func(f *fakeAgent) {
		f.request(true)
		f.raw([]byte{0xc1, 0xc1, 0xc1}) // 0xc1 is never valid msgpack
		f.waitClosed()
	})
	_, err := ClientFromConfig(&Config{Addr: addr, Timeout: 2 * time.Second})
	if err == nil || err.Error() != "client closed" {
		t.Fatalf("got %v, want client closed", err)
	}
}

func TestMalformedBodyFailsCallAndClosesClient(t *testing.T) {
	addr := startFake(t, func(f *fakeAgent) {
		f.handshake()
		hdr := f.request(false)
		// A members reply whose body is a string, not a map.
		f.reply(&ResponseHeader{Seq: hdr.Seq}, "not a map")
		f.waitClosed()
	})
	c := connect(t, addr)
	if _, err := c.Members(); err == nil || !strings.Contains(err.Error(), "malformed reply") {
		t.Fatalf("got %v, want a malformed reply error", err)
	}
	if !c.IsClosed() {
		t.Fatal("client should close after a malformed body")
	}
}

func TestUnknownSeqIgnoredAndErrorsKeepBodies(t *testing.T) {
	addr := startFake(t, func(f *fakeAgent) {
		f.handshake()
		hdr := f.request(true)
		// A stray header nobody waits for, then the real reply: an error
		// that still carries the join body.
		f.reply(&ResponseHeader{Seq: 999},
			&ResponseHeader{Seq: hdr.Seq, Error: "boom"}, &JoinResponse{Num: 3})
		hdr = f.request(false)
		f.reply(&ResponseHeader{Seq: hdr.Seq, Error: ErrAuthRequired}) // no body
		hdr = f.request(false)
		f.reply(&ResponseHeader{Seq: hdr.Seq}, &MembersResponse{Members: []Member{{Name: "m"}}})
		f.waitClosed()
	})
	c := connect(t, addr)
	n, err := c.Join([]string{"x"}, true)
	if n != 3 || err == nil || err.Error() != "boom" {
		t.Fatalf("Join: %d %v", n, err)
	}
	if _, err := c.Members(); err == nil || err.Error() != ErrAuthRequired {
		t.Fatalf("auth error: %v", err)
	}
	members, err := c.Members()
	if err != nil || len(members) != 1 || members[0].Name != "m" {
		t.Fatalf("Members: %v %v", members, err)
	}
}

func TestDisconnectFailsPendingCallsAndStreams(t *testing.T) {
	addr := startFake(t, func(f *fakeAgent) {
		f.handshake()
		f.request(true) // the stream request: never acknowledged
		f.conn.Close()
	})
	c := connect(t, addr)
	ch := make(chan map[string]interface{}, 1)
	if _, err := c.Stream("*", ch); err == nil || err.Error() != "Stream closed" {
		t.Fatalf("Stream: %v", err)
	}
	if _, ok := <-ch; ok {
		t.Fatal("stream channel not closed")
	}
	if err := c.Leave(); err == nil || err.Error() != "client closed" {
		t.Fatalf("Leave: %v", err)
	}
}

func TestStreamRecordsStopAndGarbage(t *testing.T) {
	addr := startFake(t, func(f *fakeAgent) {
		f.handshake()
		hdr := f.request(true)
		seq := hdr.Seq
		f.reply(&ResponseHeader{Seq: seq},
			&ResponseHeader{Seq: seq}, map[string]interface{}{"Event": "user", "Name": "a"})
		stop := f.request(true)
		// A record that was already on its way when the stop arrived,
		// then the stop reply.
		f.reply(&ResponseHeader{Seq: seq}, map[string]interface{}{"Event": "user", "Name": "late", "Seq": 77},
			&ResponseHeader{Seq: stop.Seq})
		mon := f.request(true)
		f.reply(&ResponseHeader{Seq: mon.Seq}, &ResponseHeader{Seq: mon.Seq})
		f.raw([]byte{0xc1}) // garbage record
		f.waitClosed()
	})
	c := connect(t, addr)
	ch := make(chan map[string]interface{}, 4)
	h, err := c.Stream("*", ch)
	if err != nil {
		t.Fatal(err)
	}
	rec := <-ch
	if rec["Name"] != "a" {
		t.Fatalf("record %#v", rec)
	}
	if err := c.Stop(h); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, ok := <-ch; ok {
		t.Fatal("channel open after Stop")
	}
	logs := make(chan string, 4)
	if _, err := c.Monitor("INFO", logs); err != nil {
		t.Fatalf("Monitor: %v", err)
	}
	select {
	case _, ok := <-logs:
		if ok {
			t.Fatal("garbage produced a log line")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("monitor channel not closed after garbage")
	}
}

func TestQueryRecords(t *testing.T) {
	addr := startFake(t, func(f *fakeAgent) {
		f.handshake()
		hdr := f.request(true)
		s := hdr.Seq
		f.reply(&ResponseHeader{Seq: s},
			&ResponseHeader{Seq: s}, &QueryRecord{Type: "ack", From: "a"},
			&ResponseHeader{Seq: s}, &QueryRecord{Type: "weird", From: "z"},
			&ResponseHeader{Seq: s}, &QueryRecord{Type: "response", From: "a", Payload: []byte("hi")},
			// What a real Serf v0.10.2 agent streams when its query's
			// channels close before its own deadline timer fires.
			&ResponseHeader{Seq: s}, &QueryRecord{Type: "ack"},
			&ResponseHeader{Seq: s}, &QueryRecord{Type: "response"},
			&ResponseHeader{Seq: s}, &QueryRecord{Type: "done"})
		f.waitClosed()
	})
	c := connect(t, addr)
	acks := make(chan string, 4)
	resps := make(chan NodeResponse, 4)
	if err := c.Query(&QueryParam{Name: "q", AckCh: acks, RespCh: resps}); err != nil {
		t.Fatal(err)
	}
	var gotAcks []string
	for a := range acks {
		gotAcks = append(gotAcks, a)
	}
	var gotResps []NodeResponse
	for r := range resps {
		gotResps = append(gotResps, r)
	}
	if len(gotAcks) != 1 || gotAcks[0] != "a" || len(gotResps) != 1 || string(gotResps[0].Payload) != "hi" {
		t.Fatalf("acks %v responses %v", gotAcks, gotResps)
	}
}

func TestSilentServerHandshakeTimesOut(t *testing.T) {
	addr := startFake(t, func(f *fakeAgent) {
		f.request(true)
		f.waitClosed() // never answers
	})
	// The server never answers nor hangs up, so only the client's own
	// bound on the handshake wait can produce this error.
	_, err := ClientFromConfig(&Config{Addr: addr, Timeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no reply to handshake") {
		t.Fatalf("got %v", err)
	}
}

func TestHugeLengthPrefixesDoNotExhaustMemory(t *testing.T) {
	addr := startFake(t, func(f *fakeAgent) {
		f.handshake()
		hdr := f.request(false)
		f.reply(&ResponseHeader{Seq: hdr.Seq})
		// {"Members": array32 claiming 2^32-1 entries} and then nothing.
		f.raw([]byte{0x81, 0xa7, 'M', 'e', 'm', 'b', 'e', 'r', 's', 0xdd, 0xff, 0xff, 0xff, 0xff})
		f.conn.Close()
	})
	c := connect(t, addr)
	if _, err := c.Members(); err == nil {
		t.Fatal("expected an error")
	}
}

func TestHugeStringInHeaderFailsCleanly(t *testing.T) {
	addr := startFake(t, func(f *fakeAgent) {
		f.request(true)
		// {"Error": str32 claiming 4 GiB} and then nothing.
		f.raw([]byte{0x81, 0xa5, 'E', 'r', 'r', 'o', 'r', 0xdb, 0xff, 0xff, 0xff, 0xff, 'x'})
		f.conn.Close()
	})
	if _, err := ClientFromConfig(&Config{Addr: addr, Timeout: 2 * time.Second}); err == nil {
		t.Fatal("expected an error")
	}
}
