package signaling

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDP generic segmentation offload (Linux 4.18): one viewer's packets of
// an access unit leave as one message, a buffer the kernel cuts into
// datagrams of the first one's size (the last may be shorter). The
// socket, routing, netfilter and queueing work is then done once per run
// instead of once per packet, and a driver that segments in hardware
// does the rest there. The packetizer makes every packet of a frame but
// the last the same size, and the writer puts the one extension that
// differs (the capture time) on the last (forward.go), so a frame to a
// viewer is usually one message.

// gsoMaxSegments is the kernel's UDP_MAX_SEGMENTS (64; newer kernels take more),
// gsoMaxBytes the most one message may carry (an IP datagram's 64 KiB,
// less the headers).
const (
	gsoMaxSegments = 64
	gsoMaxBytes    = 65535 - 40 - 8
)

// gsoCmsgSpace is the room for one UDP_SEGMENT control message.
var gsoCmsgSpace = unix.CmsgSpace(2)

// gsoState says whether GSO is in use, and why not once a route refused
// it. Read and written under the batch's lock.
type gsoState struct {
	on      bool
	refused syscall.Errno
}

// kernelHasGSO asks the socket for its UDP_SEGMENT option: kernels
// without GSO do not know it.
func kernelHasGSO(rc syscall.RawConn) bool {
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		_, err = unix.GetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_SEGMENT)
	}); cerr != nil {
		return false
	}
	return err == nil
}

// gsoRefusal says whether a segmented message was refused for being one:
// EIO, a route that cannot segment (a device without checksum offload on
// older kernels, IPsec); EMSGSIZE (this kernel) or EINVAL (others),
// segments larger than the route's MTU, which plain datagrams pass as IP
// fragments.
func gsoRefusal(errno syscall.Errno) bool {
	return errno == unix.EIO || errno == unix.EMSGSIZE || errno == unix.EINVAL
}

// gsoOff stops segmenting for good: a route refused it. One viewer behind
// such a route costs the crowd its GSO, not its picture; status says so.
func (s *rawUDP) gsoOff(errno syscall.Errno) {
	s.gso.on = false
	s.gso.refused = errno
}

// run is how many of pkts, from the first, go in one message: with GSO,
// those to the same address that are the first one's size, then at most
// one shorter one to end the run.
func (s *rawUDP) run(pkts []outPacket) int {
	if !s.gso.on {
		return 1
	}
	to, size := pkts[0].to, len(pkts[0].buf)
	total := size
	n := 1
	for n < len(pkts) && n < gsoMaxSegments {
		p := pkts[n]
		if p.to != to || len(p.buf) > size || total+len(p.buf) > gsoMaxBytes {
			break
		}
		total += len(p.buf)
		n++
		if len(p.buf) < size {
			break
		}
	}
	return n
}

// putSegmentSize writes the UDP_SEGMENT control message into c.
func putSegmentSize(c []byte, size int) {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&c[0]))
	h.Level = unix.IPPROTO_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	*(*uint16)(unsafe.Pointer(&c[unix.CmsgLen(0)])) = uint16(size) //nolint:gosec // at most rtpMTU+overhead
}
