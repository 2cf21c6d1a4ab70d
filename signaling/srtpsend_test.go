package signaling

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// A packet written at the socket arrives as SRTP that the viewer's keys
// decrypt to the packet, with the negotiated payload type; the shared
// payload is left as it was.
func TestRTPEncryptedAtTheSocket(t *testing.T) {
	bc, rx := batchPair(t)
	c := sameKeyContexts(t, 2)
	send, recv := c[0], c[1]
	out := newSRTPOut(send, bc, rx.LocalAddr().(*net.UDPAddr).AddrPort(), 102)
	payload := bytes.Repeat([]byte{0x65}, 1000)
	for seq := uint16(65534); seq != 2; seq++ { // across a rollover
		p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: 90000, SSRC: 42}, Payload: payload}
		if err := setExtension(&p.Header, 3, []byte{1, 2}); err != nil {
			t.Fatal(err)
		}
		if err := out.write(p); err != nil {
			t.Fatal(err)
		}
		got := received(t, rx, 500*time.Millisecond)
		if len(got) != 1 {
			t.Fatalf("seq %d: %d datagrams arrived, want 1", seq, len(got))
		}
		plain, err := recv.DecryptRTP(nil, []byte(got[0]), nil)
		if err != nil {
			t.Fatalf("seq %d: the viewer's keys do not decrypt it: %v", seq, err)
		}
		var back rtp.Packet
		if err := back.Unmarshal(plain); err != nil {
			t.Fatal(err)
		}
		if back.SequenceNumber != seq || back.PayloadType != 102 || back.SSRC != 42 || !bytes.Equal(back.Payload, payload) ||
			!bytes.Equal(back.GetExtension(3), []byte{1, 2}) {
			t.Fatalf("seq %d came as seq %d, pt %d, ssrc %d, %d payload bytes, extension %x",
				seq, back.SequenceNumber, back.PayloadType, back.SSRC, len(back.Payload), back.GetExtension(3))
		}
	}
	if !bytes.Equal(payload, bytes.Repeat([]byte{0x65}, 1000)) {
		t.Error("encrypting changed the shared payload")
	}
}

// A new UDP pair moves the packets there; a TCP pair hands them back to
// pion while pipcam's rollover counter is 0, and ends the session after.
func TestSenderLeavesTheSocketOnlyBeforeARollover(t *testing.T) {
	bc, rx := batchPair(t)
	rx2, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx2.Close()
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	for _, rollover := range []bool{false, true} {
		send := sameKeyContexts(t, 1)[0]
		s := &rtpSender{ssrc: 42, out: newSRTPOut(send, bc, to, 102)}
		seqs := []uint16{100, 101}
		if rollover {
			seqs = []uint16{65535, 0}
		}
		for _, seq := range seqs {
			p := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, SSRC: 42}, Payload: []byte{1}}
			if err := s.out.write(p); err != nil {
				t.Fatal(err)
			}
		}
		received(t, rx, 100*time.Millisecond)
		if err := s.retarget(rx2.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil || !s.atSocket() {
			t.Fatalf("to another UDP pair: %v, at socket %v", err, s.atSocket())
		}
		if err := s.out.write(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seqs[1] + 1, SSRC: 42}}); err != nil {
			t.Fatal(err)
		}
		if got := received(t, rx2, 500*time.Millisecond); len(got) != 1 {
			t.Fatalf("%d datagrams at the new pair's address, want 1", len(got))
		}
		err := s.retarget(netip.AddrPort{}) // a TCP pair
		if s.atSocket() {
			t.Error("still at the socket on a TCP pair")
		}
		if rollover != errors.Is(err, errRolledOver) {
			t.Errorf("rolled over %v: retarget to TCP said %v", rollover, err)
		}
	}
}
