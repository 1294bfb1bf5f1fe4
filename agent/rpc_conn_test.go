package agent

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/serf-clone/serf/client"
)

func TestReadMsgFramesOneObject(t *testing.T) {
	values := []interface{}{
		nil, true, false, 0, 127, -1, -33, 200, 70000, 1 << 40, -1 << 40, 1.5, float32(2.5),
		"", strings.Repeat("s", 31), strings.Repeat("s", 32), strings.Repeat("s", 300),
		strings.Repeat("s", 70000), []byte("bin"), bytes.Repeat([]byte{1}, 300),
		bytes.Repeat([]byte{1}, 70000), []int{1, 2, 3}, make([]int, 20), make([]int, 70000),
		map[string]interface{}{"a": []interface{}{map[string]int{"b": 1}}, "c": nil},
		&client.RequestHeader{Command: "members", Seq: 7},
		&client.EventRequest{Name: "n", Payload: []byte("p"), Coalesce: true},
	}
	h := client.NewMsgpackHandle()
	for _, v := range values {
		var enc []byte
		if err := codec.NewEncoderBytes(&enc, h).Encode(v); err != nil {
			t.Fatal(err)
		}
		// Two back to back, then EOF.
		r := bufio.NewReader(bytes.NewReader(append(append([]byte(nil), enc...), enc...)))
		for i := 0; i < 2; i++ {
			got, err := readMsg(r, 1<<20, nil)
			if err != nil || !bytes.Equal(got, enc) {
				t.Fatalf("%T: got %d bytes, %v; want %d", v, len(got), err, len(enc))
			}
		}
		if _, err := readMsg(r, 1<<20, nil); err != io.EOF {
			t.Fatalf("%T: at end %v", v, err)
		}
		if len(enc) > 1 {
			if _, err := readMsg(bufio.NewReader(bytes.NewReader(enc[:len(enc)-1])), 1<<20, nil); err != io.ErrUnexpectedEOF {
				t.Fatalf("%T truncated: %v", v, err)
			}
			if _, err := readMsg(bufio.NewReader(bytes.NewReader(enc)), len(enc)-1, nil); !errors.Is(err, errTooLarge) {
				t.Fatalf("%T over the limit: %v", v, err)
			}
		}
	}
}

func TestReadMsgRefusesDeclaredSizesUpFront(t *testing.T) {
	for name, in := range map[string][]byte{
		"str32 4GiB":     {0xdb, 0xff, 0xff, 0xff, 0xff},
		"bin32 4GiB":     {0xc6, 0xff, 0xff, 0xff, 0xff},
		"ext32 4GiB":     {0xc9, 0xff, 0xff, 0xff, 0xff},
		"array32 4G":     {0xdd, 0xff, 0xff, 0xff, 0xff},
		"map32 4G":       {0xdf, 0xff, 0xff, 0xff, 0xff},
		"nested arrays":  {0xdc, 0x01, 0x00, 0xdc, 0x01, 0x00, 0xdc, 0x01, 0x00, 0xdc, 0x01, 0x00},
		"map with str16": {0x81, 0xa1, 'k', 0xda, 0x04, 0x00},
	} {
		// Only the prefix is there: refusing must not wait for more.
		_, err := readMsg(bufio.NewReader(bytes.NewReader(in)), 1024, nil)
		if !errors.Is(err, errTooLarge) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := readMsg(bufio.NewReader(bytes.NewReader([]byte{0xc1})), 1024, nil); !errors.Is(err, errBadMsgpack) {
		t.Errorf("0xc1: %v", err)
	}
}

// A header carrying a multi-megabyte string before any handshake is
// refused as too large, without a reply, and costs the agent nothing more.
func TestRPCLargeHeaderBeforeHandshakeRefused(t *testing.T) {
	n := startNode(t, "bighdr", nil)
	conn, err := net.Dial("tcp", n.rpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 3 << 20
	msg := []byte{0x82, 0xa7, 'C', 'o', 'm', 'm', 'a', 'n', 'd', 0xdb}
	msg = binary.BigEndian.AppendUint32(msg, size)
	msg = append(msg, bytes.Repeat([]byte{'x'}, size)...)
	msg = append(msg, 0xa3, 'S', 'e', 'q', 0x01)
	go func() {
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		conn.Write(msg) // fails once the server has closed: expected
	}()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var h client.ResponseHeader
	err = codec.NewDecoder(conn, client.NewMsgpackHandle()).Decode(&h)
	if err == nil {
		t.Fatalf("server answered %+v instead of refusing the header", h)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection left open")
	}
	if !n.console.Contains("[ERR] agent.ipc: failed to decode request header: request too large: more than 65536 bytes") {
		t.Errorf("no clear error logged:\n%s", n.console.String())
	}
	if got := membersOf(t, n.rpcAddr); len(got) != 1 {
		t.Fatalf("members %+v", got)
	}
}

// BenchmarkRPCLargeBodyDecode is the cost of one request with a 4 MiB
// string after the handshake (the largest allowed): linear in its size.
func BenchmarkRPCLargeBodyDecode(b *testing.B) {
	var enc []byte
	h := client.NewMsgpackHandle()
	if err := codec.NewEncoderBytes(&enc, h).Encode(&client.EventRequest{Name: strings.Repeat("x", 4<<20-64)}); err != nil {
		b.Fatal(err)
	}
	dh := client.NewMsgpackHandle()
	dh.MaxDepth = rpcMaxDepth
	dec := codec.NewDecoderBytes(nil, dh)
	b.SetBytes(int64(len(enc)))
	for i := 0; i < b.N; i++ {
		msg, err := readMsg(bufio.NewReader(bytes.NewReader(enc)), defaultRPCMessageLimit, nil)
		if err != nil {
			b.Fatal(err)
		}
		dec.ResetBytes(msg)
		var req client.EventRequest
		if err := dec.Decode(&req); err != nil {
			b.Fatal(err)
		}
	}
}
