package signaling

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawUDP reads and writes the ICE socket's datagrams with recvfrom,
// sendto and sendmmsg made as raw system calls. The socket is non-blocking
// and every call passes MSG_DONTWAIT, so each returns in microseconds (a
// full buffer waits in Go's poller, as net.UDPConn would). Through
// net.UDPConn (or x/net's WriteBatch) every call enters the scheduler's
// system-call state, and that wakes Go's sysmon thread whenever it sleeps
// (it sleeps whenever the daemon's one P goes idle, many times a second
// with a crowd connected); once woken it polls every 20 µs for a while.
// With a crowd that was a tenth of the daemon's CPU.
type rawUDP struct {
	rc syscall.RawConn
	// v6 is true for an AF_INET6 socket (the dual-stack default): IPv4
	// peers are addressed as IPv4-mapped IPv6 there.
	v6 bool

	// gso is whether runs of one viewer's packets go as one segmented
	// message (udpgso_linux.go); set at start, cleared if a route refuses.
	gso gsoState

	// Reused by sendBatch (its caller serialises it): per message its
	// header, address, GSO control message and packet count; per packet
	// its iovec.
	hdrs  []mmsghdr
	names []unix.RawSockaddrInet6
	ctrl  []byte
	segs  []int
	iovs  []unix.Iovec
}

// mmsghdr is struct mmsghdr: Go lays it out as C does (padding included).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

func newRawUDP(c *net.UDPConn) (*rawUDP, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	s := &rawUDP{rc: rc}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		var sa unix.Sockaddr
		sa, serr = unix.Getsockname(int(fd))
		_, s.v6 = sa.(*unix.SockaddrInet6)
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, fmt.Errorf("the ICE socket's address: %w", serr)
	}
	s.gso.on = kernelHasGSO(rc)
	return s, nil
}

// errFamily is a destination the socket's address family cannot reach
// (an IPv6 peer on an IPv4-only socket).
var errFamily = errors.New("address family not supported by the ICE socket")

// sockaddr writes to's address into sa in the socket's family and returns
// its length.
func (s *rawUDP) sockaddr(sa *unix.RawSockaddrInet6, to netip.AddrPort) (uint32, error) {
	a := to.Addr()
	port := to.Port()
	if !s.v6 {
		if !a.Unmap().Is4() {
			return 0, errFamily
		}
		in4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*in4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Unmap().As4()}
		in4.Port = htons(port)
		return unix.SizeofSockaddrInet4, nil
	}
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
	sa.Port = htons(port)
	if zone := a.Zone(); zone != "" {
		sa.Scope_id = zoneIndex(zone)
	}
	return unix.SizeofSockaddrInet6, nil
}

// zoneIndex is the interface index an IPv6 zone names: recvFrom gives the
// index itself; a name (from elsewhere) is looked up. 0: unknown.
func zoneIndex(zone string) uint32 {
	if i, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(i)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}

// htons puts a port in network byte order as the sockaddr field holds it.
func htons(p uint16) uint16 {
	b := [2]byte{byte(p >> 8), byte(p)}
	return *(*uint16)(unsafe.Pointer(&b))
}

// recvFrom reads one datagram, as net.UDPConn.ReadFromUDPAddrPort does
// (IPv4 peers on a dual-stack socket come as IPv4-mapped addresses).
// Errors a datagram's sender caused (an ICMP error queued on the socket)
// are skipped: pion's UDPMux stops for good at any error but a timeout.
func (s *rawUDP) recvFrom(p []byte) (int, netip.AddrPort, error) {
	for {
		var sa unix.RawSockaddrInet6
		salen := uint32(unsafe.Sizeof(sa))
		var n uintptr
		var errno syscall.Errno
		err := s.rc.Read(func(fd uintptr) bool {
			n, _, errno = unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
				unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&salen)))
			return errno != unix.EAGAIN // nothing queued: wait until readable
		})
		if err != nil {
			return 0, netip.AddrPort{}, err
		}
		switch errno {
		case 0:
		case unix.EINTR, unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH:
			continue
		default:
			return 0, netip.AddrPort{}, &net.OpError{Op: "recvfrom", Net: "udp", Err: errno}
		}
		if from := fromSockaddr(&sa); from.IsValid() {
			return int(n), from, nil
		}
	}
}

// fromSockaddr is the address a recvfrom filled in.
func fromSockaddr(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		in4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(in4.Addr), ntohs(in4.Port))
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			// The interface's index, not its name: naming it would cost a
			// netlink dump per datagram; sending back takes either.
			a = a.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(a, ntohs(sa.Port))
	}
	return netip.AddrPort{} // not from an IP peer: skipped
}

// ntohs reads a port a sockaddr holds in network byte order.
func ntohs(p uint16) uint16 {
	b := *(*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// sendTo sends one datagram.
func (s *rawUDP) sendTo(p []byte, to netip.AddrPort) (int, error) {
	var sa unix.RawSockaddrInet6
	n, err := s.sockaddr(&sa, to)
	if err != nil {
		return 0, err
	}
	var sent uintptr
	var errno syscall.Errno
	werr := s.rc.Write(func(fd uintptr) bool {
		sent, _, errno = unix.RawSyscall6(unix.SYS_SENDTO, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
			unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(&sa)), uintptr(n))
		return errno != unix.EAGAIN // full send buffer: wait until writable
	})
	if werr != nil {
		return 0, werr
	}
	if errno != 0 {
		return 0, &net.OpError{Op: "sendto", Net: "udp", Addr: net.UDPAddrFromAddrPort(to), Err: errno}
	}
	return int(sent), nil
}

// sendBatch sends pkts with as few sendmmsg calls as the kernel takes and
// returns the calls made, the messages and the datagrams they sent. A
// datagram the kernel refuses (or the socket's family cannot address) is
// skipped, as a failed sendto would drop it: the rest must still go. With
// GSO, a run of one viewer's packets is one message, refused or sent as a
// whole.
func (s *rawUDP) sendBatch(pkts []outPacket) (calls, msgs, sent int) {
	for len(pkts) > 0 {
		k := s.prepare(pkts)
		if k == 0 { // the first could not be addressed
			pkts = pkts[1:]
			continue
		}
		got, errno := s.sendmmsg(k)
		calls++
		if got <= 0 {
			if s.segs[0] > 1 && gsoRefusal(errno) {
				s.gsoOff(errno) // plain datagrams from now on, this batch too
				continue
			}
			pkts = pkts[s.segs[0]:] // skip the message the kernel refused
			continue
		}
		n := s.packetsIn(got)
		msgs += got
		sent += n
		pkts = pkts[n:]
	}
	return calls, msgs, sent
}

// packetsIn is how many packets the first k prepared messages hold.
func (s *rawUDP) packetsIn(k int) int {
	n := 0
	for _, c := range s.segs[:k] {
		n += c
	}
	return n
}

// prepare fills the messages for a leading run of pkts that can be
// addressed (at most maxBatch) and returns how many it made; s.segs holds
// the packets in each.
func (s *rawUDP) prepare(pkts []outPacket) int {
	if cap(s.iovs) < len(pkts) {
		s.iovs = make([]unix.Iovec, len(pkts))
	}
	s.iovs = s.iovs[:len(pkts)]
	k := 0
	for i := 0; i < len(pkts) && k < maxBatch; k++ {
		if k == len(s.hdrs) {
			s.hdrs = append(s.hdrs, mmsghdr{})
			s.names = append(s.names, unix.RawSockaddrInet6{})
			s.segs = append(s.segs, 0)
			s.ctrl = append(s.ctrl, make([]byte, gsoCmsgSpace)...)
		}
		nl, err := s.sockaddr(&s.names[k], pkts[i].to)
		if err != nil {
			return k
		}
		n := s.run(pkts[i:])
		for j, p := range pkts[i : i+n] {
			iov := &s.iovs[i+j]
			iov.Base = unsafe.SliceData(p.buf)
			iov.SetLen(len(p.buf))
		}
		h := &s.hdrs[k]
		*h = mmsghdr{}
		h.hdr.Name = (*byte)(unsafe.Pointer(&s.names[k]))
		h.hdr.Namelen = nl
		h.hdr.Iov = &s.iovs[i]
		h.hdr.SetIovlen(n)
		if n > 1 {
			c := s.ctrl[k*gsoCmsgSpace : (k+1)*gsoCmsgSpace]
			putSegmentSize(c, len(pkts[i].buf))
			h.hdr.Control = &c[0]
			h.hdr.SetControllen(gsoCmsgSpace)
		}
		s.segs[k] = n
		i += n
	}
	return k
}

// sendmmsg sends the first k prepared messages and returns how many went
// (-1 and the error: none, the first was refused).
func (s *rawUDP) sendmmsg(k int) (int, syscall.Errno) {
	var r uintptr
	var errno syscall.Errno
	err := s.rc.Write(func(fd uintptr) bool {
		r, _, errno = unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&s.hdrs[0])),
			uintptr(k), unix.MSG_DONTWAIT, 0, 0)
		return errno != unix.EAGAIN
	})
	if err != nil {
		return -1, 0
	}
	if errno != 0 {
		return -1, errno
	}
	return int(r), 0
}
