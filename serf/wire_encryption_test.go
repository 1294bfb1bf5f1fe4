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

	"github.com/hashicorp/memberlist"
)

func testCipher(t *testing.T, verify bool, logs io.Writer, keys ...[]byte) *wireCipher {
	t.Helper()
	kr, err := memberlist.NewKeyring(keys, keys[0])
	if err != nil {
		t.Fatal(err)
	}
	c := memberlist.DefaultLANConfig()
	c.Keyring = kr
	c.GossipVerifyIncoming, c.GossipVerifyOutgoing = verify, verify
	return newWireCipher(c, log.New(logs, "", 0))
}

// readAll reads a stream through a streamOpener of c.
func readAll(c *wireCipher, stream []byte) ([]byte, error) {
	return io.ReadAll(&streamOpener{c: c, r: bytes.NewReader(stream)})
}

// Sealed packets and stream messages open with any key of the receiver's
// keyring, the sender's primary among them, and not without it.
func TestWireCipherRoundTrips(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 24)
	sender := testCipher(t, true, io.Discard, k1)
	receiver := testCipher(t, true, io.Discard, k2, k1)
	stranger := testCipher(t, true, io.Discard, k2)
	msg := []byte("\x02some memberlist message")

	packet, err := sender.sealPacket(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(packet) != len(msg)+mlEncryptOverhead || packet[0] != mlEncryptionVersion {
		t.Fatalf("sealed packet % x", packet)
	}
	if got, ok := receiver.openPacket(packet, nil); !ok || !bytes.Equal(got, msg) {
		t.Fatalf("opened %q %v", got, ok)
	}
	if _, ok := stranger.openPacket(packet, &net.UDPAddr{}); ok {
		t.Fatal("a keyring without the key opened the packet")
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

// What cannot be opened is dropped and logged with memberlist's words, or
// with GossipVerifyIncoming off handed on as it came; a stream that is
// not encrypted is refused with memberlist's error unless verification is
// off or it starts with a label header, which memberlist refuses itself.
func TestWireCipherRefusesOrPassesOn(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 16)
	var logs bytes.Buffer
	strict := testCipher(t, true, &logs, key)
	lenient := testCipher(t, false, io.Discard, key)
	plain := []byte("\x02plain packet of some length, not encrypted")
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7946}

	if _, ok := strict.openPacket(plain, from); ok {
		t.Fatal("a plain packet was taken")
	}
	if want := "[ERR] memberlist: Decrypt packet failed: unsupported encryption version 2 from=127.0.0.1:7946\n"; logs.String() != want {
		t.Fatalf("logged %q\nwant   %q", logs.String(), want)
	}
	if got, ok := lenient.openPacket(plain, from); !ok || !bytes.Equal(got, plain) {
		t.Fatalf("lenient: %q %v", got, ok)
	}
	labelled := append([]byte{mlHasLabelMsg, 1, 'x'}, plain...)
	if got, ok := strict.openPacket(labelled, from); !ok || !bytes.Equal(got, labelled) {
		t.Fatalf("labelled packet: %q %v", got, ok)
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

// Encryption version 0 (memberlist protocol 1) pads the plaintext to the
// AES block with PKCS#7; it opens, padding removed.
func TestWireCipherOpensVersionZero(t *testing.T) {
	key := bytes.Repeat([]byte{3}, 16)
	c := testCipher(t, true, io.Discard, key)
	msg := []byte("\x02eleven b")
	pad := aes.BlockSize - len(msg)%aes.BlockSize
	padded := append(bytes.Clone(msg), bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := bytes.Repeat([]byte{4}, mlNonceLen)
	sealed := append(append([]byte{0}, nonce...), gcm.Seal(nil, nonce, padded, nil)...)
	if got, ok := c.openPacket(sealed, nil); !ok || !bytes.Equal(got, msg) {
		t.Fatalf("opened %q %v", got, ok)
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
