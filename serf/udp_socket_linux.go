//go:build linux

package serf

import (
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// On Linux the transport reads and writes datagrams with recvfrom and
// sendto made as raw system calls, inside the socket's syscall.RawConn so
// that the runtime's poller still does the waiting. The reason is the
// runtime's sysmon thread: every system call made the usual way tells the
// scheduler the goroutine may block, which wakes a sysmon that had gone
// into its long sleep, and it then polls every 20 µs for a while. An idle
// member makes a few dozen such calls a second (probes, acks, gossip), so
// its sysmon hardly ever sleeps; in an experiment with 64 idle agents,
// sysmon's wake-ups fell from 33 to 5 a second and the agents' CPU by
// about a fifth (BENCHMARKS.md, session 11). Both calls are non-blocking
// on the poller's non-blocking socket, which is what a raw system call
// requires: one that waited would hold its thread without the runtime
// knowing.

// rawUDPSocket is the udpSocket of Linux: raw recvfrom and sendto on the
// socket of a net.UDPConn, whose address family (AF_INET, or AF_INET6 for
// a socket bound to :: or to 0.0.0.0 with IPv6 available) decides how
// destinations are written.
type rawUDPSocket struct {
	conn   *net.UDPConn
	rc     syscall.RawConn
	family uint16
	read   rawRead
}

// rawRead is the state of the one read in progress, kept with the socket,
// with its poller callback made once, so that a datagram read allocates
// only the sender's address: the transport reads from one goroutine.
type rawRead struct {
	buf   []byte
	from  syscall.RawSockaddrAny
	n     uintptr
	errno syscall.Errno
	fn    func(fd uintptr) bool
}

// recvfrom is rawRead.fn: one datagram into buf, false when there is none
// yet, so that the poller waits for the socket.
func (r *rawRead) recvfrom(fd uintptr) bool {
	for {
		fromLen := uint32(syscall.SizeofSockaddrAny)
		r.n, _, r.errno = syscall.RawSyscall6(syscall.SYS_RECVFROM, fd,
			uintptr(unsafe.Pointer(&r.buf[0])), uintptr(len(r.buf)), 0,
			uintptr(unsafe.Pointer(&r.from)), uintptr(unsafe.Pointer(&fromLen)))
		switch r.errno {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		return true
	}
}

// newUDPSocket is the raw socket of c, or c's own methods when its
// descriptor or family cannot be had.
func newUDPSocket(c *net.UDPConn) udpSocket {
	rc, err := c.SyscallConn()
	if err != nil {
		return stdUDPSocket{c}
	}
	var family uint16
	err = rc.Control(func(fd uintptr) {
		sa, _ := syscall.Getsockname(int(fd))
		switch sa.(type) {
		case *syscall.SockaddrInet4:
			family = syscall.AF_INET
		case *syscall.SockaddrInet6:
			family = syscall.AF_INET6
		}
	})
	if err != nil || family == 0 {
		return stdUDPSocket{c}
	}
	s := &rawUDPSocket{conn: c, rc: rc, family: family}
	s.read.fn = s.read.recvfrom
	return s
}

// readFrom must not be called from two goroutines at once (rawRead).
func (s *rawUDPSocket) readFrom(b []byte) (int, *net.UDPAddr, error) {
	if len(b) == 0 {
		return 0, nil, s.opError("read", nil, errors.New("empty buffer"))
	}
	r := &s.read
	r.buf = b
	err := s.rc.Read(r.fn)
	r.buf = nil // the caller's buffer is not ours to keep
	if err != nil {
		return 0, nil, s.opError("read", nil, err)
	}
	if r.errno != 0 {
		return 0, nil, s.opError("read", nil, os.NewSyscallError("recvfrom", r.errno))
	}
	addr, err := udpAddrFromRaw(&r.from)
	if err != nil {
		return 0, nil, s.opError("read", nil, err)
	}
	return int(r.n), addr, nil
}

func (s *rawUDPSocket) writeTo(b []byte, to *net.UDPAddr) error {
	var (
		sa4   syscall.RawSockaddrInet4
		sa6   syscall.RawSockaddrInet6
		sa    unsafe.Pointer
		saLen uintptr
	)
	switch ip4 := to.IP.To4(); {
	case s.family == syscall.AF_INET && ip4 != nil:
		sa4.Family = syscall.AF_INET
		putPort(&sa4.Port, to.Port)
		copy(sa4.Addr[:], ip4)
		sa, saLen = unsafe.Pointer(&sa4), syscall.SizeofSockaddrInet4
	case s.family == syscall.AF_INET6 && to.IP.To16() != nil:
		// An IPv4 destination is written as ::ffff:a.b.c.d, as To16 gives it.
		sa6.Family = syscall.AF_INET6
		putPort(&sa6.Port, to.Port)
		copy(sa6.Addr[:], to.IP.To16())
		sa6.Scope_id = zoneIndex(to.Zone)
		sa, saLen = unsafe.Pointer(&sa6), syscall.SizeofSockaddrInet6
	default:
		return s.opError("write", to, os.NewSyscallError("sendto", syscall.EAFNOSUPPORT))
	}
	var data unsafe.Pointer // nil for an empty datagram
	if len(b) > 0 {
		data = unsafe.Pointer(&b[0])
	}
	var errno syscall.Errno
	err := s.rc.Write(func(fd uintptr) bool {
		for {
			_, _, errno = syscall.RawSyscall6(syscall.SYS_SENDTO, fd,
				uintptr(data), uintptr(len(b)), 0, uintptr(sa), saLen)
			switch errno {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // send buffer full: the poller waits for room
			}
			return true
		}
	})
	if err != nil {
		return s.opError("write", to, err)
	}
	if errno != 0 {
		return s.opError("write", to, os.NewSyscallError("sendto", errno))
	}
	return nil
}

// opError wraps err as net.UDPConn's methods do.
func (s *rawUDPSocket) opError(op string, addr *net.UDPAddr, err error) error {
	oe := &net.OpError{Op: op, Net: "udp", Source: s.conn.LocalAddr(), Err: err}
	if addr != nil {
		oe.Addr = addr
	}
	return oe
}

// udpAddrFromRaw is the sender's address of a received datagram, as
// net.UDPConn gives it: 4-byte IPs from an AF_INET socket, 16-byte ones
// (IPv4 senders as ::ffff:a.b.c.d) from an AF_INET6 socket, with the
// interface of a link-local address as the zone.
func udpAddrFromRaw(rsa *syscall.RawSockaddrAny) (*net.UDPAddr, error) {
	switch rsa.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return &net.UDPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: getPort(&sa.Port)}, nil
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return &net.UDPAddr{
			IP:   append(net.IP(nil), sa.Addr[:]...),
			Port: getPort(&sa.Port),
			Zone: zoneName(sa.Scope_id),
		}, nil
	}
	return nil, os.NewSyscallError("recvfrom", syscall.EAFNOSUPPORT)
}

// getPort and putPort read and write a port in network byte order.
func getPort(p *uint16) int {
	b := (*[2]byte)(unsafe.Pointer(p))
	return int(b[0])<<8 | int(b[1])
}

func putPort(p *uint16, port int) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

// zoneName is the interface name of a scope id, or the number itself
// when no interface has it; "" for none.
func zoneName(id uint32) string {
	if id == 0 {
		return ""
	}
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(id), 10)
}

// zoneIndex is the scope id of a zone: an interface's name or a number.
func zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	n, _ := strconv.ParseUint(zone, 10, 32)
	return uint32(n)
}
