package viewer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

const (
	sdpType     = "application/sdp"
	sdpFragType = "application/trickle-ice-sdpfrag"
	maxReply    = 1 << 20
)

// DialWHEP connects to baseURL+"/whep". Without Options.Mainsail or
// Options.Fluidd it offers one recvonly video transceiver with all
// candidates (gathering complete); with them, it behaves like their
// MediaMTX mode (see Options.Mainsail).
func DialWHEP(ctx context.Context, baseURL string, opts Options) (*Viewer, error) {
	dirV, dirA := webrtc.RTPTransceiverDirectionRecvonly, webrtc.RTPTransceiverDirectionUnknown
	if opts.Fluidd {
		opts.Mainsail = true
	}
	if opts.Mainsail {
		dirV, dirA = webrtc.RTPTransceiverDirectionSendrecv, webrtc.RTPTransceiverDirectionSendrecv
	}
	return dial(ctx, opts, dirV, dirA, strings.TrimRight(baseURL, "/")+"/whep", (*Viewer).dialWHEP)
}

// dial makes a viewer with the given transceivers and runs one signaling
// flavour against endpoint; a viewer that fails to connect is closed.
func dial(ctx context.Context, opts Options, video, audio webrtc.RTPTransceiverDirection, endpoint string,
	signal func(*Viewer, context.Context, string) error) (*Viewer, error) {
	v, err := newViewer(opts, video, audio)
	if err != nil {
		return nil, err
	}
	if err := signal(v, ctx, endpoint); err != nil {
		_ = v.Close()
		return nil, err
	}
	return v, nil
}

// setRemote applies the server's description, edited by Options.RemoteSDP
// when set.
func (v *Viewer) setRemote(typ webrtc.SDPType, sdp string) error {
	if v.opts.RemoteSDP != nil {
		sdp = v.opts.RemoteSDP(sdp)
	}
	return v.pc.SetRemoteDescription(webrtc.SessionDescription{Type: typ, SDP: sdp})
}

// offerGathered creates the local offer and waits until its candidates are
// all in it (non-trickle clients send the SDP once, complete).
func (v *Viewer) offerGathered(ctx context.Context) (string, error) {
	offer, err := v.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(v.pc)
	if err := v.pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("gather candidates: %w", ctx.Err())
	}
	return v.pc.LocalDescription().SDP, nil
}

func (v *Viewer) dialWHEP(ctx context.Context, endpoint string) error {
	if v.opts.Mainsail {
		resp, err := v.do(ctx, http.MethodOptions, endpoint, "", nil)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("WHEP OPTIONS %s: %s (Mainsail restarts on anything but 204)", endpoint, resp.Status)
		}
	}
	// Trickle: candidates found before the session URL is known are queued
	// and PATCHed once it is, one request per candidate like Mainsail.
	var (
		tmu     sync.Mutex
		queued  []webrtc.ICECandidateInit
		ready   bool
		trickle = make(chan webrtc.ICECandidateInit, 64)
	)
	if v.opts.Mainsail {
		v.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c == nil {
				return
			}
			init := c.ToJSON()
			tmu.Lock()
			defer tmu.Unlock()
			if !ready {
				queued = append(queued, init)
				return
			}
			select {
			case trickle <- init:
			default:
			}
		})
	}
	var body string
	var gathered <-chan struct{}
	if v.opts.Mainsail { // POST at once; candidates follow by PATCH
		offer, err := v.pc.CreateOffer(nil)
		if err != nil {
			return fmt.Errorf("create offer: %w", err)
		}
		gathered = webrtc.GatheringCompletePromise(v.pc)
		if err := v.pc.SetLocalDescription(offer); err != nil {
			return fmt.Errorf("set local description: %w", err)
		}
		body = offer.SDP
	} else {
		var err error
		if body, err = v.offerGathered(ctx); err != nil {
			return err
		}
	}
	resp, err := v.do(ctx, http.MethodPost, endpoint, sdpType, []byte(body))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("WHEP POST %s: %s: %s", endpoint, resp.Status, strings.TrimSpace(string(resp.body)))
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return fmt.Errorf("WHEP POST %s: 201 without Location", endpoint)
	}
	if v.sessionURL, err = sessionURL(endpoint, loc, v.opts.Mainsail && !v.opts.Fluidd); err != nil {
		return err
	}
	v.etag = resp.Header.Get("ETag")
	v.remoteSDP = string(resp.body)
	if err := v.setRemote(webrtc.SDPTypeAnswer, v.remoteSDP); err != nil {
		return fmt.Errorf("apply WHEP answer: %w", err)
	}
	if !v.opts.Mainsail {
		return nil
	}
	ufrag, pwd := iceCredentials(body)
	tmu.Lock()
	early := queued
	queued, ready = nil, true
	tmu.Unlock()
	for _, c := range early {
		if err := v.patchCandidate(ctx, ufrag, pwd, c); err != nil {
			return err
		}
	}
	// Later candidates: one goroutine, ended by Close (gathering finishes
	// long before; the channel is drained until the peer closes).
	patch := func(c webrtc.ICECandidateInit) {
		pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := v.patchCandidate(pctx, ufrag, pwd, c); err != nil {
			v.log.Warn("trickle candidate", "err", err)
		}
	}
	v.spawn(func() {
		for {
			select {
			case <-v.done:
				return
			case c := <-trickle:
				patch(c)
			case <-gathered:
				// Drain what is left, then stop.
				for {
					select {
					case c := <-trickle:
						patch(c)
					default:
						return
					}
				}
			}
		}
	})
	return nil
}

// sessionURL is where PATCH and DELETE go. A browser (Fluidd, MediaMTX's
// own reader: new URL(Location, endpoint)) resolves Location against the
// POST URL; Mainsail takes Location's last segment and appends it to the
// endpoint.
func sessionURL(endpoint, loc string, mainsail bool) (string, error) {
	if mainsail {
		return strings.TrimRight(endpoint, "/") + "/" + loc[strings.LastIndexByte(loc, '/')+1:], nil
	}
	base, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("parse endpoint: %w", err)
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("WHEP Location %q: %w", loc, err)
	}
	return base.ResolveReference(ref).String(), nil
}

// patchCandidate sends one candidate as MediaMTX's web reader (and
// Mainsail, which copies it) does.
func (v *Viewer) patchCandidate(ctx context.Context, ufrag, pwd string, c webrtc.ICECandidateInit) error {
	mid := "0"
	if c.SDPMid != nil {
		mid = *c.SDPMid
	}
	kind := "video"
	if c.SDPMLineIndex != nil && *c.SDPMLineIndex == 1 {
		kind = "audio"
	}
	frag := "a=ice-ufrag:" + ufrag + "\r\n" +
		"a=ice-pwd:" + pwd + "\r\n" +
		"m=" + kind + " 9 UDP/TLS/RTP/SAVPF 0\r\n" +
		"a=mid:" + mid + "\r\n" +
		"a=" + c.Candidate + "\r\n"
	resp, err := v.do(ctx, http.MethodPatch, v.sessionURL, sdpFragType, []byte(frag), "If-Match", v.etag)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("WHEP PATCH %s: %s (Mainsail restarts on anything but 204)", v.sessionURL, resp.Status)
	}
	return nil
}

func iceCredentials(sdpText string) (ufrag, pwd string) {
	for _, l := range strings.Split(sdpText, "\n") {
		l = strings.TrimSpace(l)
		if u, ok := strings.CutPrefix(l, "a=ice-ufrag:"); ok && ufrag == "" {
			ufrag = u
		}
		if p, ok := strings.CutPrefix(l, "a=ice-pwd:"); ok && pwd == "" {
			pwd = p
		}
	}
	return ufrag, pwd
}

// csMsg is camera-streamer's JSON message, both directions.
type csMsg struct {
	Type       string                    `json:"type"`
	ID         string                    `json:"id,omitempty"`
	SDP        string                    `json:"sdp,omitempty"`
	ICEServers []json.RawMessage         `json:"iceServers,omitempty"`
	KeepAlive  bool                      `json:"keepAlive,omitempty"`
	Candidates []webrtc.ICECandidateInit `json:"candidates,omitempty"`
	Error      string                    `json:"error,omitempty"`
}

// DialCameraStreamerRequest connects like Mainsail's camera-streamer mode:
// {"type":"request"} → server offer → answer → trickle via remote_candidate,
// every body sent as text/plain;charset=UTF-8.
func DialCameraStreamerRequest(ctx context.Context, baseURL string, opts Options) (*Viewer, error) {
	// The recvonly video transceiver is matched to the server's sendonly
	// video m-line when the offer is applied.
	return dial(ctx, opts, webrtc.RTPTransceiverDirectionRecvonly, webrtc.RTPTransceiverDirectionUnknown,
		strings.TrimRight(baseURL, "/")+"/webrtc", (*Viewer).dialCSRequest)
}

func (v *Viewer) dialCSRequest(ctx context.Context, endpoint string) error {
	const ct = "text/plain;charset=UTF-8"
	var offer csMsg
	if err := v.postJSON(ctx, endpoint, ct, map[string]any{
		"type": "request", "iceServers": []any{}, "keepAlive": true,
	}, &offer); err != nil {
		return err
	}
	if offer.Type != "offer" || offer.ID == "" || offer.SDP == "" {
		return fmt.Errorf("camera-streamer request: unexpected reply type=%q id=%q", offer.Type, offer.ID)
	}
	if offer.ICEServers == nil {
		return errors.New("camera-streamer request: reply has no iceServers (Mainsail would not trickle)")
	}
	v.remoteSDP = offer.SDP
	// Candidates go out in order after the answer, through one goroutine.
	cands := make(chan webrtc.ICECandidateInit, 64)
	v.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		select {
		case cands <- c.ToJSON():
		default:
		}
	})
	if err := v.setRemote(webrtc.SDPTypeOffer, offer.SDP); err != nil {
		return fmt.Errorf("apply camera-streamer offer: %w", err)
	}
	answer, err := v.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(v.pc)
	if err := v.pc.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	var empty map[string]any
	if err := v.postJSON(ctx, endpoint, ct, csMsg{Type: "answer", ID: offer.ID, SDP: v.pc.LocalDescription().SDP}, &empty); err != nil {
		return err
	}
	v.spawn(func() {
		send := func(c webrtc.ICECandidateInit) {
			pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var e map[string]any
			if err := v.postJSON(pctx, endpoint, ct, csMsg{Type: "remote_candidate", ID: offer.ID, Candidates: []webrtc.ICECandidateInit{c}}, &e); err != nil {
				v.log.Warn("trickle candidate", "err", err)
			}
		}
		for {
			select {
			case <-v.done:
				return
			case c := <-cands:
				send(c)
			case <-gathered:
				for {
					select {
					case c := <-cands:
						send(c)
					default:
						return
					}
				}
			}
		}
	})
	return nil
}

// DialCameraStreamerOffer connects like OctoPrint 1.11's classic webcam:
// the client offers video recvonly plus audio recvonly, sent as
// application/json; charset=UTF-8, and gets {"type":"answer"} back.
func DialCameraStreamerOffer(ctx context.Context, baseURL string, opts Options) (*Viewer, error) {
	return dial(ctx, opts, webrtc.RTPTransceiverDirectionRecvonly, webrtc.RTPTransceiverDirectionRecvonly,
		strings.TrimRight(baseURL, "/")+"/webrtc", (*Viewer).dialCSOffer)
}

func (v *Viewer) dialCSOffer(ctx context.Context, endpoint string) error {
	sdpOffer, err := v.offerGathered(ctx)
	if err != nil {
		return err
	}
	var ans csMsg
	if err := v.postJSON(ctx, endpoint, "application/json; charset=UTF-8",
		csMsg{Type: "offer", SDP: sdpOffer}, &ans); err != nil {
		return err
	}
	if ans.Type != "answer" || ans.SDP == "" {
		return fmt.Errorf("camera-streamer offer: unexpected reply type=%q", ans.Type)
	}
	v.remoteSDP = ans.SDP
	if err := v.setRemote(webrtc.SDPTypeAnswer, ans.SDP); err != nil {
		return fmt.Errorf("apply camera-streamer answer: %w", err)
	}
	return nil
}

type reply struct {
	StatusCode int
	Status     string
	Header     http.Header
	body       []byte
}

// do sends one signaling request; extra is header name, value pairs.
func (v *Viewer) do(ctx context.Context, method, u, contentType string, body []byte, extra ...string) (*reply, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	v.addHeaders(req)
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read reply: %w", method, u, err)
	}
	return &reply{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header, body: b}, nil
}

func (v *Viewer) postJSON(ctx context.Context, endpoint, contentType string, msg, out any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	resp, err := v.do(ctx, http.MethodPost, endpoint, contentType, b)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", endpoint, resp.Status, strings.TrimSpace(string(resp.body)))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("POST %s: reply Content-Type %q, want application/json (Fluidd checks it)", endpoint, ct)
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		return fmt.Errorf("POST %s: decode reply: %w", endpoint, err)
	}
	return nil
}
