package signaling

import (
	"net"
	"testing"
	"time"
)

// batchPair is a batchConn and a plain socket that receives what it sends.
func batchPair(t *testing.T) (*batchConn, *net.UDPConn) {
	t.Helper()
	b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return listenBatch(t, "udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}), b
}

// listenBatch is a batchConn on a new socket, closed when the test ends.
func listenBatch(t *testing.T, network string, laddr *net.UDPAddr) *batchConn {
	t.Helper()
	sock, err := net.ListenUDP(network, laddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sock.Close() })
	bc, err := newBatchConn(sock)
	if err != nil {
		t.Fatal(err)
	}
	return bc
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
	if st := bc.stats(); st.calls != 1 || st.packets != 3 {
		t.Errorf("stats %+v, want 3 packets in 1 call", st)
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
