package serf

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// memNetwork is an in-memory network for memberlist, in the spirit of
// memberlist.MockNetwork but behaving like a real one where it matters for
// long-running tests: packets are dropped, never blocked on, when the
// receiver is gone or busy (UDP), dials to a stopped node fail, dial
// timeouts are honoured, and nodes may be added while others run.
// (MockNetwork's unbuffered channels let two nodes that ping each other
// deadlock, and a stopped node wedges every sender.)
type memNetwork struct {
	mu       sync.Mutex
	nextPort int
	byAddr   map[string]*memTransport
	byName   map[string]*memTransport
}

func newMemNetwork() *memNetwork {
	return &memNetwork{nextPort: 20000, byAddr: map[string]*memTransport{}, byName: map[string]*memTransport{}}
}

// newTransport adds a node called name and returns its transport.
func (n *memNetwork) newTransport(name string) *memTransport {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nextPort++
	t := &memTransport{
		net:      n,
		addr:     &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1).To4(), Port: n.nextPort},
		packetCh: make(chan *memberlist.Packet, 1024),
		streamCh: make(chan net.Conn, 64),
		stopCh:   make(chan struct{}),
	}
	n.byAddr[t.addr.String()] = t
	n.byName[name] = t
	return t
}

// restart replaces a stopped node's transport with a fresh one at the same
// address, as a restarted process bound to the same port would be.
func (n *memNetwork) restart(name string, old *memTransport) *memTransport {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := &memTransport{
		net:      n,
		addr:     old.addr,
		packetCh: make(chan *memberlist.Packet, 1024),
		streamCh: make(chan net.Conn, 64),
		stopCh:   make(chan struct{}),
	}
	n.byAddr[t.addr.String()] = t
	n.byName[name] = t
	return t
}

func (n *memNetwork) lookup(a memberlist.Address) (*memTransport, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	// Addresses are unique; names may not be (name-conflict tests).
	t, ok := n.byAddr[a.Addr]
	if !ok {
		t, ok = n.byName[a.Name]
	}
	if !ok {
		return nil, fmt.Errorf("no route to %s", a.Addr)
	}
	return t, nil
}

// memTransport is one node's end of a memNetwork.
type memTransport struct {
	net      *memNetwork
	addr     *net.UDPAddr
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	stopOnce sync.Once
	stopCh   chan struct{}
}

var _ memberlist.NodeAwareTransport = (*memTransport)(nil)

func (t *memTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.addr.IP, t.addr.Port, nil
}

func (t *memTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *memTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	dest, err := t.net.lookup(a)
	if err != nil {
		return now, err
	}
	select {
	case <-dest.stopCh:
		// Like UDP to a dead host: silently lost.
		return now, nil
	default:
	}
	p := &memberlist.Packet{Buf: append([]byte(nil), b...), From: t.addr, Timestamp: now}
	select {
	case dest.packetCh <- p:
	default: // receiver overwhelmed: dropped, as UDP would
	}
	return now, nil
}

func (t *memTransport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

func (t *memTransport) IngestPacket(conn net.Conn, addr net.Addr, now time.Time, shouldClose bool) error {
	return fmt.Errorf("not supported")
}

func (t *memTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (t *memTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	dest, err := t.net.lookup(a)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	local, remote := net.Pipe()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case dest.streamCh <- remote:
		return local, nil
	case <-dest.stopCh:
	case <-timer.C:
	}
	local.Close()
	remote.Close()
	return nil, fmt.Errorf("dial %s: connection refused", a.Addr)
}

func (t *memTransport) StreamCh() <-chan net.Conn { return t.streamCh }

func (t *memTransport) IngestStream(conn net.Conn) error {
	return fmt.Errorf("not supported")
}

// Shutdown stops accepting traffic and closes streams nobody picked up.
func (t *memTransport) Shutdown() error {
	t.stopOnce.Do(func() {
		close(t.stopCh)
		for {
			select {
			case c := <-t.streamCh:
				c.Close()
			default:
				return
			}
		}
	})
	return nil
}

func (t *memTransport) String() string {
	return net.JoinHostPort(t.addr.IP.String(), strconv.Itoa(t.addr.Port))
}
