// Package signaling is pipcam's HTTP face: WHEP, camera-streamer's /webrtc
// JSON, the status and layout API, the pion peers and the fan-out that hands
// the one H.264 encode to every viewer.
package signaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/cors"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/configs"
)

// Defaults for the zero values of Options.
const (
	DefaultMaxViewers          = configs.DefaultMaxViewers
	DefaultMaxPendingPerClient = 16
	defaultGatherTimeout       = 3 * time.Second
	defaultConnectTimeout      = 10 * time.Second
	defaultSTUNWait            = 100 * time.Millisecond
	maxBodyBytes               = 64 << 10
	rejectLogWindow            = 10 * time.Second
	rejectLogBurst             = 5
)

// Options configures a Server. Source is required; everything else may be
// left zero.
type Options struct {
	Source VideoSource
	Layout LayoutControl // nil: /api/layout answers 501
	// Overlay is the overlay's look; nil: /api/overlay answers 501.
	Overlay OverlayControl
	// Push starts and stops pushes (nil: /api/push answers 501);
	// Recordings lists and serves the print recordings (nil: recording
	// is off, /api/recordings answers 404). See outputs.go.
	Push       PushControl
	Recordings RecordingStore
	// Reports add their figures to /api/status, each under its own key
	// ("graph", "overlay"…; not "viewers", "sessions" or "stream").
	Reports map[string]StatusReporter
	HTTP    configs.HTTP
	WebRTC  configs.WebRTC
	Logger  *slog.Logger

	// MaxViewers caps concurrent sessions (0 → DefaultMaxViewers); beyond it
	// new sessions get 503.
	MaxViewers int
	// MaxPending caps sessions that have not connected yet (0 → a quarter
	// of MaxViewers), so they cannot take the places of real viewers;
	// MaxPendingPerClient caps them per client address (0 →
	// DefaultMaxPendingPerClient; beyond it 429).
	MaxPending          int
	MaxPendingPerClient int
	// GatherTimeout bounds the wait for ICE gathering before an answer or
	// offer is sent (0 → 3 s).
	GatherTimeout time.Duration
	// STUNWait bounds the wait for each STUN server's reply when gathering
	// server-reflexive candidates (0 → 100 ms; a STUN server answers in one round trip): an unreachable STUN server
	// (a printer without internet, given Mainsail's Google STUN) must not
	// hold up the offer.
	STUNWait time.Duration
	// ConnectTimeout reaps a session that has not connected by then
	// (0 → 10 s).
	ConnectTimeout time.Duration
	// QueueAUs is each viewer's queue length in access units (0 → 32, about
	// 2 s at 15 fps). A viewer whose queue is full drops to the next keyframe.
	QueueAUs int
	// Timeouts of the http.Server that HTTPServer returns (zero fields →
	// defaults).
	Timeouts Timeouts
	// SettingEngine, if set, is called on the SettingEngine after pipcam's
	// own settings (loopback candidates on, mDNS off, ICE timeouts and
	// acceptance waits), e.g. to restrict interfaces or ports.
	SettingEngine func(*webrtc.SettingEngine)
	// Adaptation lets viewers' congestion control set the encoder's
	// bitrate (zero: it stays as configured).
	Adaptation Adaptation
}

// Server serves WebRTC viewers from one VideoSource. It is safe for
// concurrent use; Close ends every session and goroutine it started.
type Server struct {
	opts    Options
	log     *slog.Logger
	peers   *peerAPI
	ice     *icePort
	fan     *fanout
	adapt   *adaptation // nil: no bandwidth adaptation
	rejects rejectLog

	router        chi.Router
	controlRoutes chi.Router // matched only: tells control preflights apart
	viewCORS      *cors.Cors
	controlCORS   *cors.Cors
	layout        *liveSetting[configs.Layout]  // nil without Options.Layout
	overlayStyle  *liveSetting[configs.Overlay] // nil without Options.Overlay

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the server or its sessions start

	mu        sync.Mutex
	sessions  map[string]*session
	pending   int            // sessions not connected yet (admission.go)
	pendingBy map[string]int // the same per client address
	// unprompt releases the source's Prompt, held while there are sessions.
	unprompt func()
	certs    certificates
	closed   bool
}

// New builds a Server and starts its fan-out. The server lives until Close
// or until ctx ends.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Source == nil {
		return nil, errors.New("signaling: Options.Source is required")
	}
	for name := range o.Reports {
		if slices.Contains(statusKeys, name) || name == "" {
			return nil, fmt.Errorf("signaling: status report name %q is taken", name)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxViewers <= 0 {
		o.MaxViewers = DefaultMaxViewers
	}
	if o.MaxPending <= 0 {
		o.MaxPending = max(1, o.MaxViewers/4)
	}
	if o.MaxPendingPerClient <= 0 {
		o.MaxPendingPerClient = DefaultMaxPendingPerClient
	}
	if o.GatherTimeout <= 0 {
		o.GatherTimeout = defaultGatherTimeout
	}
	if o.STUNWait <= 0 {
		o.STUNWait = defaultSTUNWait
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = defaultConnectTimeout
	}
	if o.QueueAUs <= 0 {
		o.QueueAUs = 32
	}
	o.Timeouts = o.Timeouts.withDefaults()
	log := o.Logger.With("component", "signaling")
	port, err := listenICE(int(o.WebRTC.ICEPort), o.WebRTC.AdditionalHosts, logging.NewDefaultLoggerFactory(), log)
	if err != nil {
		return nil, fmt.Errorf("signaling: %w", err)
	}
	peers, err := newPeerAPI(o.STUNWait, o.Adaptation.ccSettings(), port.apply, o.SettingEngine)
	if err != nil {
		_ = port.Close()
		return nil, fmt.Errorf("signaling: create WebRTC API: %w", err)
	}
	s := &Server{
		opts:      o,
		log:       log,
		peers:     peers,
		ice:       port,
		rejects:   rejectLog{log: log, t: newThrottle(rejectLogWindow, rejectLogBurst), now: time.Now},
		sessions:  map[string]*session{},
		pendingBy: map[string]int{},
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.fan = newFanout(o.Source, s.log)
	s.fan.batch = port.batch
	if o.Adaptation.enabled() {
		s.adapt = newAdaptation(o.Adaptation, log.With("part", "adaptation"))
		s.fan.tick = s.adapt.tick
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.adapt.run(s.ctx, s)
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.fan.run(s.ctx)
	}()
	// A parent context that ends closes the sessions too.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-s.ctx.Done()
		s.closeSessions()
	}()
	if o.Layout != nil {
		s.layout = newLiveSetting("layout", o.Layout.Layout, o.Layout.SetLayout)
	}
	if o.Overlay != nil {
		s.overlayStyle = newLiveSetting("overlay style", o.Overlay.OverlayStyle, o.Overlay.SetOverlayStyle)
	}
	s.newCORS()
	s.router = s.routes()
	return s, nil
}

// Handler is the HTTP handler of every endpoint signaling serves.
func (s *Server) Handler() http.Handler { return s.router }

// Close ends every session, stops the fan-out and waits for all goroutines.
func (s *Server) Close() {
	s.cancel()
	s.closeSessions()
	s.wg.Wait()
	if err := s.ice.Close(); err != nil {
		s.log.Warn("close ICE port", "err", err)
	}
}

// forwarding lists the sessions that are receiving media.
func (s *Server) forwarding() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		if ss.subscriber() != nil {
			out = append(out, ss)
		}
	}
	return out
}

func (s *Server) closeSessions() {
	s.mu.Lock()
	s.closed = true
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	for _, ss := range all {
		ss.close("server closing")
	}
}
