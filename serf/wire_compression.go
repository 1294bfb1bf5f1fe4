package serf

import (
	"bytes"
	"compress/lzw"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sync"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/memberlist"
)

// Compression of memberlist's messages, done in Serf's own transport
// (net_transport.go) instead of inside memberlist.
//
// memberlist, with EnableCompression, builds a new LZW writer for every
// packet and every stream message it sends: 64 KiB of tables allocated
// and zeroed each time, even for a ping whose compressed form turns out
// larger and is thrown away. For an idle agent that is nearly everything
// it allocates, and so most of its garbage collection; in a join storm of
// hundreds of agents on one machine it is more than a tenth of the CPU,
// enough to tip the machine into false failures (BENCHMARKS.md). It also
// builds a new LZW reader for every compressed packet it receives.
//
// The wireCompressor reuses writers and readers and produces the same
// bytes memberlist would: a packet is replaced by memberlist's compress
// message (compressMsg, then {Algo: LZW, Buf}) only when that is smaller
// (below minPackedPacket it is not even tried), a stream message always
// is, and a packet's CRC header, when memberlist added one, is recomputed
// over what is sent. Received compressed packets are unpacked before
// memberlist sees them; anything the transport cannot verify or unpack is
// handed on unchanged, so memberlist rejects and logs it as it always
// did.
//
// It only works where the transport sees memberlist's plain messages, so
// Create uses it (when Config.TransportCompression asks) only when gossip
// is not encrypted or the transport encrypts it too (wire_encryption.go);
// where memberlist encrypts, it compresses too.

// memberlist's message types and compression constants that the
// transport reads and writes (memberlist's net.go, label.go and util.go).
const (
	mlSuspectMsg  = 3
	mlAliveMsg    = 4
	mlDeadMsg     = 5
	mlCompoundMsg = 7
	mlUserMsg     = 8
	mlCompressMsg = 9
	mlEncryptMsg  = 10
	mlHasCrcMsg   = 12
	mlHasLabelMsg = 244

	mlCompressLZW  = 0 // compress.Algo for LZW
	mlLZWLitWidth  = 8
	mlCRCHeaderLen = 5 // hasCrcMsg and a big-endian CRC-32 (IEEE)
)

// maxUnpacked bounds what one received compressed packet may unpack to;
// a bigger one is handed to memberlist as it came.
const maxUnpacked = 1 << 20

// compressedMessage is the body of memberlist's compress message.
type compressedMessage struct {
	Algo int
	Buf  []byte
}

// lzwSink is the LZW writer's output: a bytes.Buffer with the Flush that
// spares the writer wrapping it in a new bufio.Writer on every Reset.
type lzwSink struct{ bytes.Buffer }

func (*lzwSink) Flush() error { return nil }

// wireCompressor compresses and uncompresses memberlist messages with
// reused LZW writers and readers. It is safe for concurrent use.
//
// They wait in pools, so that an agent that has nothing worth
// compressing for a while (an idle one sends only pings and acks, below
// minPackedPacket) hands their tables back at the next collections
// instead of keeping them for good.
type wireCompressor struct {
	codec   *wireCodec
	packers sync.Pool // *packer
	readers sync.Pool // *unpacker
}

// packer is an LZW writer with its output buffers.
type packer struct {
	writer  *lzw.Writer
	lzwBuf  lzwSink // the writer's output
	msgBuf  []byte  // the encoded compress message
	encoder *codec.Encoder
}

// unpacker is an LZW reader with its output buffer.
type unpacker struct {
	reader *lzw.Reader
	plain  bytes.Buffer
}

// keptBuffer is the largest buffer a packer or unpacker goes back to its
// pool with; one that grew beyond it (a big push/pull, a hostile packet)
// is left to the garbage collector.
const keptBuffer = 64 << 10

// minPackedPacket is the size below which a packet is sent as it is,
// without trying: memberlist sends a packet compressed only when that is
// smaller, and below this LZW's 9-bit codes and the compress message's
// 14 bytes of wrapping leave nothing to gain but for contrived, highly
// repetitive payloads, and a few dozen bytes then. Pings and acks, all an
// idle agent sends, are below it.
const minPackedPacket = 128

// newWireCompressor encodes compress messages with wc's message handle,
// as memberlist does with its own.
func newWireCompressor(wc *wireCodec) *wireCompressor {
	z := &wireCompressor{codec: wc}
	z.packers.New = func() any {
		p := &packer{}
		p.writer = lzw.NewWriter(&p.lzwBuf, lzw.LSB, mlLZWLitWidth).(*lzw.Writer)
		p.encoder = codec.NewEncoderBytes(&p.msgBuf, wc.enc)
		return p
	}
	z.readers.New = func() any {
		return &unpacker{reader: lzw.NewReader(bytes.NewReader(nil), lzw.LSB, mlLZWLitWidth).(*lzw.Reader)}
	}
	return z
}

// compress returns msg as a compress message, in a new slice.
func (z *wireCompressor) compress(msg []byte) ([]byte, error) {
	p := z.packers.Get().(*packer)
	p.lzwBuf.Reset()
	p.writer.Reset(&p.lzwBuf, lzw.LSB, mlLZWLitWidth)
	if _, err := p.writer.Write(msg); err != nil {
		return nil, err
	}
	if err := p.writer.Close(); err != nil {
		return nil, err
	}
	p.msgBuf = p.msgBuf[:0]
	p.encoder.ResetBytes(&p.msgBuf)
	if err := p.encoder.Encode(&compressedMessage{Algo: mlCompressLZW, Buf: p.lzwBuf.Bytes()}); err != nil {
		return nil, err
	}
	out := make([]byte, 1+len(p.msgBuf))
	out[0] = mlCompressMsg
	copy(out[1:], p.msgBuf)
	if p.lzwBuf.Cap() <= keptBuffer && cap(p.msgBuf) <= keptBuffer {
		z.packers.Put(p)
	}
	return out, nil
}

// uncompress returns the message inside body, a compress message without
// its type byte, in a new slice.
func (z *wireCompressor) uncompress(body []byte) (out []byte, err error) {
	var m compressedMessage
	if err := z.codec.decode(body, &m); err != nil {
		return nil, err
	}
	if m.Algo != mlCompressLZW {
		return nil, fmt.Errorf("compression algorithm %d is not LZW", m.Algo)
	}
	u := z.readers.Get().(*unpacker)
	defer func() {
		if u.plain.Cap() <= keptBuffer {
			z.readers.Put(u)
		}
	}()
	u.reader.Reset(bytes.NewReader(m.Buf), lzw.LSB, mlLZWLitWidth)
	u.plain.Reset()
	n, err := u.plain.ReadFrom(io.LimitReader(u.reader, maxUnpacked+1))
	if err != nil {
		return nil, err
	}
	if n > maxUnpacked {
		return nil, fmt.Errorf("unpacks to more than %d bytes", maxUnpacked)
	}
	return bytes.Clone(u.plain.Bytes()), nil
}

// plainMessage reports whether t is a memberlist message type the
// compressor may wrap: not one that is already a wrapper.
func plainMessage(t byte) bool {
	switch t {
	case mlCompressMsg, mlEncryptMsg, mlHasCrcMsg, mlHasLabelMsg:
		return false
	}
	return true
}

// packPacket returns what to send for the packet p memberlist handed the
// transport: p with its message compressed when that is smaller, else p.
func (z *wireCompressor) packPacket(p []byte) []byte {
	label, rest, ok := splitLabel(p)
	if !ok {
		return p
	}
	withCRC := len(rest) >= mlCRCHeaderLen && rest[0] == mlHasCrcMsg
	msg := rest
	if withCRC {
		msg = rest[mlCRCHeaderLen:]
	}
	if len(msg) < minPackedPacket || !plainMessage(msg[0]) {
		return p
	}
	packed, err := z.compress(msg)
	if err != nil || len(packed) >= len(msg) {
		return p
	}
	out := make([]byte, 0, len(label)+mlCRCHeaderLen+len(packed))
	out = append(out, label...)
	if withCRC {
		out = append(out, mlHasCrcMsg)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(packed))
	}
	return append(out, packed...)
}

// unpackPacket returns the received packet p with a compressed message
// replaced by the message inside it (and the CRC it was sent with,
// checked, dropped); anything else is p as it came.
func (z *wireCompressor) unpackPacket(p []byte) []byte {
	label, msg, ok := receivedMessage(p)
	if !ok || len(msg) == 0 || msg[0] != mlCompressMsg {
		return p
	}
	inner, err := z.uncompress(msg[1:])
	if err != nil || len(inner) == 0 {
		return p
	}
	if len(label) == 0 {
		return inner
	}
	return append(append(make([]byte, 0, len(label)+len(inner)), label...), inner...)
}

// gossipEncrypted reports whether memberlist, created with c, encrypts
// gossip (it builds its keyring from SecretKey when c has none).
func gossipEncrypted(c *memberlist.Config) bool {
	return len(c.SecretKey) > 0 || c.Keyring != nil
}
