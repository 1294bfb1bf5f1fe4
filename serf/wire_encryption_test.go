package serf

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"io"
	"log"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func testCipher(t *testing.T, verify bool, keys ...[]byte) *wireCipher {
	t.Helper()
	kr, err := memberlist.NewKeyring(keys, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	c := memberlist.DefaultLANConfig()
	c.Keyring = kr
	c.GossipVerifyIncoming, c.GossipVerifyOutgoing = verify, verify
	return newWireCipher(c)
}

// readAll reads a stream through a streamOpener of c.
func readAll(c *wireCipher, stream []byte) ([]byte, error) {
	return io.ReadAll(&streamOpener{c: c, r: bytes.NewReader(stream)})
}

// Sealed packets and stream messages open with any key of the receiver's
// keyring, the sender's primary among them, and not without it.
func TestWireCipherRoundTrips(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 24)
	sender := testCipher(t, true, k1)
	receiver := testCipher(t, true, k2, k1)
	stranger := testCipher(t, true, k2)
	msg := []byte("\x02some memberlist message")

	packet, err := sender.sealPacket(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(packet) != len(msg)+mlEncryptOverhead || packet[0] != mlEncryptionVersion {
		t.Fatalf("sealed packet % x", packet)
	}
	if got, err := receiver.openPacket(packet); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("opened %q %v", got, err)
	}
	if _, err := stranger.openPacket(packet); err == nil || err.Error() != noKeyOpens {
		t.Fatalf("a keyring without the key opening the packet: %v", err)
	}

	stream, err := sender.sealStream(msg)
	if err != nil {
		t.Fatal(err)
	}
	if stream[0] != mlEncryptMsg || int(binary.BigEndian.Uint32(stream[1:5])) != len(stream)-5 {
		t.Fatalf("stream header % x", stream[:5])
	}
	two := append(bytes.Clone(stream), stream...)
	if got, err := readAll(receiver, two); err != nil || !bytes.Equal(got, append(bytes.Clone(msg), msg...)) {
		t.Fatalf("two stream messages read as %q, %v", got, err)
	}
	if _, err := readAll(stranger, stream); err == nil || err.Error() != noKeyOpens {
		t.Fatalf("stranger reading the stream: %v", err)
	}
	// The header is authenticated: a stream message whose length says
	// more than was sealed does not open.
	bad := bytes.Clone(stream)
	binary.BigEndian.PutUint32(bad[1:5], uint32(len(stream)-5+1))
	if _, err := readAll(receiver, append(bad, 0)); err == nil {
		t.Fatal("a stream message with a changed header opened")
	}
}

// What cannot be opened is refused with memberlist's error, or with
// GossipVerifyIncoming off handed on as it came; a stream that is not
// encrypted is refused with memberlist's error unless verification is
// off or it starts with a label header, which memberlist refuses itself.
func TestWireCipherRefusesOrPassesOn(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 16)
	strict := testCipher(t, true, key)
	lenient := testCipher(t, false, key)
	plain := []byte("\x02plain packet of some length, not encrypted")

	if _, err := strict.openPacket(plain); err == nil || err.Error() != "unsupported encryption version 2" {
		t.Fatalf("a plain packet: %v", err)
	}
	if got, err := lenient.openPacket(plain); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("lenient: %q %v", got, err)
	}
	labelled := append([]byte{mlHasLabelMsg, 1, 'x'}, plain...)
	if got, err := strict.openPacket(labelled); err != nil || !bytes.Equal(got, labelled) {
		t.Fatalf("labelled packet: %q %v", got, err)
	}

	if _, err := readAll(strict, plain); err == nil || err.Error() != "encryption is configured but remote state is not encrypted" {
		t.Fatalf("plain stream: %v", err)
	}
	for name, stream := range map[string][]byte{"lenient": plain, "labelled": labelled} {
		c := lenient
		if name == "labelled" {
			c = strict
		}
		if got, err := readAll(c, stream); err != nil || !bytes.Equal(got, stream) {
			t.Fatalf("%s stream read as %q, %v", name, got, err)
		}
	}
	if sent, _ := lenient.sealPacket(plain); !bytes.Equal(sent, plain) {
		t.Fatal("GossipVerifyOutgoing off, yet the packet was encrypted")
	}

	huge := []byte{mlEncryptMsg, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(huge[1:], maxSealedStream+1)
	if _, err := readAll(strict, huge); err == nil || !strings.Contains(err.Error(), "larger than limit") {
		t.Fatalf("oversized stream message: %v", err)
	}
	// A header claiming the most that is allowed, then ten bytes and the
	// end: refused without allocating what the header claimed.
	claim := []byte{mlEncryptMsg, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(claim[1:], maxSealedStream)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readAll(strict, append(claim, make([]byte, 10)...))
	runtime.ReadMemStats(&after)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("stream cut short after its header: %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > maxSealedStream/2 {
		t.Fatalf("a 10-byte stream message cost %d bytes", grew)
	}
	sealed, _ := strict.sealStream(plain)
	if _, err := readAll(strict, sealed[:len(sealed)-1]); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated stream message: %v", err)
	}
	for _, short := range [][]byte{{}, {1}, bytes.Repeat([]byte{1}, mlEncryptOverhead-1)} {
		if _, err := strict.open(short, nil); err == nil {
			t.Fatalf("opened % x", short)
		}
	}
}

// Through the transport: a packet that does not decrypt is dropped and
// logged in memberlist's words, and one sealed with the key reaches
// memberlist as its plaintext.
func TestNetTransportDecryptsOrDrops(t *testing.T) {
	var logs syncBuffer
	c := testCipher(t, true, bytes.Repeat([]byte{1}, 16))
	receiver, _ := testTransportWith(t, &logs, wireOptions{cipher: c})
	wire, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer wire.Close()

	msg := []byte("\x02some memberlist message")
	sealed, _ := c.sealPacket(msg)
	unsealed := []byte("\x02a plain packet, to be dropped")
	for _, p := range [][]byte{unsealed, sealed} {
		if _, err := wire.WriteTo(p, receiver.udp.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case p := <-receiver.PacketCh():
		if !bytes.Equal(p.Buf, msg) {
			t.Fatalf("received %q; the plain packet should have been dropped", p.Buf)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sealed packet not delivered")
	}
	want := "[ERR] memberlist: Decrypt packet failed: unsupported encryption version 2 from=" + wire.LocalAddr().String() + "\n"
	if got := logs.String(); !strings.HasSuffix(got, want) || strings.Count(got, "[ERR]") != 1 {
		t.Fatalf("logged %q\nwant   %q", got, want)
	}
}

// Encryption version 0 (memberlist protocol 1) pads the plaintext to the
// AES block with PKCS#7; it opens, padding removed.
func TestWireCipherOpensVersionZero(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 16)
	c := testCipher(t, true, key)
	msg := []byte("\x02eleven b")
	pad := aes.BlockSize - len(msg)%aes.BlockSize
	padded := append(bytes.Clone(msg), bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := bytes.Repeat([]byte{4}, mlNonceLen)
	sealed := append(append([]byte{0}, nonce...), gcm.Seal(nil, nonce, padded, nil)...)
	if got, err := c.openPacket(sealed); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("opened %q %v", got, err)
	}
}

// Create encrypts in the transport only when asked, with a key and no
// label; Serf's configuration keeps the keyring, SecretKey folded in, and
// a bad key fails as it does in memberlist.
func TestCreateChoosesWhereToEncrypt(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 16)
	for _, tc := range []struct {
		name        string
		asked       bool
		key         []byte
		label       string
		inTransport bool
	}{
		{"asked", true, key, "", true},
		{"not asked", false, key, "", false},
		{"no key", true, nil, "", false},
		{"label", true, key, "lbl", false},
	} {
		conf := loopbackConfig()
		conf.TransportEncryption = tc.asked
		conf.TransportCompression = true
		conf.MemberlistConfig.SecretKey = tc.key
		conf.MemberlistConfig.Label = tc.label
		s, err := Create(conf)
		if err != nil {
			t.Fatal(err)
		}
		used := s.config.MemberlistConfig
		tr := used.Transport.(*netTransport)
		if got := tr.wire.cipher != nil; got != tc.inTransport {
			t.Errorf("%s: transport encrypts %v", tc.name, got)
		}
		if tc.inTransport && tr.wire.compressor == nil {
			t.Errorf("%s: encrypting transport does not compress", tc.name)
		}
		if s.EncryptionEnabled() != (tc.key != nil) {
			t.Errorf("%s: EncryptionEnabled %v", tc.name, s.EncryptionEnabled())
		}
		if tc.key != nil && !bytes.Equal(used.Keyring.GetPrimaryKey(), key) {
			t.Errorf("%s: primary key %x", tc.name, used.Keyring.GetPrimaryKey())
		}
		_ = s.Shutdown()
	}

	for _, asked := range []bool{false, true} {
		conf := loopbackConfig()
		conf.TransportEncryption = asked
		conf.MemberlistConfig.SecretKey = []byte("short")
		_, err := Create(conf)
		if want := "Failed to create memberlist: key size must be 16, 24 or 32 bytes"; err == nil || err.Error() != want {
			t.Errorf("asked %v: bad key gave %v, want %q", asked, err, want)
		}
	}
}

// memberlist, believing itself unencrypted, would warn at start-up about
// a public address; that line is left out, and others are not.
func TestWithoutEncryptionQuietsTheWarning(t *testing.T) {
	var logs bytes.Buffer
	c := memberlist.DefaultLANConfig()
	c.Logger = log.New(&logs, "", 0)
	c.Keyring, _ = memberlist.NewKeyring(nil, bytes.Repeat([]byte{1}, 16))
	cp := withoutEncryption(c)
	if cp.Keyring != nil || c.Keyring == nil || cp.UDPBufferSize != c.UDPBufferSize-mlEncryptOverhead {
		t.Fatalf("copy: keyring %v, UDPBufferSize %d", cp.Keyring, cp.UDPBufferSize)
	}
	cp.Logger.Printf("%s", publicBindWarning)
	cp.Logger.Printf("[INFO] memberlist: something else")
	if logs.String() != "[INFO] memberlist: something else\n" {
		t.Fatalf("logged %q", logs.String())
	}
}
