package serf

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"sync"

	"github.com/hashicorp/memberlist"
)

// Encryption of memberlist's messages, done in Serf's own transport
// (net_transport.go) instead of inside memberlist.
//
// memberlist compresses a message and then encrypts it, so a transport
// that only ever sees ciphertext cannot take compression over
// (wire_compression.go): an encrypted agent would go on paying
// memberlist's new 64 KiB LZW writer for every packet it sends, about ten
// times the allocations of an agent without a key, and memberlist also
// builds a new AES cipher and GCM for every packet. With both in the
// transport a message is compressed (when that is smaller) with a reused
// writer and then sealed with an AEAD built once per key.
//
// The bytes are memberlist's (its security.go and net.go): a packet is
// the encryption version (1), a random 12-byte nonce, and AES-GCM's
// ciphertext and tag; a stream message is encryptMsg, the big-endian
// length of what follows, and the same, sealed with those first five bytes
// as additional data. Receiving, every key of the keyring is tried, the
// primary first; version 0 (memberlist protocol 1, padded) is read too.
// What cannot be opened is dropped and logged as memberlist logs it, or,
// with GossipVerifyIncoming off, handed on as plaintext.
//
// memberlist itself then runs with no keyring (Create gives it a copy of
// the configuration without one, whose UDPBufferSize leaves room for the
// 29 bytes encryption adds, as memberlist does when it encrypts), so Serf
// keeps the keyring in its own configuration and the key manager changes
// it there, as before. Labels are left to memberlist: a configuration with
// one keeps memberlist's encryption.

const (
	// mlEncryptionVersion is the version memberlist protocol 2 and later
	// write; version 0 (protocol 1) pads the plaintext to the AES block.
	mlEncryptionVersion = 1
	mlNonceLen          = 12
	mlTagLen            = 16
	// mlEncryptOverhead is what version 1 adds to a message.
	mlEncryptOverhead = 1 + mlNonceLen + mlTagLen
	// mlStreamHeaderLen is encryptMsg and the length of what follows.
	mlStreamHeaderLen = 5
	// maxSealedStream bounds an encrypted stream message, memberlist's
	// limit on a remote node's state.
	maxSealedStream = 20 * 1024 * 1024
)

// noKeyOpens is memberlist's error for a message no key decrypts.
const noKeyOpens = "no installed keys could decrypt the message"

// wireCipher seals what memberlist sends and opens what it receives, with
// the keys of keyring. It is safe for concurrent use.
type wireCipher struct {
	keyring        *memberlist.Keyring
	verifyIncoming bool // drop what does not decrypt (else take it as plain)
	verifyOutgoing bool // encrypt what is sent (else send it plain)

	mu    sync.Mutex
	aeads map[string]cipher.AEAD // by key
}

// maxCachedKeys bounds the AEADs kept: a keyring holds a handful of keys,
// and ones removed from it are dropped when the cache is rebuilt.
const maxCachedKeys = 16

func newWireCipher(c *memberlist.Config) *wireCipher {
	return &wireCipher{
		keyring:        c.Keyring,
		verifyIncoming: c.GossipVerifyIncoming,
		verifyOutgoing: c.GossipVerifyOutgoing,
		aeads:          make(map[string]cipher.AEAD),
	}
}

// aead is AES-GCM with key, built once.
func (c *wireCipher) aead(key []byte) (cipher.AEAD, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.aeads[string(key)]; ok {
		return a, nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(c.aeads) >= maxCachedKeys {
		clear(c.aeads)
	}
	c.aeads[string(key)] = a
	return a, nil
}

// seal appends to dst msg sealed with the primary key and aad.
func (c *wireCipher) seal(dst, msg, aad []byte) ([]byte, error) {
	a, err := c.aead(c.keyring.GetPrimaryKey())
	if err != nil {
		return nil, err
	}
	dst = append(dst, mlEncryptionVersion)
	nonceAt := len(dst)
	dst = append(dst, make([]byte, mlNonceLen)...)
	if _, err := rand.Read(dst[nonceAt:]); err != nil {
		return nil, err
	}
	return a.Seal(dst, dst[nonceAt:], msg, aad), nil
}

// open returns the plaintext of sealed (version, nonce, ciphertext),
// trying every key.
func (c *wireCipher) open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, errors.New("cannot decrypt empty payload")
	}
	vsn := sealed[0]
	if vsn > mlEncryptionVersion {
		return nil, fmt.Errorf("unsupported encryption version %d", vsn)
	}
	minLen := mlEncryptOverhead
	if vsn == 0 {
		minLen += aes.BlockSize // at least one block of padding
	}
	if len(sealed) < minLen {
		return nil, fmt.Errorf("payload is too small to decrypt: %d", len(sealed))
	}
	nonce, ciphertext := sealed[1:1+mlNonceLen], sealed[1+mlNonceLen:]
	for _, key := range c.keyring.GetKeys() {
		a, err := c.aead(key)
		if err != nil {
			continue
		}
		plain, err := a.Open(nil, nonce, ciphertext, aad)
		if err != nil {
			continue
		}
		if vsn == 0 {
			return unpad(plain)
		}
		return plain, nil
	}
	return nil, errors.New(noKeyOpens)
}

// unpad strips version 0's PKCS#7 padding.
func unpad(plain []byte) ([]byte, error) {
	n := int(plain[len(plain)-1])
	if n == 0 || n > aes.BlockSize || n > len(plain) {
		return nil, errors.New(noKeyOpens)
	}
	return plain[:len(plain)-n], nil
}

// sealPacket returns the packet to send for p, memberlist's plaintext.
func (c *wireCipher) sealPacket(p []byte) ([]byte, error) {
	if !c.verifyOutgoing {
		return p, nil
	}
	return c.seal(make([]byte, 0, len(p)+mlEncryptOverhead), p, nil)
}

// openPacket returns the plaintext of a received packet, or the error for
// which it is to be dropped (it does not decrypt and GossipVerifyIncoming
// is on). A packet with a label header is handed on as it came, for
// memberlist (which has no label here) to refuse.
func (c *wireCipher) openPacket(p []byte) ([]byte, error) {
	if p[0] == mlHasLabelMsg {
		return p, nil
	}
	plain, err := c.open(p, nil)
	if err != nil && !c.verifyIncoming {
		return p, nil
	}
	return plain, err
}

// sealStream returns the stream message to write for msg.
func (c *wireCipher) sealStream(msg []byte) ([]byte, error) {
	if !c.verifyOutgoing {
		return msg, nil
	}
	out := make([]byte, mlStreamHeaderLen, mlStreamHeaderLen+len(msg)+mlEncryptOverhead)
	out[0] = mlEncryptMsg
	binary.BigEndian.PutUint32(out[1:], uint32(len(msg)+mlEncryptOverhead))
	return c.seal(out, msg, out[:mlStreamHeaderLen])
}

// streamOpener reads a stream's messages as memberlist would have
// received them without encryption: each encrypted message is read
// whole, opened, and its plaintext served. A stream that starts with
// anything else is refused with memberlist's error, or, with
// GossipVerifyIncoming off or behind a label header (for memberlist to
// refuse), passed through as it is.
type streamOpener struct {
	c       *wireCipher
	r       io.Reader
	plain   []byte
	through bool
}

func (o *streamOpener) Read(p []byte) (int, error) {
	if o.through {
		return o.r.Read(p)
	}
	if len(o.plain) == 0 {
		if err := o.next(); err != nil {
			return 0, err
		}
		if o.through {
			return o.Read(p)
		}
	}
	n := copy(p, o.plain)
	o.plain = o.plain[n:]
	return n, nil
}

// next reads and opens the next message.
func (o *streamOpener) next() error {
	var header [mlStreamHeaderLen]byte
	if _, err := io.ReadFull(o.r, header[:1]); err != nil {
		return err
	}
	if header[0] != mlEncryptMsg {
		if o.c.verifyIncoming && header[0] != mlHasLabelMsg {
			return errors.New("encryption is configured but remote state is not encrypted")
		}
		o.through = true
		o.r = io.MultiReader(bytes.NewReader(header[:1]), o.r)
		return nil
	}
	if _, err := io.ReadFull(o.r, header[1:]); err != nil {
		return err
	}
	size := binary.BigEndian.Uint32(header[1:])
	if size > maxSealedStream {
		return fmt.Errorf("remote node state is larger than limit (%d)", size)
	}
	// Grown as the bytes arrive, not allocated from the claimed size: a
	// peer that sends only a header must not cost 20 MiB.
	var sealed bytes.Buffer
	if _, err := io.CopyN(&sealed, o.r, int64(size)); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	plain, err := o.c.open(sealed.Bytes(), header[:])
	if err != nil {
		return err
	}
	if len(plain) == 0 {
		return errors.New("empty encrypted message")
	}
	o.plain = plain
	return nil
}

// transportCanEncrypt reports whether Serf's transport can encrypt in
// memberlist's place for c: gossip is encrypted, with no label (whose
// header and authenticated data stay memberlist's business). Serf runs
// memberlist protocol 2, which writes encryption version 1, as the
// transport does.
func transportCanEncrypt(c *memberlist.Config) bool {
	return gossipEncrypted(c) && c.Label == ""
}

// foldSecretKey does to c what memberlist.Create would: SecretKey becomes
// the keyring's primary key, in a new keyring if c has none.
func foldSecretKey(c *memberlist.Config) error {
	if len(c.SecretKey) == 0 {
		return nil
	}
	if c.Keyring == nil {
		kr, err := memberlist.NewKeyring(nil, c.SecretKey)
		if err != nil {
			return err
		}
		c.Keyring = kr
		return nil
	}
	if err := c.Keyring.AddKey(c.SecretKey); err != nil {
		return err
	}
	return c.Keyring.UseKey(c.SecretKey)
}

// publicBindWarning is what memberlist logs at start-up when it advertises
// a public address and has no keyring, as the copy withoutEncryption
// makes it believe.
const publicBindWarning = "[WARN] memberlist: Binding to public address without encryption!"

// withoutEncryption is the copy of c memberlist runs with while the
// transport encrypts: no keyring, packets filled 29 bytes short so that
// they come out of the transport as long as memberlist's own encrypted
// packets, and its warning about running unencrypted left out.
func withoutEncryption(c *memberlist.Config) *memberlist.Config {
	cp := *c
	cp.Keyring, cp.SecretKey = nil, nil
	cp.UDPBufferSize -= mlEncryptOverhead
	cp.Logger = log.New(&lineFilter{drop: publicBindWarning, to: memberlistLogger(c)}, "", 0)
	cp.LogOutput = nil
	return &cp
}

// lineFilter hands each line but those containing drop to a logger.
type lineFilter struct {
	drop string
	to   *log.Logger
}

func (f *lineFilter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(f.drop)) {
		return len(p), nil
	}
	if err := f.to.Output(2, string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}
