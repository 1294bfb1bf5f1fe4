package serf

import (
	"bytes"
	"io"
	"log"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func testTransport(t *testing.T, logs io.Writer) (*netTransport, *memberlist.Config) {
	t.Helper()
	return testTransportWith(t, logs, wireOptions{})
}

func testTransportWith(t *testing.T, logs io.Writer, wire wireOptions) (*netTransport, *memberlist.Config) {
	t.Helper()
	c := memberlist.DefaultLocalConfig()
	c.BindAddr, c.BindPort = "127.0.0.1", 0
	c.Logger = log.New(logs, "", 0)
	tr, err := newNetTransport(c, wire)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown() })
	return tr, c
}

// receivePacket waits up to 5 s for the next packet tr hands memberlist,
// failing the test, which names what did not arrive, when none comes.
func receivePacket(t *testing.T, tr *netTransport, what string) []byte {
	t.Helper()
	select {
	case p := <-tr.PacketCh():
		return p.Buf
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not arrive", what)
		return nil
	}
}

// A received packet is handed on in a buffer of its own size, not in the
// 64 KiB read buffer memberlist's transport allocates for every datagram.
func TestNetTransportPacketsAreTheirOwnSize(t *testing.T) {
	var logs bytes.Buffer
	tr, c := testTransport(t, &logs)
	if c.BindPort == 0 || c.AdvertisePort != c.BindPort {
		t.Fatalf("dynamic port not recorded: bind %d advertise %d", c.BindPort, c.AdvertisePort)
	}
	if !strings.Contains(logs.String(), "[DEBUG] memberlist: Using dynamic bind port") {
		t.Fatalf("logs: %q", logs.String())
	}
	addr := net.JoinHostPort("127.0.0.1", strings.TrimPrefix(tr.udp.LocalAddr().String(), "127.0.0.1:"))
	for _, msg := range []string{"ping", strings.Repeat("x", 1400)} {
		if _, err := tr.WriteTo([]byte(msg), addr); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-tr.PacketCh():
			if string(p.Buf) != msg || cap(p.Buf) > len(msg)+64 {
				t.Fatalf("packet of %d bytes in a buffer of %d", len(p.Buf), cap(p.Buf))
			}
			if p.From.String() != addr || p.Timestamp.IsZero() {
				t.Fatalf("from %v at %v", p.From, p.Timestamp)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("packet not delivered")
		}
	}
}

// Streams arrive on StreamCh; an address given explicitly is advertised
// as is, otherwise the bound one.
func TestNetTransportStreamsAndAdvertise(t *testing.T) {
	tr, c := testTransport(t, io.Discard)
	conn, err := tr.DialTimeout(tr.tcp.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	select {
	case in := <-tr.StreamCh():
		_ = in.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("stream not delivered")
	}
	ip, port, err := tr.FinalAdvertiseAddr("", 0)
	if err != nil || ip.String() != "127.0.0.1" || port != c.BindPort {
		t.Fatalf("advertise %v:%d %v", ip, port, err)
	}
	ip, port, err = tr.FinalAdvertiseAddr("10.1.2.3", 99)
	if err != nil || len(ip) != net.IPv4len || ip.String() != "10.1.2.3" || port != 99 {
		t.Fatalf("explicit advertise %v:%d %v", ip, port, err)
	}
	if _, _, err := tr.FinalAdvertiseAddr("nope", 1); err == nil || err.Error() != `failed to parse advertise address "nope"` {
		t.Fatalf("bad advertise: %v", err)
	}
}

// Shutdown returns even when a packet and a stream wait for a reader
// that never comes, as after a memberlist.Create that failed.
func TestNetTransportShutdownWithNobodyReading(t *testing.T) {
	tr, _ := testTransport(t, io.Discard)
	if _, err := tr.WriteTo([]byte("x"), tr.udp.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", tr.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(50 * time.Millisecond) // let both loops block on the hand-over
	done := make(chan struct{})
	go func() { _ = tr.Shutdown(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown hung")
	}
}

// A taken port is reported in memberlist's words, and nothing is left
// bound by the failed attempt.
func TestNetTransportPortInUse(t *testing.T) {
	busy, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.LocalAddr().(*net.UDPAddr).Port
	c := memberlist.DefaultLocalConfig()
	c.BindAddr, c.BindPort, c.Logger = "127.0.0.1", port, log.New(io.Discard, "", 0)
	_, err = newNetTransport(c, wireOptions{})
	want := "could not set up network transport: failed to obtain an address: failed to start UDP listener on \"127.0.0.1\" port "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err %v", err)
	}
	ln, err := net.Listen("tcp", busy.LocalAddr().String())
	if err != nil {
		t.Fatalf("TCP port still held after the failed attempt: %v", err)
	}
	_ = ln.Close()
}

// memberlist gets at most MaxStreamsInFlight connections at a time; the next one
// waits in the listen queue until memberlist closes one it holds, instead
// of memberlist refusing it, as it refuses push/pulls past 128.
func TestNetTransportBoundsStreamsInMemberlistsHands(t *testing.T) {
	tr, _ := testTransport(t, io.Discard)
	var clients []net.Conn
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	for range MaxStreamsInFlight + 3 {
		c, err := net.Dial("tcp", tr.tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	var held []net.Conn
	for len(held) < MaxStreamsInFlight {
		select {
		case c := <-tr.StreamCh():
			held = append(held, c)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d streams handed over", len(held), MaxStreamsInFlight)
		}
	}
	select {
	case <-tr.StreamCh():
		t.Fatalf("stream %d handed over while %d are held", MaxStreamsInFlight+1, MaxStreamsInFlight)
	case <-time.After(200 * time.Millisecond):
	}
	_ = held[0].Close()
	_ = held[0].Close() // a second Close gives back nothing more
	select {
	case c := <-tr.StreamCh():
		held = append(held[1:], c)
	case <-time.After(5 * time.Second):
		t.Fatal("no stream handed over after one was closed")
	}
	select {
	case <-tr.StreamCh():
		t.Fatal("a double Close released two tokens")
	case <-time.After(200 * time.Millisecond):
	}
	for _, c := range held {
		_ = c.Close()
	}
}

// Create gives its transport the readers of memberlist's messages when
// asked, and only where the transport sees them in the clear: the copy
// filter where memberlist does not encrypt, the notices of suspicions and
// leaves where it does not compress either.
func TestCreateReadsGossipOnlyInTheClear(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 16)
	for _, tc := range []struct {
		name                 string
		asked, encrypts      bool // Serf's options on; the transport encrypts
		packs                bool // the transport compresses
		key                  []byte
		dropsCopies, notices bool
	}{
		{"transport compresses", true, false, true, nil, true, true},
		{"off", false, false, true, nil, false, false},
		{"memberlist encrypts", true, false, true, key, false, false},
		{"transport encrypts", true, true, true, key, true, true},
		{"memberlist compresses (the library's default)", true, false, false, nil, true, false},
	} {
		conf := loopbackConfig()
		conf.DropGossipCopies, conf.TellAccused, conf.TellLeave = tc.asked, tc.asked, tc.asked
		conf.TransportEncryption = tc.encrypts
		conf.TransportCompression = tc.packs
		conf.MemberlistConfig.SecretKey = tc.key
		conf.MemberlistConfig.EnableCompression = true
		s, err := Create(conf)
		if err != nil {
			t.Fatal(err)
		}
		tr := s.config.MemberlistConfig.Transport.(*netTransport)
		if got := tr.wire.copies != nil && tr.wire.copies == s.gossipCopies; got != tc.dropsCopies {
			t.Errorf("%s: transport drops copies %v", tc.name, got)
		}
		if got := tr.wire.notices != nil; got != tc.notices {
			t.Errorf("%s: transport sends notices %v", tc.name, got)
		}
		_ = s.Shutdown()
	}
}
