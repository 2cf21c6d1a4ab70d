package signaling

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"maps"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/srtp/v3"

	"github.com/pipcam/pipcam/signaling/congestion"
)

// Transport-wide feedback read at the socket.
//
// Every viewer sends transport-wide congestion feedback about ten times a
// second. Through pion each datagram passes four goroutines (the UDP mux,
// the candidate's read loop, the DTLS/SRTP demux, the SRTCP session)
// before the estimate sees it: with a crowd, half of what the viewers cost
// the daemon. So the ICE socket's reader decrypts a viewer's feedback
// itself and hands it to the estimate; pion never sees it. Everything
// else (NACK, PLI, receiver reports, REMB, STUN, DTLS) goes to pion as
// before, and so does any viewer whose keys are not known: pipcam was the
// DTLS client, or the first datagram did not decrypt.
//
// The keys come from pion's DTLS hooks: the key log gives the client
// random and the master secret, pipcam's own ServerHello the server
// random, cipher suite and SRTP profile (pipcam answers as the DTLS
// server). From them the DTLS-SRTP exporter (RFC 5764, section 4.2)
// gives the viewer's SRTCP key and salt. They stay in memory, never in a
// log or in status.

// srtpKeys collects one viewer's handshake secrets from pion's hooks.
type srtpKeys struct {
	mu           sync.Mutex
	clientRandom []byte
	master       []byte
	serverRandom []byte
	suite        uint16
	profile      srtp.ProtectionProfile
}

// Write takes pion's key log: "CLIENT_RANDOM <hex> <hex>" lines.
func (k *srtpKeys) Write(p []byte) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) != 3 || string(f[0]) != "CLIENT_RANDOM" {
			continue
		}
		cr, err1 := hex.DecodeString(string(f[1]))
		ms, err2 := hex.DecodeString(string(f[2]))
		if err1 != nil || err2 != nil {
			continue
		}
		k.mu.Lock()
		k.clientRandom, k.master = cr, ms
		k.mu.Unlock()
	}
	return len(p), nil
}

// serverHello notes what pipcam's ServerHello chose; the message goes out
// unchanged.
func (k *srtpKeys) serverHello(m handshake.MessageServerHello) handshake.Message {
	random := m.Random.MarshalFixed()
	k.mu.Lock()
	k.serverRandom = random[:]
	if m.CipherSuiteID != nil {
		k.suite = *m.CipherSuiteID
	}
	for _, e := range m.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) > 0 {
			k.profile = srtp.ProtectionProfile(u.ProtectionProfiles[0])
		}
	}
	k.mu.Unlock()
	return &m
}

var errKeysIncomplete = errors.New("the handshake's secrets are not all known")

// contexts are SRTP contexts with the viewer's (the DTLS client's) write
// keys, which decrypt what the viewer sends, and with pipcam's, which
// encrypt what it is sent (srtpsend.go). The secrets are dropped once
// they are made.
func (k *srtpKeys) contexts() (viewer, local *srtp.Context, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.master == nil || k.serverRandom == nil || k.profile == 0 {
		return nil, nil, errKeysIncomplete
	}
	keyLen, err := k.profile.KeyLen()
	if err != nil {
		return nil, nil, err
	}
	saltLen, err := k.profile.SaltLen()
	if err != nil {
		return nil, nil, err
	}
	seed := append([]byte("EXTRACTOR-dtls_srtp"), k.clientRandom...)
	seed = append(seed, k.serverRandom...)
	km, err := prf.PHash(k.master, seed, 2*(keyLen+saltLen), prfHash(k.suite))
	if err != nil {
		return nil, nil, err
	}
	clear(k.master)
	k.master, k.clientRandom, k.serverRandom = nil, nil, nil
	// client key, server key, client salt, server salt
	clientKey, serverKey := km[:keyLen], km[keyLen:2*keyLen]
	clientSalt, serverSalt := km[2*keyLen:2*keyLen+saltLen], km[2*keyLen+saltLen:]
	if viewer, err = srtp.CreateContext(clientKey, clientSalt, k.profile); err != nil {
		return nil, nil, err
	}
	if local, err = srtp.CreateContext(serverKey, serverSalt, k.profile); err != nil {
		return nil, nil, err
	}
	return viewer, local, nil
}

// prfHash is the TLS 1.2 PRF's hash for a cipher suite: SHA-384 for the
// *_SHA384 suites, SHA-256 for every other suite pion offers.
func prfHash(suite uint16) func() hash.Hash {
	switch suite {
	case 0xc02c, 0xc030: // ECDHE_{ECDSA,RSA}_WITH_AES_256_GCM_SHA384
		return sha512.New384
	}
	return sha256.New
}

// feedbackTap is one viewer's feedback read at the socket.
type feedbackTap struct {
	mu    sync.Mutex // the reader's; held while ctx, buf and fb are in use
	ctx   *srtp.Context
	buf   []byte
	fb    congestion.Feedback
	fails int
	feed  func(*congestion.Feedback, time.Time)

	off   atomic.Bool   // the keys did not fit: pion reads this viewer
	taken atomic.Uint64 // feedback packets read here
}

// tapFailures is how many datagrams in a row that look like feedback may
// fail to decrypt before the tap gives up (a replayed or damaged one may).
const tapFailures = 3

// take reads d as the viewer's feedback if it is transport-wide feedback
// alone (one packet or a compound of them) and decrypts with the viewer's
// keys; false: pion gets d.
func (t *feedbackTap) take(d []byte, now time.Time) bool {
	if t.off.Load() {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	plain, err := t.ctx.DecryptRTCP(t.buf[:0], d, nil)
	if err != nil {
		if t.fails++; t.fails >= tapFailures {
			t.off.Store(true)
		}
		return false
	}
	t.buf = plain[:0]
	t.fails = 0 // a stray damaged or replayed datagram is not wrong keys
	// Checked whole before any is fed: a compound with anything else in
	// it, or one pion could not read either (it skips and counts that,
	// rtcp.go), goes to pion.
	n := 0
	for rest := plain; len(rest) > 0; n++ {
		size, err := t.fb.Parse(rest)
		if err != nil {
			return false
		}
		rest = rest[size:]
	}
	if n == 1 { // the usual: t.fb holds it
		t.feed(&t.fb, now)
	} else {
		for rest := plain; len(rest) > 0; {
			size, _ := t.fb.Parse(rest)
			t.feed(&t.fb, now)
			rest = rest[size:]
		}
	}
	t.taken.Add(uint64(n))
	return true
}

// looksLikeFeedback: an SRTCP packet whose first RTCP header (sent in the
// clear) is a transport-layer feedback of format 15, transport-wide CC.
func looksLikeFeedback(d []byte) bool {
	return len(d) >= 20 && congestion.IsFeedback(d)
}

// feedbackTaps maps each tapped viewer's address to its tap. The reader
// loads the map without a lock; changes copy it.
type feedbackTaps struct {
	mu sync.Mutex
	m  atomic.Pointer[map[netip.AddrPort]*feedbackTap]
}

func tapKey(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap().WithZone(""), a.Port())
}

// set points addr at t (nil: removes addr).
func (f *feedbackTaps) set(addr netip.AddrPort, t *feedbackTap) {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := map[netip.AddrPort]*feedbackTap{}
	if cur := f.m.Load(); cur != nil {
		next = maps.Clone(*cur)
	}
	if t == nil {
		delete(next, tapKey(addr))
	} else {
		next[tapKey(addr)] = t
	}
	f.m.Store(&next)
}

// take reads d from addr as feedback if a tap wants it (the clock is read
// only for datagrams that might be).
func (f *feedbackTaps) take(d []byte, from netip.AddrPort) bool {
	if !looksLikeFeedback(d) {
		return false
	}
	m := f.m.Load()
	if m == nil {
		return false
	}
	t := (*m)[tapKey(from)]
	return t != nil && t.take(d, time.Now())
}

// updateTap points the socket reader, and the viewer's sender
// (srtpsend.go), at the viewer's selected UDP pair once its keys are
// known (called when the pair changes and when the peer connects); a TCP
// pair, or the session's end, takes them away.
func (ss *session) updateTap() {
	if ss.keys == nil {
		return
	}
	ss.mu.Lock()
	closed := ss.closed
	ss.mu.Unlock()
	ss.tapMu.Lock()
	defer ss.tapMu.Unlock()
	taps := &ss.srv.ice.batch.taps
	var addr netip.AddrPort
	if p := ss.pair.Load(); p != nil && p.Protocol == "udp" && !closed {
		addr, _ = netip.ParseAddrPort(p.Remote) // an unparsable one stays with pion
	}
	if ss.tapAddr.IsValid() && ss.tapAddr != addr {
		taps.set(ss.tapAddr, nil)
		ss.tapAddr = netip.AddrPort{}
	}
	if sub := ss.subscriber(); sub != nil && !closed {
		if err := sub.w.tx.retarget(addr); err != nil {
			ss.log.Warn("ending the session: the viewer must reconnect", "err", err)
			ss.close("pair changed to ICE-TCP")
		}
	}
	if !addr.IsValid() {
		return
	}
	t := ss.tap.Load()
	if t == nil {
		viewer, local, err := ss.keys.contexts()
		if err != nil {
			return // handshake not done yet, or pipcam was the DTLS client
		}
		t = &feedbackTap{ctx: viewer, feed: ss.bw.transportFeedback}
		ss.localSRTP = local
		ss.tap.Store(t)
	}
	taps.set(addr, t)
	ss.tapAddr = addr
}

// feedbackAtSocket is how many feedback packets the socket reader took.
func (ss *session) feedbackAtSocket() uint64 {
	if t := ss.tap.Load(); t != nil {
		return t.taken.Load()
	}
	return 0
}
