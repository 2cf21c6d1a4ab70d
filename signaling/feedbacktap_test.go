package signaling

import (
	"crypto/rand"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/srtp/v3"

	"github.com/pipcam/pipcam/internal/viewer"
	"github.com/pipcam/pipcam/signaling/congestion"
)

// A viewer's transport-wide feedback is read at the socket with the keys
// its handshake gave (status counts it there) and drives its estimate,
// while its PLI still goes through pion and reaches the source.
func TestTransportWideFeedbackIsReadAtTheSocket(t *testing.T) {
	src := newReplaySource(t)
	knobs := &encoderKnobs{}
	_, base := adaptiveServer(t, src, knobs)
	v := dialWatch(t, base, viewer.Options{})
	waitFor(t, 10*time.Second, "feedback read at the socket, and a transport-wide estimate", func() bool {
		st := getStatus(t, base)
		return len(st.Sessions) == 1 && st.Sessions[0].AtSocket > 10 &&
			st.Sessions[0].EstimateSource == "twcc" && st.Sessions[0].EstimateKbps > 0
	})
	before := src.requests.Load()
	if err := v.SendPLI(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a PLI through pion while the feedback is read at the socket", func() bool { return src.requests.Load() > before })
}

// The bench's silent viewer (viewer.Options.Silent), with which it
// measures what sending alone costs, gets pictures, yet its session sees
// no feedback and no keyframe request, while a usual viewer's beside it
// does.
func TestASilentViewerSendsNothingBack(t *testing.T) {
	_, base := adaptiveServer(t, newReplaySource(t), &encoderKnobs{})
	dialWatch(t, base, viewer.Options{Silent: true})
	silent := getStatus(t, base).Sessions[0].ID
	dialWatch(t, base, viewer.Options{})
	waitFor(t, 10*time.Second, "the usual viewer's feedback at the socket", func() bool {
		for _, s := range getStatus(t, base).Sessions {
			if s.ID != silent && s.AtSocket > 10 {
				return true
			}
		}
		return false
	})
	for _, s := range getStatus(t, base).Sessions {
		if s.ID == silent && (s.AtSocket != 0 || s.EstimateSource != "" || s.KeyRequests != 0) {
			t.Fatalf("the silent viewer's session heard from it: %+v", s)
		}
	}
}

// tapPair is a tap with random keys and a context that encrypts for it, as
// the viewer's would.
func tapPair(t *testing.T) (*feedbackTap, *srtp.Context, *[]uint16) {
	tap, tx, _, fed := tapKeys(t)
	return tap, tx, fed
}

// tapKeys is tapPair with a second receiving context, as pion's would be.
// The tap's packets are listed by their base sequence numbers.
func tapKeys(t *testing.T) (*feedbackTap, *srtp.Context, *srtp.Context, *[]uint16) {
	t.Helper()
	c := sameKeyContexts(t, 3)
	rx, tx, pion := c[0], c[1], c[2]
	var fed []uint16
	return &feedbackTap{ctx: rx, feed: func(fb *congestion.Feedback, _ time.Time) { fed = append(fed, fb.Base()) }}, tx, pion, &fed
}

// sameKeyContexts are n SRTP contexts (AES-256-GCM) with one random key
// and salt: a sender and its receivers.
func sameKeyContexts(t *testing.T, n int) []*srtp.Context {
	t.Helper()
	prof := srtp.ProtectionProfileAeadAes256Gcm
	keyLen, _ := prof.KeyLen()
	saltLen, _ := prof.SaltLen()
	key, salt := make([]byte, keyLen), make([]byte, saltLen)
	_, _ = rand.Read(key)
	_, _ = rand.Read(salt)
	cs := make([]*srtp.Context, n)
	for i := range cs {
		c, err := srtp.CreateContext(key, salt, prof)
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = c
	}
	return cs
}

func sealRTCP(t *testing.T, tx *srtp.Context, pkts ...rtcp.Packet) []byte {
	t.Helper()
	plain, err := rtcp.Marshal(pkts)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := tx.EncryptRTCP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// twcc is a transport-wide feedback packet reporting one packet, its
// header filled in as pion's sender interceptor fills it.
func twcc(base uint16) *rtcp.TransportLayerCC {
	p := &rtcp.TransportLayerCC{
		SenderSSRC: 1, MediaSSRC: 2, BaseSequenceNumber: base, PacketStatusCount: 1, ReferenceTime: 1, FbPktCount: uint8(base),
		PacketChunks: []rtcp.PacketStatusChunk{&rtcp.RunLengthChunk{PacketStatusSymbol: rtcp.TypeTCCPacketReceivedSmallDelta, RunLength: 1}},
		RecvDeltas:   []*rtcp.RecvDelta{{Type: rtcp.TypeTCCPacketReceivedSmallDelta, Delta: 250}},
	}
	p.Header = rtcp.Header{Padding: true, Count: rtcp.FormatTCC, Type: rtcp.TypeTransportSpecificFeedback, Length: uint16(p.MarshalSize()/4 - 1)} //nolint:gosec // a few words
	return p
}

// The tap takes a transport-wide feedback packet alone; a compound with
// anything else in it, a datagram from an address it does not know, and
// one it cannot decrypt go to pion; after a few in a row that do not
// decrypt it gives the viewer back to pion for good.
func TestFeedbackTapTakesOnlyFeedbackItCanRead(t *testing.T) {
	tap, tx, pion, fed := tapKeys(t)
	var taps feedbackTaps
	viewerAddr := netip.MustParseAddrPort("192.0.2.7:5000")
	taps.set(viewerAddr, tap)

	alone := sealRTCP(t, tx, twcc(1))
	if !looksLikeFeedback(alone) {
		t.Fatal("a sealed transport-wide feedback packet does not look like one")
	}
	other := netip.MustParseAddrPort("192.0.2.8:5000")
	if taps.take(alone, other) {
		t.Fatal("took feedback from an address with no tap")
	}
	mapped := netip.AddrPortFrom(netip.MustParseAddr("::ffff:192.0.2.7"), 5000) // as the dual-stack socket reports it
	if !taps.take(alone, mapped) || len(*fed) != 1 || (*fed)[0] != 1 {
		t.Fatalf("feedback alone: fed %v, want the packet", *fed)
	}
	compound := sealRTCP(t, tx, twcc(2), &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2})
	if taps.take(compound, viewerAddr) {
		t.Fatal("took a compound with a PLI in it: the PLI would never reach pion")
	}
	if len(*fed) != 1 {
		t.Fatal("fed part of a compound it gave to pion")
	}
	if _, err := pion.DecryptRTCP(nil, compound, nil); err != nil {
		t.Fatalf("pion cannot decrypt the compound the tap gave back: %v", err)
	}
	if !taps.take(sealRTCP(t, tx, twcc(3), twcc(4)), viewerAddr) || !slices.Equal(*fed, []uint16{1, 3, 4}) {
		t.Fatalf("a compound of two feedback packets: fed %v, want 1, 3, 4", *fed)
	}
	if taps.take(sealRTCP(t, tx, &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2}), viewerAddr) {
		t.Fatal("took a PLI")
	}

	_, strangerTx, _ := tapPair(t) // other keys: as if derived wrongly
	// Failures count only in a row: one that decrypts in between starts
	// the count again.
	fail := func(n int) {
		t.Helper()
		for range n {
			if taps.take(sealRTCP(t, strangerTx, twcc(30)), viewerAddr) {
				t.Fatal("took feedback it cannot have decrypted")
			}
		}
	}
	fail(tapFailures - 1)
	if !taps.take(sealRTCP(t, tx, twcc(5)), viewerAddr) {
		t.Fatal("gave up after fewer failures in a row than tapFailures")
	}
	fail(tapFailures - 1)
	if tap.off.Load() {
		t.Fatalf("gave up after %d failures with a success among them", 2*(tapFailures-1))
	}
	fail(1)
	if !tap.off.Load() {
		t.Fatalf("still tapping after %d datagrams in a row that did not decrypt", tapFailures)
	}
	if taps.take(sealRTCP(t, tx, twcc(20)), viewerAddr) {
		t.Fatal("a tap that gave up took feedback again")
	}
	taps.set(viewerAddr, nil)
	if m := taps.m.Load(); m == nil || len(*m) != 0 {
		t.Fatal("the tap was not removed")
	}
}
