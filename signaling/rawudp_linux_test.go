package signaling

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listenLoopback is a plain socket on a loopback address of one family,
// or a skip where the machine has none.
func listenLoopback(t *testing.T, ip net.IP) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Skipf("no loopback %s here: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// On the dual-stack socket pion's mux gets, the raw calls reach IPv4 and
// IPv6 peers, one at a time and in one batch, and a reply is reported from
// the address it came from (IPv4 as an IPv4-mapped address, as
// net.UDPConn reports it).
func TestRawUDPReachesBothFamilies(t *testing.T) {
	bc := listenBatch(t, "udp", &net.UDPAddr{})
	sock := bc.UDPConn
	if !bc.raw.v6 {
		t.Skip("no dual-stack socket here (IPv6 off)")
	}
	v4 := listenLoopback(t, net.IPv4(127, 0, 0, 1))
	v6 := listenLoopback(t, net.IPv6loopback)
	port := uint16(sock.LocalAddr().(*net.UDPAddr).Port)

	for _, rx := range []*net.UDPConn{v4, v6} {
		to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
		if _, err := bc.WriteToAddrPort([]byte("one"), to); err != nil {
			t.Fatalf("send to %s: %v", to, err)
		}
		if got := received(t, rx, 200*time.Millisecond); !slices.Equal(got, []string{"one"}) {
			t.Fatalf("%s got %q, want one", to, got)
		}

		// The reply comes back through ReadFromAddrPort, as pion reads it.
		local := netip.AddrPortFrom(rx.LocalAddr().(*net.UDPAddr).AddrPort().Addr(), port)
		if _, err := rx.WriteToUDPAddrPort([]byte("reply"), local); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, from, err := bc.ReadFromAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf[:n]) != "reply" || from.Port() != to.Port() || from.Addr().Unmap() != to.Addr().Unmap() {
			t.Fatalf("read %q from %s, want reply from %s", buf[:n], from, to)
		}
		if to.Addr().Is4() && !from.Addr().Is4In6() {
			t.Errorf("an IPv4 peer on a dual-stack socket read as %s, want IPv4-mapped as net.UDPConn gives", from)
		}
	}

	var au auWrites
	au.start(bc, 1)
	to4 := v4.LocalAddr().(*net.UDPAddr).AddrPort()
	to6 := v6.LocalAddr().(*net.UDPAddr).AddrPort()
	for _, w := range []struct {
		p  string
		to netip.AddrPort
	}{{"a", to4}, {"b", to6}, {"c", to4}} {
		if _, err := bc.WriteToAddrPort([]byte(w.p), w.to); err != nil {
			t.Fatal(err)
		}
	}
	au.release(1)
	if got := received(t, v4, 200*time.Millisecond); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("IPv4 peer got %q from the batch, want a c", got)
	}
	if got := received(t, v6, 200*time.Millisecond); !slices.Equal(got, []string{"b"}) {
		t.Errorf("IPv6 peer got %q from the batch, want b", got)
	}
}

// A datagram the socket cannot send (an IPv6 peer on an IPv4 socket) is
// refused on its own: the rest of its batch still goes.
func TestRawUDPSkipsWhatItCannotSend(t *testing.T) {
	bc, rx := batchPair(t) // an IPv4-only socket
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	v6 := netip.MustParseAddrPort("[2001:db8::1]:9")
	if _, err := bc.WriteToAddrPort([]byte("x"), v6); err == nil {
		t.Error("an IPv6 peer on an IPv4 socket: no error")
	}

	var au auWrites
	au.start(bc, 1)
	for _, w := range []netip.AddrPort{to, v6, v6, to} {
		if _, err := bc.WriteToAddrPort([]byte(w.Addr().String()), w); err != nil {
			t.Fatal(err)
		}
	}
	au.release(1)
	if got := received(t, rx, 200*time.Millisecond); len(got) != 2 {
		t.Fatalf("got %q, want the two IPv4 datagrams around the refused ones", got)
	}
	if st := bc.stats(); st.packets != 2 {
		t.Errorf("stats %+v, want 2 packets sent", st)
	}
}

// A link-local peer's zone comes as the interface index (no lookup per
// datagram) and goes back to the same index; a zone given by name is
// looked up.
func TestRawUDPZonesAreInterfaceIndexes(t *testing.T) {
	s := &rawUDP{v6: true}
	in := unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: netip.MustParseAddr("fe80::1").As16(), Scope_id: 7}
	in.Port = htons(5000)
	from := fromSockaddr(&in)
	if from.Addr().Zone() != "7" || from.Port() != 5000 {
		t.Fatalf("read %s, want [fe80::1%%7]:5000", from)
	}
	var out unix.RawSockaddrInet6
	if _, err := s.sockaddr(&out, from); err != nil || out.Scope_id != 7 || ntohs(out.Port) != 5000 {
		t.Fatalf("sent to scope %d port %d (%v), want 7 and 5000", out.Scope_id, ntohs(out.Port), err)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no lo here")
	}
	if got := zoneIndex("lo"); got != uint32(lo.Index) {
		t.Errorf("zone lo: index %d, want %d", got, lo.Index)
	}
}
