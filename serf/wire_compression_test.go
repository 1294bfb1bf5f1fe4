package serf

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func testCompressor() *wireCompressor { return newWireCompressor(newWireCodec(false)) }

// capturingTransport records every packet a memberlist sends.
type capturingTransport struct {
	*memberlist.MockTransport
	sent chan []byte
}

func (c *capturingTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	c.sent <- bytes.Clone(b)
	return c.MockTransport.WriteToAddress(b, a)
}

// sendingMemberlist is a lone memberlist on mock, compressing as told,
// whose packets its transport records.
func sendingMemberlist(t *testing.T, mock *memberlist.MockNetwork, name string, compress bool) (*memberlist.Memberlist, *capturingTransport) {
	t.Helper()
	c := memberlist.DefaultLocalConfig()
	c.Name = name
	c.EnableCompression = compress
	c.LogOutput = io.Discard
	tr := &capturingTransport{MockTransport: mock.NewTransport(name), sent: make(chan []byte, 16)}
	c.Transport = tr
	m, err := memberlist.Create(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m, tr
}

func nextPacket(t *testing.T, tr *capturingTransport) []byte {
	t.Helper()
	select {
	case p := <-tr.sent:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no packet sent")
		return nil
	}
}

// What the transport makes of a packet memberlist sent uncompressed is,
// byte for byte, what memberlist sends when it compresses itself, and
// unpacking memberlist's compressed packet gives back the plain one.
func TestWireCompressionMatchesMemberlist(t *testing.T) {
	var mock memberlist.MockNetwork
	plain, plainTr := sendingMemberlist(t, &mock, "plain", false)
	packing, packingTr := sendingMemberlist(t, &mock, "packing", true)
	ip, port, err := packingTr.FinalAdvertiseAddr("", 0)
	if err != nil {
		t.Fatal(err)
	}
	to := memberlist.Address{Addr: net.JoinHostPort(ip.String(), strconv.Itoa(port)), Name: "packing"}

	random := make([]byte, 300)
	rand.New(rand.NewSource(1)).Read(random)
	z := testCompressor()
	for _, tc := range []struct {
		name       string
		msg        []byte
		compressed bool
	}{
		{"repetitive", bytes.Repeat([]byte("serf member "), 100), true},
		{"random", random, false},
		{"short", []byte("hi"), false},
	} {
		if err := plain.SendToAddress(to, tc.msg); err != nil {
			t.Fatal(err)
		}
		p := nextPacket(t, plainTr)
		if err := packing.SendToAddress(to, tc.msg); err != nil {
			t.Fatal(err)
		}
		c := nextPacket(t, packingTr)
		if got := c[0] == mlCompressMsg; got != tc.compressed {
			t.Fatalf("%s: memberlist compressed %v, want %v", tc.name, got, tc.compressed)
		}
		if packed := z.packPacket(p); !bytes.Equal(packed, c) {
			t.Fatalf("%s: packed %x\nmemberlist %x", tc.name, packed, c)
		}
		if unpacked := z.unpackPacket(c); !bytes.Equal(unpacked, p) {
			t.Fatalf("%s: unpacked %x\nplain %x", tc.name, unpacked, p)
		}
	}
}

func withCRC(msg []byte) []byte {
	out := []byte{mlHasCrcMsg}
	out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(msg))
	return append(out, msg...)
}

func withLabel(label string, rest []byte) []byte {
	return append(append([]byte{mlHasLabelMsg, byte(len(label))}, label...), rest...)
}

// A packet's CRC header is recomputed over the compressed message, a label
// header stays in front, and the receiving side gets the message back
// (its CRC checked and dropped, its label kept).
func TestWireCompressionKeepsCRCAndLabel(t *testing.T) {
	z := testCompressor()
	msg := append([]byte{8}, bytes.Repeat([]byte("event payload "), 50)...) // a user message
	for _, tc := range []struct {
		name         string
		packet, want []byte
	}{
		{"crc", withCRC(msg), msg},
		{"label", withLabel("dc1", msg), withLabel("dc1", msg)},
		{"label and crc", withLabel("dc1", withCRC(msg)), withLabel("dc1", msg)},
	} {
		packed := z.packPacket(tc.packet)
		if len(packed) >= len(tc.packet) {
			t.Fatalf("%s: not compressed (%d bytes from %d)", tc.name, len(packed), len(tc.packet))
		}
		label, rest, ok := splitLabel(packed)
		if !ok || !bytes.Equal(label, tc.packet[:len(label)]) {
			t.Fatalf("%s: label header %x of %x", tc.name, label, packed)
		}
		if tc.packet[len(label)] == mlHasCrcMsg {
			if rest[0] != mlHasCrcMsg || crc32.ChecksumIEEE(rest[mlCRCHeaderLen:]) != binary.BigEndian.Uint32(rest[1:mlCRCHeaderLen]) {
				t.Fatalf("%s: no valid CRC header on %x", tc.name, rest)
			}
			rest = rest[mlCRCHeaderLen:]
		}
		if rest[0] != mlCompressMsg {
			t.Fatalf("%s: message type %d, want compress", tc.name, rest[0])
		}
		if got := z.unpackPacket(packed); !bytes.Equal(got, tc.want) {
			t.Fatalf("%s: unpacked %x\nwant %x", tc.name, got, tc.want)
		}
	}
}

// Whatever the transport cannot check or unpack reaches memberlist as it
// came, for memberlist to reject and log as it always has; what is not a
// plain message is never wrapped.
func TestWireCompressionPassesOnWhatItCannotUnpack(t *testing.T) {
	z := testCompressor()
	msg := append([]byte{8}, bytes.Repeat([]byte("abc"), 200)...)
	packed := z.packPacket(msg)

	badCRC := withCRC(packed)
	badCRC[len(badCRC)-1] ^= 1
	otherAlgo, err := z.codec.encodeMessage(messageType(mlCompressMsg), &compressedMessage{Algo: 1, Buf: []byte{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	bomb := z.packPacket(append([]byte{8}, make([]byte, 2*maxUnpacked)...))
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb of %d bytes", len(bomb))
	}
	for name, p := range map[string][]byte{
		"bad crc":         badCRC,
		"other algorithm": otherAlgo,
		"not msgpack":     {mlCompressMsg, 0xc1},
		"truncated":       packed[:len(packed)/2],
		"too big":         bomb,
		"empty":           {},
		"short label":     {mlHasLabelMsg, 9, 'x'},
	} {
		if got := z.unpackPacket(p); !bytes.Equal(got, p) {
			t.Fatalf("%s: changed to %x", name, got)
		}
	}
	for name, p := range map[string][]byte{
		"compressed": packed,
		"encrypted":  append([]byte{mlEncryptMsg}, msg...),
		"crc only":   {mlHasCrcMsg, 1, 2},
	} {
		if got := z.packPacket(p); !bytes.Equal(got, p) {
			t.Fatalf("%s: packed to %x", name, got)
		}
	}
}

// Through the transport: what goes on the wire is compressed, what arrives
// compressed reaches memberlist plain, and stream messages are compressed
// (the label header left alone) and counted as memberlist counts them.
func TestNetTransportCompresses(t *testing.T) {
	sent := map[string]int{}
	sender, _ := testTransportWith(t, io.Discard, wireOptions{
		compressor: testCompressor(),
		countSent:  func(proto string, n int) { sent[proto] += n },
	})
	receiver, _ := testTransportWith(t, io.Discard, wireOptions{compressor: testCompressor()})

	wire, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer wire.Close()
	msg := withLabel("dc1", withCRC(append([]byte{8}, bytes.Repeat([]byte("user event "), 100)...)))
	if _, err := sender.WriteTo(msg, wire.LocalAddr().String()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65536)
	_ = wire.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := wire.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	onWire := buf[:n]
	if n >= len(msg) || onWire[5] != mlHasCrcMsg || onWire[10] != mlCompressMsg {
		t.Fatalf("on the wire: %x", onWire)
	}
	if sent["udp"] != n-5 {
		t.Fatalf("udp sent counted %d, want %d (the packet without its label header)", sent["udp"], n-5)
	}

	if _, err := wire.WriteTo(onWire, receiver.udp.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-receiver.PacketCh():
		if want := withLabel("dc1", msg[10:]); !bytes.Equal(p.Buf, want) {
			t.Fatalf("received %x\nwant %x", p.Buf, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("packet not delivered")
	}

	conn, err := sender.DialTimeout(receiver.tcp.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var in net.Conn
	select {
	case in = <-receiver.StreamCh():
		defer in.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("stream not delivered")
	}
	label := withLabel("dc1", nil)
	stream := append([]byte{6}, bytes.Repeat([]byte("push pull state "), 100)...)
	for _, w := range [][]byte{label, stream} {
		if n, err := conn.Write(w); err != nil || n != len(w) {
			t.Fatalf("write: %d of %d, %v", n, len(w), err)
		}
	}
	_ = conn.Close()
	got, err := io.ReadAll(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(got, label) || got[len(label)] != mlCompressMsg {
		t.Fatalf("stream: %x", got)
	}
	if plain := testCompressor().unpackPacket(got[len(label):]); !bytes.Equal(plain, stream) {
		t.Fatalf("stream message unpacks to %x", plain)
	}
	if sent["tcp"] != len(got)-len(label) {
		t.Fatalf("tcp sent counted %d, want %d", sent["tcp"], len(got)-len(label))
	}
}

// Create moves compression into its transport only when asked, when
// memberlist is to compress at all, and when gossip is not encrypted
// (memberlist encrypts before the transport sees a packet); when asked,
// the transport counts what it sends either way.
func TestCreateChoosesWhereToCompress(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 16)
	for _, tc := range []struct {
		name                     string
		inTransport, compression bool
		key                      []byte
		transportCompresses      bool
	}{
		{"asked", true, true, nil, true},
		{"not asked", false, true, nil, false},
		{"compression off", true, false, nil, false},
		{"encrypted", true, true, key, false},
	} {
		conf := loopbackConfig()
		conf.TransportCompression = tc.inTransport
		ml := conf.MemberlistConfig
		ml.EnableCompression = tc.compression
		ml.SecretKey = tc.key
		s, err := Create(conf)
		if err != nil {
			t.Fatal(err)
		}
		used := s.config.MemberlistConfig
		tr := used.Transport.(*netTransport)
		if got := tr.wire.compressor != nil; got != tc.transportCompresses {
			t.Errorf("%s: transport compresses %v", tc.name, got)
		}
		if used.EnableCompression != (tc.compression && !tc.transportCompresses) {
			t.Errorf("%s: memberlist compresses %v", tc.name, used.EnableCompression)
		}
		if got := tr.wire.countSent != nil; got != tc.inTransport {
			t.Errorf("%s: transport counts %v", tc.name, got)
		}
		if ml.EnableCompression != tc.compression {
			t.Errorf("%s: caller's config changed", tc.name)
		}
		_ = s.Shutdown()
	}
}
