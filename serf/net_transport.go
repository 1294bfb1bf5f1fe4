package serf

import (
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metrics "github.com/hashicorp/go-metrics"
	"github.com/hashicorp/go-sockaddr"
	"github.com/hashicorp/memberlist"
)

// netTransport is the UDP and TCP transport Create gives memberlist when
// the configuration names none. It behaves as memberlist's own
// NetTransport (same listeners, advertise-address rules, log lines, errors
// and metrics) except in what a received packet costs: memberlist reads
// every datagram into a fresh 64 KiB buffer and hands that buffer on, so
// an idle agent that gets a few pings a second allocates a few hundred
// KiB a second and runs the garbage collector every few seconds, most of
// its idle CPU. Here one read buffer is reused and each packet is copied
// out at its own size; and on Linux datagrams are read and written with
// raw system calls, which do not keep waking the runtime's sysmon thread
// (udp_socket_linux.go).
//
// It also keeps memberlist from refusing a join storm. memberlist closes,
// unanswered, every push/pull beyond 128 in progress, so when hundreds of
// members join one seed at once many joins fail with EOF and are not
// retried. Here at most MaxStreamsInFlight accepted connections are in
// memberlist's hands at a time; later ones wait in the kernel's listen
// queue, and their push/pull is answered a little later instead of
// refused.
//
// With Config.DropGossipCopies it drops the copies of gossip memberlist
// has already been handed (gossip_copies.go).
//
// With Config.DropSecondHandGossip it leaves out the alive messages about
// members this node learned while alone (second_hand.go).
//
// With Config.TellAccused it sends each suspicion this node raises
// straight to the accused too, and with Config.TellLeave this node's
// leave to every member (direct_notice.go).
//
// With Config.TransportCompression it also compresses what memberlist
// sends, in memberlist's place (wire_compression.go), and counts it; with
// Config.TransportEncryption it also encrypts it (wire_encryption.go).
type netTransport struct {
	bindIP   string
	logger   *log.Logger
	labels   []metrics.Label
	tcp      *net.TCPListener
	udp      *net.UDPConn
	sock     udpSocket // reads and writes udp (udp_socket.go)
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	stopping atomic.Bool
	stopCh   chan struct{} // closed by Shutdown; unblocks a hand-over
	streams  chan struct{} // one token per connection memberlist holds
	wire     wireOptions
	wg       sync.WaitGroup
	once     sync.Once
}

var _ memberlist.NodeAwareTransport = (*netTransport)(nil)

// wireOptions are what the transport does to what memberlist sends and
// receives, fixed before its loops start (Config.TransportCompression and
// Config.TransportEncryption).
type wireOptions struct {
	// compressor, when set, compresses what memberlist sends and unpacks
	// the compressed packets it receives (wire_compression.go).
	compressor *wireCompressor
	// cipher, when set, encrypts what memberlist sends, after compressing
	// it, and decrypts what it receives (wire_encryption.go).
	cipher *wireCipher
	// countSent, when set, counts the bytes sent over "udp" or "tcp" as
	// memberlist's memberlist.udp.sent and memberlist.tcp.sent.
	countSent func(proto string, n int)
	// copies, when set, drops received copies of gossip memberlist has
	// already been handed (gossip_copies.go).
	copies *gossipCopies
	// notices, when set, sends each suspicion this node raises to its
	// accused at once, and its leave to every member (direct_notice.go).
	notices *directNotices
	// topUp, when set, sends membership gossip to more random members in
	// small clusters (membership_topup.go).
	topUp *membershipTopUp
	// secondHand, when set, leaves out of what memberlist sends the alive
	// messages about members this node learned while alone (second_hand.go).
	secondHand *secondHand
}

// MaxStreamsInFlight bounds the accepted TCP connections Serf's own
// transport hands memberlist at once: under memberlist's limit of 128
// push/pulls in progress, above what a cluster at rest has open. It is
// 16, not more, because the push/pulls a seed answers in a join storm run
// on the same one P as its probe acks and its refutations: with 64 at
// once, a seed of 256 agents on two cores took 1–9 s (median 4) to
// refute the suspicions its slow acks drew, and was declared failed in
// one storm of fifteen; with 16 it refuted within a second in most
// storms and was declared failed in none (BENCHMARKS.md, session 24). The simulator
// gives its in-memory network the same limit
// (serftest.Network.SetStreamLimit).
const MaxStreamsInFlight = 16

const (
	// maxPacketSize is the largest datagram read, as memberlist's.
	maxPacketSize = 65536
	// udpReadBuffer is the socket receive buffer asked for first; it is
	// halved until the kernel accepts it, as memberlist does.
	udpReadBuffer = 2 << 20
	// bindRetries is how often a bind to port 0 is retried when the port
	// the kernel picked for TCP is taken for UDP.
	bindRetries = 10
)

// memberlistLogger is the logger memberlist.Create would use for c.
func memberlistLogger(c *memberlist.Config) *log.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	var out io.Writer = os.Stderr
	if c.LogOutput != nil {
		out = c.LogOutput
	}
	return log.New(out, "", log.LstdFlags)
}

// newNetTransport binds c.BindAddr:c.BindPort for TCP and UDP. With port 0
// it takes the port the kernel gives TCP, retries when UDP cannot have the
// same one, and writes the port into c.BindPort and c.AdvertisePort, as
// memberlist does for its own transport. Errors read as memberlist's.
func newNetTransport(c *memberlist.Config, wire wireOptions) (*netTransport, error) {
	logger := memberlistLogger(c)
	tries := 1
	if c.BindPort == 0 {
		tries = bindRetries
	}
	var err error
	for range tries {
		var t *netTransport
		if t, err = listenNetTransport(c.BindAddr, c.BindPort, logger, c.MetricLabels, wire); err == nil {
			if c.BindPort == 0 {
				port := t.tcp.Addr().(*net.TCPAddr).Port
				c.BindPort, c.AdvertisePort = port, port
				logger.Printf("[DEBUG] memberlist: Using dynamic bind port %d", port)
			}
			return t, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
		logger.Printf("[DEBUG] memberlist: Got bind error: %v", err)
	}
	return nil, fmt.Errorf("could not set up network transport: failed to obtain an address: %v", err)
}

// listenNetTransport makes one attempt at binding both listeners.
func listenNetTransport(addr string, port int, logger *log.Logger, labels []metrics.Label, wire wireOptions) (*netTransport, error) {
	ip := net.ParseIP(addr)
	tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ip, Port: port})
	if err != nil {
		return nil, fmt.Errorf("failed to start TCP listener on %q port %d: %v", addr, port, err)
	}
	if port == 0 {
		port = tcp.Addr().(*net.TCPAddr).Port
	}
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
	if err != nil {
		_ = tcp.Close()
		return nil, fmt.Errorf("failed to start UDP listener on %q port %d: %v", addr, port, err)
	}
	if err := setReadBuffer(udp); err != nil {
		_ = tcp.Close()
		_ = udp.Close()
		return nil, fmt.Errorf("failed to resize UDP buffer: %v", err)
	}
	t := &netTransport{
		bindIP:   addr,
		logger:   logger,
		labels:   labels,
		tcp:      tcp,
		udp:      udp,
		sock:     newUDPSocket(udp),
		packetCh: make(chan *memberlist.Packet),
		streamCh: make(chan net.Conn),
		stopCh:   make(chan struct{}),
		streams:  make(chan struct{}, MaxStreamsInFlight),
		wire:     wire,
	}
	t.wg.Add(2)
	go t.acceptStreams()
	go t.readPackets()
	if wire.notices != nil || wire.topUp != nil {
		t.wg.Add(1)
		go t.sendAlone()
	}
	return t, nil
}

// setReadBuffer asks for the largest receive buffer the kernel allows, up
// to udpReadBuffer.
func setReadBuffer(c *net.UDPConn) error {
	var err error
	for size := udpReadBuffer; size > 0; size /= 2 {
		if err = c.SetReadBuffer(size); err == nil {
			return nil
		}
	}
	return err
}

// FinalAdvertiseAddr follows memberlist: an explicit address as given (IPv4
// in 4 bytes), else a private address of this host when bound to 0.0.0.0,
// else the bound address; the port is the bound one unless ip is given.
func (t *netTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if ip != "" {
		addr := net.ParseIP(ip)
		if addr == nil {
			return nil, 0, fmt.Errorf("failed to parse advertise address %q", ip)
		}
		if v4 := addr.To4(); v4 != nil {
			addr = v4
		}
		return addr, port, nil
	}
	bound := t.tcp.Addr().(*net.TCPAddr)
	if t.bindIP != "0.0.0.0" {
		return bound.IP, bound.Port, nil
	}
	private, err := sockaddr.GetPrivateIP()
	if err != nil {
		return nil, 0, fmt.Errorf("failed to get interface addresses: %v", err)
	}
	if private == "" {
		return nil, 0, fmt.Errorf("no private IP address found, and explicit IP not provided")
	}
	addr := net.ParseIP(private)
	if addr == nil {
		return nil, 0, fmt.Errorf("failed to parse advertise address: %q", private)
	}
	return addr, bound.Port, nil
}

func (t *netTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *netTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	to, err := net.ResolveUDPAddr("udp", a.Addr)
	if err != nil {
		return time.Time{}, err
	}
	if t.wire.secondHand != nil {
		if b = t.wire.secondHand.filter(b, time.Now()); b == nil {
			return time.Now(), nil
		}
	}
	if t.wire.notices != nil {
		t.wire.notices.scan(b)
	}
	if t.wire.topUp != nil {
		t.wire.topUp.scan(b, to)
	}
	return t.sendPacket(b, to)
}

// sendPacket compresses, encrypts and counts the packet b as the transport
// is set to, and sends it to to.
func (t *netTransport) sendPacket(b []byte, to *net.UDPAddr) (time.Time, error) {
	var err error
	if t.wire.compressor != nil {
		b = t.wire.compressor.packPacket(b)
	}
	if t.wire.cipher != nil {
		if b, err = t.wire.cipher.sealPacket(b); err != nil {
			return time.Time{}, err
		}
	}
	if t.wire.countSent != nil {
		// memberlist counts a packet without the label header that its
		// label wrapper puts in front of it on the way to the transport.
		label, _, _ := splitLabel(b)
		t.wire.countSent("udp", len(b)-len(label))
	}
	err = t.sock.writeTo(b, to)
	return time.Now(), err
}

func (t *netTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *netTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *netTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.Dial("tcp", a.Addr)
	if err != nil {
		return nil, err
	}
	return t.wrapStream(conn), nil
}

// wrapStream puts a wireConn around a stream when the transport
// compresses, encrypts or counts what memberlist writes to it.
func (t *netTransport) wrapStream(conn net.Conn) net.Conn {
	if t.wire.compressor == nil && t.wire.cipher == nil && t.wire.countSent == nil {
		return conn
	}
	return newWireConn(conn, t.wire)
}

func (t *netTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// Shutdown closes both listeners and waits for their loops; memberlist
// calls it from its own Shutdown, Create after a failed memberlist.Create
// (when memberlist's loops may never read what the listeners hold).
func (t *netTransport) Shutdown() error {
	t.once.Do(func() {
		t.stopping.Store(true)
		close(t.stopCh)
		_ = t.tcp.Close()
		_ = t.udp.Close()
		t.wg.Wait()
	})
	return nil
}

// acceptStreams hands accepted TCP connections to memberlist, at most
// MaxStreamsInFlight at a time (it accepts only while a token is free), backing
// off from 5 ms to 1 s while accepting fails (out of descriptors, say).
func (t *netTransport) acceptStreams() {
	defer t.wg.Done()
	const minDelay, maxDelay = 5 * time.Millisecond, time.Second
	var delay time.Duration
	for {
		select {
		case t.streams <- struct{}{}:
		case <-t.stopCh:
			return
		}
		conn, err := t.tcp.AcceptTCP()
		if err != nil {
			<-t.streams
			if t.stopping.Load() {
				return
			}
			delay = min(max(2*delay, minDelay), maxDelay)
			t.logger.Printf("[ERR] memberlist: Error accepting TCP connection: %v", err)
			time.Sleep(delay)
			continue
		}
		delay = 0
		held := t.wrapStream(&heldConn{TCPConn: conn, release: func() { <-t.streams }})
		select {
		case t.streamCh <- held:
		case <-t.stopCh:
			_ = held.Close()
			return
		}
	}
}

// heldConn is an accepted connection that gives its token back when
// memberlist closes it (it always does, when done with it).
type heldConn struct {
	*net.TCPConn
	once    sync.Once
	release func()
}

func (c *heldConn) Close() error {
	err := c.TCPConn.Close()
	c.once.Do(c.release)
	return err
}

// readPackets reads datagrams into one reused buffer and hands memberlist
// a copy of each, just as long as the packet.
func (t *netTransport) readPackets() {
	defer t.wg.Done()
	buf := make([]byte, maxPacketSize)
	for {
		n, from, err := t.sock.readFrom(buf)
		at := time.Now()
		if err != nil {
			if t.stopping.Load() {
				return
			}
			t.logger.Printf("[ERR] memberlist: Error reading UDP packet: %v", err)
			continue
		}
		if n < 1 {
			t.logger.Printf("[ERR] memberlist: UDP packet too short (%d bytes) %s", len(buf), memberlist.LogAddress(from))
			continue
		}
		metrics.IncrCounterWithLabels([]string{"memberlist", "udp", "received"}, float32(n), t.labels)
		packet := append([]byte(nil), buf[:n]...)
		if t.wire.cipher != nil {
			if packet, err = t.wire.cipher.openPacket(packet); err != nil {
				t.logger.Printf("[ERR] memberlist: Decrypt packet failed: %v %s", err, memberlist.LogAddress(from))
				continue
			}
		}
		if t.wire.compressor != nil {
			packet = t.wire.compressor.unpackPacket(packet)
		}
		if t.wire.copies != nil {
			if packet = t.wire.copies.filter(packet, at); packet == nil {
				continue
			}
		}
		select {
		case t.packetCh <- &memberlist.Packet{Buf: packet, From: from, Timestamp: at}:
		case <-t.stopCh:
			return
		}
	}
}

// sendAlone sends, each in a packet of its own, the suspicions the
// transport saw this node raise to their accused, its leave to every
// other member (direct_notice.go), and the top-ups of membership gossip
// to random members (membership_topup.go), until Shutdown. It resolves
// the addresses here, away from memberlist's goroutines and locks; an
// accused Serf does not know (yet) is left to gossip.
func (t *netTransport) sendAlone() {
	defer t.wg.Done()
	var noticeCh <-chan directNotice
	var topUpCh <-chan topUp
	if t.wire.notices != nil {
		noticeCh = t.wire.notices.pending
	}
	if t.wire.topUp != nil {
		topUpCh = t.wire.topUp.pending
	}
	for {
		select {
		case <-t.stopCh:
			return
		case n := <-noticeCh:
			notices := t.wire.notices
			var to []*net.UDPAddr
			if n.everyone {
				to = notices.everyone()
			} else if addr, ok := notices.addrOf(n.accused); ok {
				to = append(to, addr)
			}
			notices.sent.Add(t.sendTo(n.packet, to))
		case c := <-topUpCh:
			t.wire.topUp.copies.Add(t.sendTo(c.packet, t.wire.topUp.recipients(c)))
		}
	}
}

// sendTo sends packet to each of to, and counts those it went to.
func (t *netTransport) sendTo(packet []byte, to []*net.UDPAddr) uint64 {
	var sent uint64
	for _, addr := range to {
		if _, err := t.sendPacket(packet, addr); err != nil {
			t.logger.Printf("[DEBUG] serf: packet not sent to %s: %v", addr, err)
			continue
		}
		sent++
	}
	return sent
}
