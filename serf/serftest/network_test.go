package serftest

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// received reads the packets t has received so far, without waiting.
func received(t *Transport) []string {
	var out []string
	for {
		select {
		case p := <-t.PacketCh():
			out = append(out, string(p.Buf))
		default:
			return out
		}
	}
}

// recvPacket waits for one packet on t.
func recvPacket(tb testing.TB, t *Transport) *memberlist.Packet {
	tb.Helper()
	select {
	case p := <-t.PacketCh():
		return p
	case <-time.After(5 * time.Second):
		tb.Fatalf("%s received nothing", t.Name())
		return nil
	}
}

func send(tb testing.TB, from, to *Transport, msg string) {
	tb.Helper()
	if _, err := from.WriteTo([]byte(msg), to.Addr()); err != nil {
		tb.Fatal(err)
	}
}

// dialAndEcho opens a stream from a to b, writes msg and reads it on b's
// side; it returns the dial error, if any.
func dialAndEcho(tb testing.TB, a, b *Transport, msg string) error {
	tb.Helper()
	conn, err := a.DialTimeout(b.Addr(), 100*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	var server io.ReadCloser
	select {
	case c := <-b.StreamCh():
		server = c
	case <-time.After(5 * time.Second):
		tb.Fatal("stream never accepted")
	}
	defer server.Close()
	go func() { _, _ = conn.Write([]byte(msg)) }()
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(server, buf); err != nil {
		return err
	}
	if string(buf) != msg {
		tb.Fatalf("stream carried %q, want %q", buf, msg)
	}
	return nil
}

func TestPacketsAndStreams(t *testing.T) {
	n := NewNetwork(1)
	defer n.Close()
	a, b := n.NewTransport("a"), n.NewTransport("b")
	if a.Addr() == b.Addr() || !strings.HasPrefix(a.Addr(), "127.0.0.1:") {
		t.Fatalf("addresses %s %s", a.Addr(), b.Addr())
	}
	send(t, a, b, "hello")
	p := recvPacket(t, b)
	if string(p.Buf) != "hello" || p.From.String() != a.Addr() || p.Timestamp.IsZero() {
		t.Fatalf("packet %+v", p)
	}
	if err := dialAndEcho(t, a, b, "stream"); err != nil {
		t.Fatal(err)
	}
	// By node name, as memberlist's NodeAwareTransport does.
	if _, err := a.WriteToAddress([]byte("x"), memberlist.Address{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	recvPacket(t, b)
	if _, err := a.WriteTo([]byte("x"), "127.0.0.1:1"); err == nil {
		t.Fatal("packet to an unknown address accepted")
	}
}

func TestStoppedNodeLosesPacketsAndRefusesDials(t *testing.T) {
	n := NewNetwork(1)
	defer n.Close()
	a, b := n.NewTransport("a"), n.NewTransport("b")
	_ = b.Shutdown()
	send(t, a, b, "lost")
	if got := received(b); len(got) != 0 {
		t.Fatalf("stopped node received %v", got)
	}
	_, err := a.DialTimeout(b.Addr(), time.Second)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("dial to stopped node: %v", err)
	}
}

func TestFullQueueDropsInsteadOfBlocking(t *testing.T) {
	n := NewNetwork(1)
	defer n.Close()
	a, b := n.NewTransport("a"), n.NewTransport("b")
	for i := 0; i < 2*packetQueue; i++ {
		send(t, a, b, "x") // never blocks
	}
	if got := len(received(b)); got != packetQueue {
		t.Fatalf("%d packets queued, want %d", got, packetQueue)
	}
	if got := b.Overflows(); got != packetQueue {
		t.Fatalf("%d overflows counted, want %d", got, packetQueue)
	}
	// A receiver that accepts no streams makes dials time out.
	for i := 0; i < streamQueue; i++ {
		c, err := a.DialTimeout(b.Addr(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	_, err := a.DialTimeout(b.Addr(), 20*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "i/o timeout") {
		t.Fatalf("dial to full backlog: %v", err)
	}
}

func TestPartitionBlocksPacketsAndStreamsAndHealRestores(t *testing.T) {
	n := NewNetwork(1)
	defer n.Close()
	a, b, c := n.NewTransport("a"), n.NewTransport("b"), n.NewTransport("c")

	// A stream opened before the partition stops working across it.
	open, err := a.DialTimeout(b.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	accepted := <-b.StreamCh()
	defer accepted.Close()

	n.Partition([]string{"a"}, []string{"b", "c"})
	send(t, a, b, "cut")
	send(t, b, a, "cut")
	send(t, b, c, "same side")
	if got := received(b); len(got) != 0 {
		t.Fatalf("b received across the partition: %v", got)
	}
	if got := received(a); len(got) != 0 {
		t.Fatalf("a received across the partition: %v", got)
	}
	if got := received(c); len(got) != 1 {
		t.Fatalf("c received %v from its own side", got)
	}
	if err := dialAndEcho(t, a, b, "x"); err == nil || !strings.Contains(err.Error(), "i/o timeout") {
		t.Fatalf("dial across the partition: %v", err)
	}
	if err := dialAndEcho(t, b, c, "same side"); err != nil {
		t.Fatal(err)
	}
	if _, err := open.Write([]byte("x")); err == nil {
		t.Fatal("open stream still writes across the partition")
	}

	n.Heal()
	send(t, a, b, "healed")
	if got := received(b); len(got) != 1 || got[0] != "healed" {
		t.Fatalf("after heal b received %v", got)
	}
	if err := dialAndEcho(t, a, b, "healed"); err != nil {
		t.Fatal(err)
	}
}

func TestDirectedDrop(t *testing.T) {
	n := NewNetwork(1)
	defer n.Close()
	a, b := n.NewTransport("a"), n.NewTransport("b")
	n.SetLink("a", "b", LinkConfig{Drop: true})
	send(t, a, b, "dropped")
	send(t, b, a, "through")
	if got := received(b); len(got) != 0 {
		t.Fatalf("dropped link delivered %v", got)
	}
	if got := received(a); len(got) != 1 {
		t.Fatalf("reverse link delivered %v", got)
	}
	n.SetDefaultLink(LinkConfig{Drop: true})
	send(t, b, a, "now dropped too")
	if got := received(a); len(got) != 0 {
		t.Fatalf("default drop delivered %v", got)
	}
}

func TestLossDropsAboutTheSetFraction(t *testing.T) {
	count := func(seed int64) int {
		n := NewNetwork(seed)
		defer n.Close()
		a, b := n.NewTransport("a"), n.NewTransport("b")
		n.SetDefaultLink(LinkConfig{Loss: 0.3})
		got := 0
		for i := 0; i < 2000; i++ {
			send(t, a, b, "x")
			got += len(received(b))
		}
		return got
	}
	got := count(7)
	// 1400 expected; the binomial's standard deviation is about 20.
	if got < 1300 || got > 1500 {
		t.Fatalf("%d of 2000 delivered with 30%% loss", got)
	}
	if again := count(7); again != got {
		t.Fatalf("same seed delivered %d then %d", got, again)
	}
}

func TestLatencyDelaysInOrder(t *testing.T) {
	n := NewNetwork(1)
	defer n.Close()
	a, b := n.NewTransport("a"), n.NewTransport("b")
	n.SetLink("a", "b", LinkConfig{Latency: 200 * time.Millisecond})
	start := time.Now()
	send(t, a, b, "1")
	send(t, a, b, "2")
	if got := received(b); len(got) != 0 {
		t.Fatalf("delivered before the latency: %v", got)
	}
	first, second := recvPacket(t, b), recvPacket(t, b)
	if string(first.Buf) != "1" || string(second.Buf) != "2" {
		t.Fatalf("order %q %q", first.Buf, second.Buf)
	}
	// A lower bound only: the latency is a minimum, never a speed claim.
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Fatalf("delivered after %v", waited)
	}
	// Shutdown stops the delivery goroutine, with packets still in flight.
	send(t, a, b, "in flight")
	_ = b.Shutdown()
}

func TestRestartKeepsTheAddress(t *testing.T) {
	n := NewNetwork(1)
	defer n.Close()
	a, b := n.NewTransport("a"), n.NewTransport("b")
	addr := b.Addr()
	b2 := n.Restart("b")
	if b2 == b || b2.Addr() != addr {
		t.Fatalf("restarted at %s, was %s", b2.Addr(), addr)
	}
	send(t, a, b2, "again")
	if got := received(b2); len(got) != 1 {
		t.Fatalf("restarted node received %v", got)
	}
	if got := received(b); len(got) != 0 {
		t.Fatalf("old transport received %v", got)
	}
	if err := dialAndEcho(t, a, b2, "x"); err != nil {
		t.Fatal(err)
	}
	// A node added later gets a new address.
	if c := n.NewTransport("c"); c.Addr() == addr || c.Addr() == a.Addr() {
		t.Fatalf("new node at %s", c.Addr())
	}
}

// BenchmarkPackets2000 sends packets between random pairs of 2,000
// transports, each drained by a reader, as a simulated cluster would:
// directly, and over links with latency (through the delivery queues).
func BenchmarkPackets2000(b *testing.B) {
	b.Run("direct", func(b *testing.B) { benchPackets(b, LinkConfig{}) })
	b.Run("latency", func(b *testing.B) { benchPackets(b, LinkConfig{Latency: time.Millisecond}) })
}

func benchPackets(b *testing.B, link LinkConfig) {
	const nodes = 2000
	n := NewNetwork(1)
	n.SetDefaultLink(link)
	ts := make([]*Transport, nodes)
	var wg sync.WaitGroup
	for i := range ts {
		ts[i] = n.NewTransport(fmt.Sprintf("n%d", i))
		wg.Add(1)
		go func(t *Transport) {
			defer wg.Done()
			for {
				select {
				case <-t.PacketCh():
				case <-t.stopCh:
					return
				}
			}
		}(ts[i])
	}
	defer func() {
		n.Close()
		wg.Wait()
	}()
	msg := make([]byte, 200)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewSource(rand.Int63()))
		for pb.Next() {
			from, to := ts[rng.Intn(nodes)], ts[rng.Intn(nodes)]
			if _, err := from.WriteTo(msg, to.Addr()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// With a stream limit, dials past it connect but reach memberlist only
// when an earlier stream is closed; a stream still waiting when the
// transport stops is closed.
func TestStreamLimitQueuesStreamsPastIt(t *testing.T) {
	n := NewNetwork(1)
	defer n.Close()
	n.SetStreamLimit(2)
	a, b := n.NewTransport("a"), n.NewTransport("b")
	accept := func() io.Closer {
		t.Helper()
		select {
		case c := <-b.StreamCh():
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("stream never accepted")
			return nil
		}
	}
	var dialled []net.Conn
	for i := 0; i < 4; i++ {
		c, err := a.DialTimeout(b.Addr(), time.Second)
		if err != nil {
			t.Fatalf("dial %d past the limit refused: %v", i, err)
		}
		dialled = append(dialled, c)
	}
	first, second := accept(), accept()
	select {
	case <-b.StreamCh():
		t.Fatal("a third stream reached memberlist while two were open")
	case <-time.After(50 * time.Millisecond):
	}
	_ = first.Close()
	third := accept()

	// One stream still waits (which one is not fixed: the waiters race
	// for a freed token). Stopping b closes it, and the test closes those
	// it accepted, so every dialler must read the end of its stream
	// rather than time out.
	_ = b.Shutdown()
	_ = second.Close()
	_ = third.Close()
	for i, c := range dialled {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("dialled stream %d after b stopped: read %v, want the stream closed", i, err)
		}
	}
}
