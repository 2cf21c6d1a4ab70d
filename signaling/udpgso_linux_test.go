package signaling

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/netem"
)

// gsoPacket is a datagram of size bytes, all of them b: a receiver can
// tell where each one was cut.
func gsoPacket(b byte, size int) []byte { return bytes.Repeat([]byte{b}, size) }

// writeAU queues pkts to their addresses as one access unit and sends it.
func writeAU(t *testing.T, bc *batchConn, pkts []outPacket) {
	t.Helper()
	var au auWrites
	au.start(bc, 1)
	for _, p := range pkts {
		if _, err := bc.WriteToAddrPort(p.buf, p.to); err != nil {
			t.Fatal(err)
		}
	}
	au.release(1)
}

// wantDatagrams checks that rx received exactly want, in order.
func wantDatagrams(t *testing.T, who string, rx *net.UDPConn, want [][]byte) {
	t.Helper()
	got := received(t, rx, 300*time.Millisecond)
	if len(got) != len(want) {
		t.Fatalf("%s received %d datagrams, want %d", who, len(got), len(want))
	}
	for i := range want {
		if got[i] != string(want[i]) {
			t.Errorf("%s datagram %d: %d bytes of %q, want %d of %q", who, i, len(got[i]), got[i][:1], len(want[i]), want[i][:1])
		}
	}
}

// A run of packets to one viewer, all the first one's size but a shorter
// last, leaves as one message that the kernel cuts into the very same
// datagrams; a different address, a larger packet after a shorter one, or
// more than the kernel's segment limit start a new message.
func TestRawUDPSendsARunAsOneSegmentedMessage(t *testing.T) {
	bc, a := batchPair(t)
	if on, why := bc.gso(); !on {
		t.Skipf("no UDP GSO here: %s", why)
	}
	b := listenLoopback(t, net.IPv4(127, 0, 0, 1))
	toA, toB := a.LocalAddr().(*net.UDPAddr).AddrPort(), b.LocalAddr().(*net.UDPAddr).AddrPort()

	pkts := []outPacket{
		{gsoPacket('a', 1000), toA}, {gsoPacket('b', 1000), toA}, {gsoPacket('c', 600), toA}, // 1 message
		{gsoPacket('d', 1000), toB},                              // 2
		{gsoPacket('e', 500), toA},                               // 3
		{gsoPacket('f', 1000), toA}, {gsoPacket('g', 1000), toA}, // 4: larger than e
	}
	writeAU(t, bc, pkts)
	var wantA, wantB [][]byte
	for _, p := range pkts {
		if p.to == toA {
			wantA = append(wantA, p.buf)
		} else {
			wantB = append(wantB, p.buf)
		}
	}
	wantDatagrams(t, "viewer A", a, wantA)
	wantDatagrams(t, "viewer B", b, wantB)
	if st := bc.stats(); st.calls != 1 || st.messages != 4 || st.packets != 7 {
		t.Errorf("stats %+v, want 7 packets in 4 messages, 1 call", st)
	}

	// One more than the kernel takes in a message: two messages.
	var many []outPacket
	var want [][]byte
	for i := range gsoMaxSegments + 1 {
		p := gsoPacket(byte('A'+i%26), 200)
		many = append(many, outPacket{p, toA})
		want = append(want, p)
	}
	writeAU(t, bc, many)
	wantDatagrams(t, "viewer A", a, want)
	if st := bc.stats(); st.messages != 4+2 || st.packets != 7+gsoMaxSegments+1 {
		t.Errorf("stats %+v, want %d more packets in 2 more messages", st, gsoMaxSegments+1)
	}
}

// A route that cannot take a segmented message (here an MTU below the
// packet size, as some tunnels have: EMSGSIZE here, EINVAL on other
// kernels; a device without checksum offload on older kernels, or IPsec:
// EIO) gets the batch again as plain
// datagrams (the kernel fragments those), nothing is lost, and GSO stays
// off, with status saying why.
func TestGSOFallsBackWhereARouteCannotSegment(t *testing.T) {
	if testing.Short() {
		t.Skip("a network namespace: not in -short")
	}
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (a network namespace): run make test as root")
	}
	link, err := netem.New("pipcamgso", 93)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = link.Close() })
	rx, err := link.ListenUDP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rx.Close() })
	bc := listenBatch(t, "udp4", &net.UDPAddr{IP: net.ParseIP(link.HostIP)})
	if on, why := bc.gso(); !on {
		t.Skipf("no UDP GSO here: %s", why)
	}
	to := netip.MustParseAddrPort(rx.LocalAddr().String())
	frame := func(first byte) ([]outPacket, [][]byte) {
		var pkts []outPacket
		var want [][]byte
		for i, size := range []int{1200, 1200, 700} {
			p := gsoPacket(first+byte(i), size)
			pkts = append(pkts, outPacket{p, to})
			want = append(want, p)
		}
		return pkts, want
	}

	pkts, want := frame('a')
	writeAU(t, bc, pkts)
	wantDatagrams(t, "through the veth", rx, want)
	if st := bc.stats(); st.messages != 1 || st.packets != 3 {
		t.Fatalf("stats %+v, want 3 packets in 1 message", st)
	}

	if err := link.SetMTU(1000); err != nil {
		t.Fatal(err)
	}
	pkts, want = frame('x')
	writeAU(t, bc, pkts)
	wantDatagrams(t, "on a smaller MTU", rx, want)
	on, why := bc.gso()
	if on {
		t.Fatalf("GSO still on after the route refused it: %+v", bc.stats())
	}
	t.Logf("GSO off: %s", why)
	if st := bc.stats(); st.messages != 1+3 || st.packets != 3+3 {
		t.Errorf("stats %+v, want the second frame as 3 plain datagrams", st)
	}
}
