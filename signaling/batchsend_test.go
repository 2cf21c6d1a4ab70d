package signaling

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// batchPair is a batchConn and a plain socket that receives what it sends.
func batchPair(t *testing.T) (*batchConn, *net.UDPConn) {
	t.Helper()
	a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return newBatchConn(a), b
}

// received reads what has arrived within wait.
func received(t *testing.T, c *net.UDPConn, wait time.Duration) []string {
	t.Helper()
	var got []string
	buf := make([]byte, 2048)
	for {
		_ = c.SetReadDeadline(time.Now().Add(wait))
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			return got
		}
		got = append(got, string(buf[:n]))
	}
}

// Outside an access unit a write goes out at once; inside one, packets wait
// for the last writer and then leave in one sendmmsg, in order; an AU that
// a writer never finishes is sent when the next starts.
func TestBatchConnSendsWhenTheAUIsDone(t *testing.T) {
	bc, rx := batchPair(t)
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	if _, err := bc.WriteToAddrPort([]byte("stun"), to); err != nil {
		t.Fatal(err)
	}
	if got := received(t, rx, 200*time.Millisecond); len(got) != 1 || got[0] != "stun" {
		t.Fatalf("a write outside an AU: got %q, want it at once", got)
	}

	var au auWrites
	au.start(bc, 2)
	for _, p := range []string{"a1", "a2", "b1"} {
		if _, err := bc.WriteToAddrPort([]byte(p), to); err != nil {
			t.Fatal(err)
		}
	}
	au.release(1)
	if got := received(t, rx, 100*time.Millisecond); len(got) != 0 {
		t.Fatalf("sent %q before the last viewer finished the AU", got)
	}
	au.release(1)
	if got := received(t, rx, 200*time.Millisecond); len(got) != 3 || got[0] != "a1" || got[2] != "b1" {
		t.Fatalf("after the AU: got %q, want a1 a2 b1", got)
	}
	if st := bc.stats(); st.calls != 1 || st.packets != 3 || (st.gso && st.segmented != 3) {
		t.Errorf("stats %+v, want 3 packets in 1 call (one segmented message with GSO)", st)
	}

	var stuck, next auWrites
	stuck.start(bc, 1)
	_, _ = bc.WriteToAddrPort([]byte("left"), to)
	next.start(bc, 1) // the viewer of stuck never released it
	if got := received(t, rx, 200*time.Millisecond); len(got) != 1 || got[0] != "left" {
		t.Fatalf("a stuck AU's packets: got %q, want them when the next AU starts", got)
	}
	stuck.release(1) // late: must not end the next AU early
	_, _ = bc.WriteToAddrPort([]byte("n1"), to)
	if got := received(t, rx, 100*time.Millisecond); len(got) != 0 {
		t.Fatalf("a late release of an old AU sent %q", got)
	}
	next.release(1)
	if got := received(t, rx, 200*time.Millisecond); len(got) != 1 || got[0] != "n1" {
		t.Fatalf("got %q, want n1", got)
	}
}

// A viewer's datagrams of one size leave as one segmented message (GSO)
// and arrive as the datagrams they were, in order, at the right viewer; a
// size change or a shorter datagram starts a new message. Without GSO the
// same queue goes one message per datagram.
func TestBatchConnSegmentsPerViewer(t *testing.T) {
	for _, gso := range []bool{true, false} {
		t.Run(map[bool]string{true: "gso", false: "no gso"}[gso], func(t *testing.T) {
			bc, rx1 := batchPair(t)
			if gso && !bc.gso {
				t.Skip("kernel without UDP_SEGMENT")
			}
			bc.gso = gso
			rx2, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rx2.Close() })
			to1 := rx1.LocalAddr().(*net.UDPAddr).AddrPort()
			to2 := rx2.LocalAddr().(*net.UDPAddr).AddrPort()
			pkt := func(tag byte, n int) []byte { return bytes.Repeat([]byte{tag}, n) }
			// Viewer 1: a 1,216-byte first packet (capture time on it),
			// two of 1,200, a short last one, then the next AU's first.
			// Viewer 2's packets come between them.
			writes := []struct {
				to netip.AddrPort
				p  []byte
			}{
				{to1, pkt('a', 1216)}, {to2, pkt('x', 1200)}, {to1, pkt('b', 1200)},
				{to1, pkt('c', 1200)}, {to2, pkt('y', 300)}, {to1, pkt('d', 700)},
				{to1, pkt('e', 1200)}, {to2, pkt('z', 1200)},
			}
			var au auWrites
			au.start(bc, 1)
			for _, w := range writes {
				if _, err := bc.WriteToAddrPort(w.p, w.to); err != nil {
					t.Fatal(err)
				}
			}
			au.release(1)
			summary := func(got []string) []string {
				var s []string
				for _, g := range got {
					s = append(s, fmt.Sprintf("%c%d", g[0], len(g)))
				}
				return s
			}
			if got, want := summary(received(t, rx1, 200*time.Millisecond)), []string{"a1216", "b1200", "c1200", "d700", "e1200"}; !slices.Equal(got, want) {
				t.Errorf("viewer 1 got %v, want %v", got, want)
			}
			if got, want := summary(received(t, rx2, 200*time.Millisecond)), []string{"x1200", "y300", "z1200"}; !slices.Equal(got, want) {
				t.Errorf("viewer 2 got %v, want %v", got, want)
			}
			st := bc.stats()
			// With GSO: viewer 1 [a b] (a shorter one may end a message)
			// [c d] [e], viewer 2 [x y] [z].
			wantSeg := map[bool]uint64{true: 6, false: 0}[gso]
			if st.packets != 8 || st.segmented != wantSeg || st.calls != 1 {
				t.Errorf("stats %+v, want 8 packets (%d segmented) in 1 call", st, wantSeg)
			}
		})
	}
}

// A kernel whose route cannot segment (EIO: some kernels say so for a
// device without checksum offload, which some WiFi chips lack) refuses the
// segmented message: its datagrams still go out, one by one, and GSO stays
// off from then on. This machine's kernel segments in software instead,
// so the refusal is made here, at the send.
func TestBatchConnFallsBackWhenGSOIsRefused(t *testing.T) {
	bc, rx := batchPair(t)
	if !bc.gso {
		t.Skip("kernel without UDP_SEGMENT")
	}
	real := bc.writeBatch
	refused := 0
	bc.writeBatch = func(ms []ipv4.Message, flags int) (int, error) {
		if len(ms[0].OOB) > 0 {
			refused++
			return 0, &net.OpError{Op: "sendmmsg", Err: os.NewSyscallError("sendmmsg", unix.EIO)}
		}
		return real(ms, flags)
	}
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	send := func(ps ...string) {
		var au auWrites
		au.start(bc, 1)
		for _, p := range ps {
			if _, err := bc.WriteToAddrPort([]byte(p), to); err != nil {
				t.Fatal(err)
			}
		}
		au.release(1)
	}
	send("p1", "p2", "p3")
	if got := received(t, rx, 200*time.Millisecond); !slices.Equal(got, []string{"p1", "p2", "p3"}) {
		t.Fatalf("after a refused segmented send got %q, want p1 p2 p3", got)
	}
	send("q1", "q2")
	if got := received(t, rx, 200*time.Millisecond); !slices.Equal(got, []string{"q1", "q2"}) {
		t.Fatalf("next AU got %q, want q1 q2", got)
	}
	if st := bc.stats(); refused != 1 || st.gso || st.packets != 5 || st.segmented != 0 {
		t.Errorf("refused %d times, stats %+v: want one refusal, GSO off, 5 packets none segmented", refused, st)
	}
}
