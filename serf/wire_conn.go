package serf

import (
	"io"
	"net"
)

// wireConn is a stream as memberlist sees it when Serf's transport
// compresses, encrypts or counts (wire) what memberlist sends. memberlist
// writes each stream message with a single Write, and a label header,
// which must stay as it is and is not counted, with a Write of its own.
// With a cipher, what memberlist reads is the plaintext of the encrypted
// messages that arrive (streamOpener).
type wireConn struct {
	net.Conn
	wire wireOptions
	in   io.Reader // the stream's plaintext, or Conn itself
}

func newWireConn(conn net.Conn, wire wireOptions) *wireConn {
	c := &wireConn{Conn: conn, wire: wire, in: conn}
	if wire.cipher != nil {
		c.in = &streamOpener{c: wire.cipher, r: conn}
	}
	return c
}

func (c *wireConn) Read(b []byte) (int, error) { return c.in.Read(b) }

func (c *wireConn) Write(b []byte) (int, error) {
	if len(b) == 0 || b[0] == mlHasLabelMsg {
		return c.Conn.Write(b)
	}
	out := b
	if c.wire.compressor != nil && plainMessage(b[0]) {
		if packed, err := c.wire.compressor.compress(b); err == nil {
			out = packed
		}
	}
	if c.wire.cipher != nil {
		sealed, err := c.wire.cipher.sealStream(out)
		if err != nil {
			return 0, err
		}
		out = sealed
	}
	if c.wire.countSent != nil {
		c.wire.countSent("tcp", len(out))
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}
