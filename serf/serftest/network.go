package serftest

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Queue sizes of one transport. They bound what a node that does not keep
// up can hold; beyond them packets are lost, as a full socket buffer loses
// datagrams, and dials wait (and time out) as a full accept backlog makes
// them.
const (
	packetQueue  = 512  // received packets memberlist has not read yet
	delayedQueue = 4096 // packets in flight on links with latency
	streamQueue  = 64   // dialled streams memberlist has not accepted yet
)

// firstPort is the port of the first transport; the next get the ports
// after it. Every transport's address is 127.0.0.1:port.
const firstPort = 20001

// LinkConfig is how a directed link (or every link, as the default)
// behaves.
type LinkConfig struct {
	// Latency delays every packet and every dial on the link.
	Latency time.Duration
	// Loss is the probability, from 0 to 1, that a packet is lost. Streams
	// are reliable, as TCP is, and are not affected.
	Loss float64
	// Drop blocks the link: packets are lost and dials time out, as with a
	// firewall that drops everything.
	Drop bool
}

type link struct{ from, to string }

// Network is an in-memory network for memberlist, in the spirit of
// memberlist.MockNetwork but behaving like a real one where it matters:
// packets are dropped, never blocked on, when the receiver is gone or its
// queue is full; dials to a stopped node are refused; dial timeouts are
// honoured; nodes may be added, stopped and restarted while others run.
//
// Links between nodes, addressed by node name, can be given latency and
// loss or cut, one by one or all at once, and the network can be split
// into groups that cannot reach each other.
//
// A Network carries thousands of nodes: an address lookup is a map access
// under a read lock that is released before anything is delivered, and no
// goroutine is started per packet (a link with latency queues its packets
// at the receiver, whose one delivery goroutine releases them on time).
type Network struct {
	mu       sync.RWMutex
	nextPort int
	byAddr   map[string]*Transport
	byName   map[string]*Transport
	def      LinkConfig
	links    map[link]LinkConfig
	group    map[string]int // partition group by node name; nil when whole
	// streamLimit, when above 0, is how many accepted streams each
	// transport made from now on hands memberlist at once
	// (SetStreamLimit).
	streamLimit int

	rngMu sync.Mutex
	rng   *rand.Rand
}

// NewNetwork returns an empty network whose packet loss is drawn from a
// random source seeded with seed, so a run with one sender is repeatable.
func NewNetwork(seed int64) *Network {
	return &Network{
		nextPort: firstPort,
		byAddr:   map[string]*Transport{},
		byName:   map[string]*Transport{},
		links:    map[link]LinkConfig{},
		rng:      rand.New(rand.NewSource(seed)),
	}
}

// NewTransport adds a node called name at the next free address and
// returns its transport.
func (n *Network) NewTransport(name string) *Transport {
	n.mu.Lock()
	defer n.mu.Unlock()
	addr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1).To4(), Port: n.nextPort}
	n.nextPort++
	return n.attachLocked(name, addr)
}

// SetStreamLimit makes every transport created after it hand memberlist at
// most limit accepted streams at a time, as serf's own TCP transport does
// (serf/net_transport.go); 0, the default, hands over every stream at once,
// as memberlist's NetTransport does. A stream dialled past the limit is
// connected, as a TCP connection waiting in the listen queue is, and
// reaches memberlist when an earlier stream is closed; its dialler's
// reads and writes wait until then or time out.
func (n *Network) SetStreamLimit(limit int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.streamLimit = limit
}

// Restart stops the transport of node name, if it still runs, and returns
// a fresh one at the same address, as a restarted process bound to the
// same port would have. It panics if no node is called name.
func (n *Network) Restart(name string) *Transport {
	n.mu.RLock()
	old, ok := n.byName[name]
	n.mu.RUnlock()
	if !ok {
		panic(fmt.Sprintf("serftest: no node called %q to restart", name))
	}
	_ = old.Shutdown()
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.attachLocked(name, old.addr)
}

func (n *Network) attachLocked(name string, addr *net.UDPAddr) *Transport {
	t := &Transport{
		net:      n,
		name:     name,
		addr:     addr,
		packetCh: make(chan *memberlist.Packet, packetQueue),
		streamCh: make(chan net.Conn, streamQueue),
		stopCh:   make(chan struct{}),
		wakeCh:   make(chan struct{}, 1),
	}
	if n.streamLimit > 0 {
		t.streamTokens = make(chan struct{}, n.streamLimit)
	}
	n.byAddr[addr.String()] = t
	n.byName[name] = t
	return t
}

// Close stops every transport of the network.
func (n *Network) Close() {
	n.mu.RLock()
	all := make([]*Transport, 0, len(n.byAddr))
	for _, t := range n.byAddr {
		all = append(all, t)
	}
	n.mu.RUnlock()
	for _, t := range all {
		_ = t.Shutdown()
	}
}

// SetLink sets how the directed link from node from to node to behaves,
// overriding the default link.
func (n *Network) SetLink(from, to string, c LinkConfig) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.links[link{from, to}] = c
}

// SetDefaultLink sets how every link without its own SetLink behaves.
func (n *Network) SetDefaultLink(c LinkConfig) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.def = c
}

// Partition splits the network: nodes in different groups cannot reach
// each other, neither by packet nor by stream, and open streams between
// them fail. A node in no group is cut off from every node in a group.
// A new Partition replaces the previous one.
func (n *Network) Partition(groups ...[]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.group = map[string]int{}
	for i, g := range groups {
		for _, name := range g {
			n.group[name] = i
		}
	}
}

// Heal undoes Partition and every SetLink and SetDefaultLink: the network
// is whole and perfect again.
func (n *Network) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.group = nil
	n.links = map[link]LinkConfig{}
	n.def = LinkConfig{}
}

// route returns the transport at address a and the link to it from node
// from, with blocked set if the link is dropped or partitioned.
func (n *Network) route(from string, a memberlist.Address) (*Transport, LinkConfig, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	// Addresses are unique; names may not be (name-conflict tests).
	dest, ok := n.byAddr[a.Addr]
	if !ok {
		dest, ok = n.byName[a.Name]
	}
	if !ok {
		return nil, LinkConfig{}, fmt.Errorf("no route to %s", a.Addr)
	}
	return dest, n.linkLocked(from, dest.name), nil
}

func (n *Network) linkLocked(from, to string) LinkConfig {
	c, ok := n.links[link{from, to}]
	if !ok {
		c = n.def
	}
	if n.group != nil {
		gf, okf := n.group[from]
		gt, okt := n.group[to]
		if okf != okt || gf != gt {
			c.Drop = true
		}
	}
	return c
}

// blocked reports whether the link from one node to another is cut now.
func (n *Network) blocked(from, to string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.linkLocked(from, to).Drop
}

// lose draws whether a packet on a link with loss probability p is lost.
func (n *Network) lose(p float64) bool {
	if p <= 0 {
		return false
	}
	n.rngMu.Lock()
	defer n.rngMu.Unlock()
	return n.rng.Float64() < p
}

// Transport is one node's end of a Network. It implements
// memberlist.NodeAwareTransport.
type Transport struct {
	net      *Network
	name     string
	addr     *net.UDPAddr
	packetCh chan *memberlist.Packet
	streamCh chan net.Conn
	stopOnce sync.Once
	stopCh   chan struct{}
	// overflows counts packets lost to a full packetCh (Overflows).
	overflows atomic.Uint64

	// Packets delayed by latency wait in pending until due; one delivery
	// goroutine, started on first need and stopped by Shutdown, moves them
	// to packetCh.
	mu       sync.Mutex
	pending  delayHeap
	running  bool
	stopped  bool
	wakeCh   chan struct{}
	delivery sync.WaitGroup

	// streamTokens holds one token per stream in memberlist's hands when
	// the network has a stream limit (nil: no limit); queued counts the
	// goroutines holding streams that wait for a token.
	streamTokens chan struct{}
	queued       sync.WaitGroup
}

var _ memberlist.NodeAwareTransport = (*Transport)(nil)

// Name is the name of the node the transport belongs to.
func (t *Transport) Name() string { return t.name }

// Addr is the transport's address, "127.0.0.1:port".
func (t *Transport) Addr() string { return t.addr.String() }

func (t *Transport) String() string {
	return net.JoinHostPort(t.addr.IP.String(), strconv.Itoa(t.addr.Port))
}

// FinalAdvertiseAddr is the transport's own address, whatever is asked.
func (t *Transport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.addr.IP, t.addr.Port, nil
}

// WriteTo sends a packet to addr.
func (t *Transport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress sends a packet. Like UDP, it never waits: a packet to a
// stopped node, over a cut link or to a full queue is silently lost.
func (t *Transport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	dest, link, err := t.net.route(t.name, a)
	if err != nil {
		return now, err
	}
	if link.Drop || t.net.lose(link.Loss) {
		return now, nil
	}
	p := &memberlist.Packet{Buf: append([]byte(nil), b...), From: t.addr}
	if link.Latency > 0 {
		dest.delay(p, now.Add(link.Latency))
	} else {
		dest.deliver(p)
	}
	return now, nil
}

// deliver hands p to memberlist, or loses it if the node is stopped or
// has not kept up.
func (t *Transport) deliver(p *memberlist.Packet) {
	select {
	case <-t.stopCh:
		return
	default:
	}
	p.Timestamp = time.Now()
	select {
	case t.packetCh <- p:
	default:
		t.overflows.Add(1)
	}
}

// Overflows is how many packets to this node were lost so far because
// memberlist had not yet read the packetQueue before them, as a socket
// buffer overflows.
func (t *Transport) Overflows() uint64 { return t.overflows.Load() }

// delay queues p for delivery at due.
func (t *Transport) delay(p *memberlist.Packet, due time.Time) {
	t.mu.Lock()
	if t.stopped || len(t.pending) >= delayedQueue {
		t.mu.Unlock()
		return
	}
	heap.Push(&t.pending, delayed{due: due, p: p})
	if !t.running {
		t.running = true
		t.delivery.Add(1)
		go t.deliveryLoop()
	}
	t.mu.Unlock()
	select {
	case t.wakeCh <- struct{}{}:
	default:
	}
}

// deliveryLoop releases delayed packets when they are due, until Shutdown.
func (t *Transport) deliveryLoop() {
	defer t.delivery.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		t.mu.Lock()
		now := time.Now()
		var due []*memberlist.Packet
		for len(t.pending) > 0 && !t.pending[0].due.After(now) {
			due = append(due, heap.Pop(&t.pending).(delayed).p)
		}
		wait := time.Hour
		if len(t.pending) > 0 {
			wait = t.pending[0].due.Sub(now)
		}
		t.mu.Unlock()
		for _, p := range due {
			t.deliver(p)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-t.stopCh:
			return
		case <-t.wakeCh:
		case <-timer.C:
		}
	}
}

// PacketCh is where received packets arrive.
func (t *Transport) PacketCh() <-chan *memberlist.Packet { return t.packetCh }

// IngestPacket is not supported.
func (t *Transport) IngestPacket(net.Conn, net.Addr, time.Time, bool) error {
	return errors.New("serftest: IngestPacket not supported")
}

// DialTimeout opens a stream to addr.
func (t *Transport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout opens a stream, as a TCP dial would: refused by a
// stopped node, timed out over a cut link or when the receiver does not
// accept in time, delayed by the link's latency.
func (t *Transport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	dest, link, err := t.net.route(t.name, a)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	timedOut := fmt.Errorf("dial %s: i/o timeout", a.Addr)
	if link.Drop {
		select {
		case <-timer.C:
		case <-t.stopCh:
		}
		return nil, timedOut
	}
	if link.Latency > 0 {
		lat := time.NewTimer(link.Latency)
		select {
		case <-lat.C:
		case <-timer.C:
			lat.Stop()
			return nil, timedOut
		}
	}
	local, remote := net.Pipe()
	select {
	case <-dest.stopCh:
		local.Close()
		remote.Close()
		return nil, fmt.Errorf("dial %s: connection refused", a.Addr)
	default:
	}
	accepted := &linkConn{Conn: remote, net: t.net, from: dest.name, to: t.name}
	dialled := &linkConn{Conn: local, net: t.net, from: t.name, to: dest.name}
	if dest.streamTokens != nil {
		dest.acceptLimited(accepted)
		return dialled, nil
	}
	select {
	case dest.streamCh <- accepted:
		return dialled, nil
	case <-dest.stopCh:
		err = fmt.Errorf("dial %s: connection refused", a.Addr)
	case <-timer.C:
		err = timedOut
	}
	local.Close()
	remote.Close()
	return nil, err
}

// acceptLimited hands c to memberlist once a stream token is free, from a
// goroutine of its own if none is free now; c gives its token back when
// closed. A stream still waiting when the transport stops is closed.
func (t *Transport) acceptLimited(c *linkConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		_ = c.Close()
		return
	}
	t.queued.Add(1)
	go func() {
		defer t.queued.Done()
		select {
		case t.streamTokens <- struct{}{}:
		case <-t.stopCh:
			_ = c.Close()
			return
		}
		c.release = func() { <-t.streamTokens }
		select {
		case t.streamCh <- c:
		case <-t.stopCh:
			_ = c.Close()
		}
	}()
}

// StreamCh is where accepted streams arrive.
func (t *Transport) StreamCh() <-chan net.Conn { return t.streamCh }

// IngestStream is not supported.
func (t *Transport) IngestStream(net.Conn) error {
	return errors.New("serftest: IngestStream not supported")
}

// Shutdown stops the transport: it receives nothing more, dials to it are
// refused, streams nobody accepted are closed. It is idempotent.
func (t *Transport) Shutdown() error {
	t.stopOnce.Do(func() {
		t.mu.Lock()
		t.stopped = true
		t.pending = nil
		t.mu.Unlock()
		close(t.stopCh)
		t.delivery.Wait()
		t.queued.Wait()
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

// linkConn is one end of a stream; it fails once the link it writes on is
// cut, as a TCP connection across a partition stops getting through.
type linkConn struct {
	net.Conn
	net      *Network
	from, to string

	// release, if set, gives back the stream token of the accepting
	// transport, once, when the stream is closed.
	release   func()
	closeOnce sync.Once
}

func (c *linkConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		if c.release != nil {
			c.release()
		}
	})
	return err
}

var errLinkCut = errors.New("serftest: link cut")

func (c *linkConn) Write(b []byte) (int, error) {
	if c.net.blocked(c.from, c.to) {
		_ = c.Close()
		return 0, errLinkCut
	}
	return c.Conn.Write(b)
}

func (c *linkConn) Read(b []byte) (int, error) {
	if c.net.blocked(c.to, c.from) {
		_ = c.Close()
		return 0, errLinkCut
	}
	return c.Conn.Read(b)
}

// delayed is a packet waiting for its delivery time.
type delayed struct {
	due time.Time
	p   *memberlist.Packet
}

// delayHeap orders delayed packets by due time, earliest first.
type delayHeap []delayed

func (h delayHeap) Len() int            { return len(h) }
func (h delayHeap) Less(i, j int) bool  { return h[i].due.Before(h[j].due) }
func (h delayHeap) Swap(i, j int)       { h[i], h[j] = h[j], h[i] }
func (h *delayHeap) Push(x interface{}) { *h = append(*h, x.(delayed)) }
func (h *delayHeap) Pop() interface{} {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
