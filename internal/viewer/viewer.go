// Package viewer is a real WebRTC receiving client (pion) for pipcam's
// signaling endpoints: WHEP (plain, or the way Mainsail/Fluidd's MediaMTX
// mode does it) and camera-streamer's /webrtc in both flavours. It
// reassembles H.264 access units from RTP, so tests and the benchmark see
// what a browser's decoder would get.
package viewer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/media"
)

// Options configures a Viewer. The zero value works.
type Options struct {
	// HTTPClient makes the signaling requests (nil: a new client).
	HTTPClient *http.Client
	// Mainsail makes DialWHEP behave like Mainsail/Fluidd's "WebRTC
	// (MediaMTX)" mode: OPTIONS first, video+audio sendrecv transceivers,
	// POST the offer before gathering completes, then PATCH each local
	// candidate as an application/trickle-ice-sdpfrag. The session URL is
	// the endpoint plus Location's last segment, as Mainsail builds it;
	// without Mainsail it is Location resolved against the POST URL, as
	// Fluidd and browsers do.
	Mainsail bool
	// Fluidd is Mainsail's flavour with the session URL resolved as a
	// browser does (Fluidd, MediaMTX's own reader): new URL(Location,
	// endpoint).
	Fluidd bool
	// AUBuffer is the length of the AUs channel (0 → 256). When it is full
	// further AUs are counted but not delivered (Stats.AUsUndelivered).
	AUBuffer int
	// OnAU, if set, is called for every received access unit from the RTP
	// reading goroutine (keep it short).
	OnAU func(AU)
	// SettingEngine, if set, adjusts pion's settings (loopback candidates
	// are included by default).
	SettingEngine func(*webrtc.SettingEngine)
	// Header is added to every signaling request (e.g. Origin).
	Header http.Header
	Logger *slog.Logger
	// RemoteSDP, if set, edits the server's offer or answer before it is
	// applied (a test routes the server's candidates through a relay).
	RemoteSDP func(sdp string) string
	// NoPLIOnLoss: do not ask for a keyframe when an AU is lost for good
	// (browsers do).
	NoPLIOnLoss bool
	// REMB, if set, makes a viewer of the older kind: it offers no
	// transport-wide congestion control and reports REMB instead, the
	// value REMB returns (bit/s), twice a second.
	REMB func() float32
	// OnRTP, if set, sees every video RTP packet as it is read, before
	// reassembly (duplicates and retransmissions included).
	OnRTP func(*rtp.Packet)
	// Silent makes a viewer that sends nothing back about the video: no
	// NACK, receiver report, keyframe request or congestion feedback (its
	// ICE checks go on as usual). The bench measures with a crowd of them
	// what sending costs the server, apart from hearing the viewers.
	Silent bool
	// OnRTCP, if set, sees every RTCP packet the server sends about the
	// video (sender reports), as pion's receiver reads them.
	OnRTCP func(rtcp.Packet)
}

// AU is one received access unit in Annex-B form.
type AU struct {
	Data         []byte
	RTPTimestamp uint32
	Arrival      time.Time
	Keyframe     bool // contains an IDR slice
	Decodable    bool // SPS + PPS + IDR: a decoder can start here
	// Capture is when the server says the picture was taken (its
	// abs-capture-time header extension; zero without one).
	Capture time.Time
	// RefLost: an AU before it was lost and no keyframe came since, so a
	// decoder shows it damaged or not at all.
	RefLost bool
}

// Latency is capture to arrival (0 without a capture time). Both clocks
// are wall clocks: across machines it is as good as their NTP sync.
func (au AU) Latency() time.Duration {
	if au.Capture.IsZero() {
		return 0
	}
	return au.Arrival.Sub(au.Capture)
}

// Stats are the viewer's counters.
type Stats struct {
	Packets        uint64
	Bytes          uint64 // RTP payload bytes
	AUs            uint64
	Keyframes      uint64
	Gaps           uint64 // AUs lost: a packet of theirs never came, not even retransmitted
	AUsUndelivered uint64 // AUs not put on the channel because it was full
}

// Viewer is one connected (or connecting) receiving peer.
type Viewer struct {
	opts   Options
	client *http.Client
	log    *slog.Logger
	pc     *webrtc.PeerConnection

	started      time.Time
	sessionURL   string // WHEP resource, for PATCH and DELETE
	etag         string // WHEP ETag, sent as If-Match (as Mainsail does)
	remoteSDP    string
	aus          chan AU
	connected    chan struct{}
	connOnce     sync.Once
	firstDecOnce sync.Once
	firstDec     chan struct{}
	firstDecAt   atomic.Int64 // unix nanos

	mu        sync.Mutex
	videoSSRC uint32

	packets, bytes, nAUs, keyframes, gaps, undelivered atomic.Uint64

	wg        sync.WaitGroup
	closed    bool // under mu: no new goroutines
	done      chan struct{}
	closeOnce sync.Once
}

// spawn runs f as a goroutine that Close waits for, unless closing.
func (v *Viewer) spawn(f func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		f()
	}()
}

func newViewer(opts Options, video, audio webrtc.RTPTransceiverDirection) (*Viewer, error) {
	if opts.AUBuffer <= 0 {
		opts.AUBuffer = 256
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	v := &Viewer{
		opts:      opts,
		client:    opts.HTTPClient,
		log:       opts.Logger.With("component", "viewer"),
		started:   time.Now(),
		aus:       make(chan AU, opts.AUBuffer),
		connected: make(chan struct{}),
		firstDec:  make(chan struct{}),
		done:      make(chan struct{}),
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: 15 * time.Second}
	}
	// A browser-like engine: the default codecs (VP8, VP9, H.264 variants,
	// AV1, Opus…) so the server has to pick its H.264 out of many.
	feedback := transportFeedback
	switch {
	case opts.Silent:
		feedback = noFeedback
	case opts.REMB != nil:
		feedback = rembFeedback
	}
	me, reg, err := browserEngine(feedback)
	if err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	if opts.SettingEngine != nil {
		opts.SettingEngine(&se)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("create peer connection: %w", err)
	}
	v.pc = pc
	if err := addTransceiver(pc, webrtc.RTPCodecTypeVideo, video); err != nil {
		_ = pc.Close()
		return nil, err
	}
	if audio != webrtc.RTPTransceiverDirectionUnknown {
		if err := addTransceiver(pc, webrtc.RTPCodecTypeAudio, audio); err != nil {
			_ = pc.Close()
			return nil, err
		}
	}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			v.connOnce.Do(func() { close(v.connected) })
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
		if tr.Kind() != webrtc.RTPCodecTypeVideo {
			return
		}
		v.mu.Lock()
		v.videoSSRC = uint32(tr.SSRC())
		v.mu.Unlock()
		captureID := headerExtensionID(rcv, absCaptureTimeURI)
		v.spawn(func() { v.readVideo(tr, captureID) })
		if opts.REMB != nil {
			v.spawn(func() { v.sendREMB(uint32(tr.SSRC()), opts.REMB) })
		}
		if opts.OnRTCP != nil {
			v.spawn(func() { readRTCP(rcv, opts.OnRTCP) })
		}
	})
	return v, nil
}

// readRTCP hands the receiver's RTCP to f until the receiver stops.
func readRTCP(rcv *webrtc.RTPReceiver, f func(rtcp.Packet)) {
	for {
		pkts, _, err := rcv.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			f(p)
		}
	}
}

// AUs delivers received access units (bounded; see Options.AUBuffer). It is
// never closed; select on it with a context.
func (v *Viewer) AUs() <-chan AU { return v.aus }

// Connected is closed when the PeerConnection first reaches connected.
func (v *Viewer) Connected() <-chan struct{} { return v.connected }

// FirstDecodable is closed when the first decodable AU (SPS+PPS+IDR) arrived.
func (v *Viewer) FirstDecodable() <-chan struct{} { return v.firstDec }

// FirstDecodableAt is the arrival time of the first decodable AU, or the
// zero time if none arrived yet.
func (v *Viewer) FirstDecodableAt() time.Time {
	n := v.firstDecAt.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Started is when the dial began (before any signaling request).
func (v *Viewer) Started() time.Time { return v.started }

// SessionURL is the WHEP resource URL ("" for camera-streamer).
func (v *Viewer) SessionURL() string { return v.sessionURL }

// RemoteSDP is the server's answer (or offer, for a camera-streamer request).
func (v *Viewer) RemoteSDP() string { return v.remoteSDP }

// PeerConnection exposes the pion peer for tests that need more.
func (v *Viewer) PeerConnection() *webrtc.PeerConnection { return v.pc }

// Stats returns the counters.
func (v *Viewer) Stats() Stats {
	return Stats{
		Packets:        v.packets.Load(),
		Bytes:          v.bytes.Load(),
		AUs:            v.nAUs.Load(),
		Keyframes:      v.keyframes.Load(),
		Gaps:           v.gaps.Load(),
		AUsUndelivered: v.undelivered.Load(),
	}
}

// SendPLI asks the server for a keyframe, as a decoder that lost its
// reference would.
func (v *Viewer) SendPLI() error {
	v.mu.Lock()
	ssrc := v.videoSSRC
	v.mu.Unlock()
	if ssrc == 0 {
		return errors.New("send PLI: no video track yet")
	}
	if err := v.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		return fmt.Errorf("send PLI: %w", err)
	}
	return nil
}

// SendRTCP sends raw, already marshalled RTCP (a compound packet) on the
// video track's transport, for tests of what a server does with packets
// it cannot parse.
func (v *Viewer) SendRTCP(raw []byte) error {
	if err := v.pc.WriteRTCP([]rtcp.Packet{(*rtcp.RawPacket)(&raw)}); err != nil {
		return fmt.Errorf("send RTCP: %w", err)
	}
	return nil
}

// VideoSSRC is the SSRC of the video track (0: none yet).
func (v *Viewer) VideoSSRC() uint32 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.videoSSRC
}

// SendNACK reports the video packets with these sequence numbers lost.
func (v *Viewer) SendNACK(seqs ...uint16) error {
	v.mu.Lock()
	ssrc := v.videoSSRC
	v.mu.Unlock()
	if ssrc == 0 {
		return errors.New("send NACK: no video track yet")
	}
	nack := &rtcp.TransportLayerNack{MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}
	if err := v.pc.WriteRTCP([]rtcp.Packet{nack}); err != nil {
		return fmt.Errorf("send NACK: %w", err)
	}
	return nil
}

// WaitFirstDecodable waits for the first decodable AU or ctx's end.
func (v *Viewer) WaitFirstDecodable(ctx context.Context) error {
	select {
	case <-v.firstDec:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for first decodable access unit (stats %+v): %w", v.Stats(), ctx.Err())
	}
}

// Close ends the peer (and the WHEP session with a DELETE when there is
// one) and waits for the viewer's goroutines.
func (v *Viewer) Close() error {
	var err error
	v.closeOnce.Do(func() {
		v.mu.Lock()
		v.closed = true
		v.mu.Unlock()
		close(v.done)
		if v.sessionURL != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = v.deleteSession(ctx)
			cancel()
		}
		if cerr := v.pc.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close peer connection: %w", cerr))
		}
		v.wg.Wait()
	})
	return err
}

func (v *Viewer) deleteSession(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, v.sessionURL, nil)
	if err != nil {
		return fmt.Errorf("WHEP DELETE: %w", err)
	}
	v.addHeaders(req)
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("WHEP DELETE %s: %w", v.sessionURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("WHEP DELETE %s: %s", v.sessionURL, resp.Status)
	}
	return nil
}

func (v *Viewer) addHeaders(req *http.Request) {
	for k, vs := range v.opts.Header {
		for _, x := range vs {
			req.Header.Add(k, x)
		}
	}
}

// deliver records one reassembled access unit.
func (v *Viewer) deliver(au AU) {
	v.nAUs.Add(1)
	if au.Keyframe {
		v.keyframes.Add(1)
	}
	if au.Decodable {
		v.firstDecOnce.Do(func() {
			v.firstDecAt.Store(au.Arrival.UnixNano())
			close(v.firstDec)
		})
	}
	if v.opts.OnAU != nil {
		v.opts.OnAU(au)
	}
	select {
	case v.aus <- au:
	default:
		v.undelivered.Add(1)
	}
}

func isKeyframe(annexB []byte) bool {
	for _, t := range media.Types(annexB) {
		if t == media.NALIDR {
			return true
		}
	}
	return false
}

// addTransceiver adds a transceiver like a browser's addTransceiver(kind,
// {direction}). A browser needs no track for sendrecv; pion needs one, and
// pion (as offerer) starts every sender it offered even when the answer
// rejects the m-line, so the track is a silentTrack whose Bind never fails.
func addTransceiver(pc *webrtc.PeerConnection, kind webrtc.RTPCodecType, dir webrtc.RTPTransceiverDirection) error {
	init := webrtc.RTPTransceiverInit{Direction: dir}
	if dir == webrtc.RTPTransceiverDirectionRecvonly || dir == webrtc.RTPTransceiverDirectionInactive {
		if _, err := pc.AddTransceiverFromKind(kind, init); err != nil {
			return fmt.Errorf("add %s transceiver: %w", kind, err)
		}
		return nil
	}
	if _, err := pc.AddTransceiverFromTrack(&silentTrack{kind: kind}, init); err != nil {
		return fmt.Errorf("add %s transceiver: %w", kind, err)
	}
	return nil
}

// silentTrack is a local track that never sends: the "send" half of a
// sendrecv transceiver that a browser would leave without a track.
type silentTrack struct{ kind webrtc.RTPCodecType }

func (t *silentTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	if c := ctx.CodecParameters(); len(c) > 0 {
		return c[0], nil
	}
	return webrtc.RTPCodecParameters{}, nil
}
func (t *silentTrack) Unbind(webrtc.TrackLocalContext) error { return nil }
func (t *silentTrack) ID() string                            { return t.kind.String() }
func (t *silentTrack) RID() string                           { return "" }
func (t *silentTrack) StreamID() string                      { return "viewer" }
func (t *silentTrack) Kind() webrtc.RTPCodecType             { return t.kind }
