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
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/configs"
)

// Defaults for the zero values of Options.
const (
	DefaultMaxViewers     = 100
	defaultGatherTimeout  = 3 * time.Second
	defaultConnectTimeout = 30 * time.Second
	maxBodyBytes          = 64 << 10
)

// Options configures a Server. Source is required; everything else may be
// left zero.
type Options struct {
	Source VideoSource
	Layout LayoutControl  // nil: /api/layout answers 501
	Status StatusReporter // nil: "graph" is null in /api/status
	HTTP   configs.HTTP
	WebRTC configs.WebRTC
	Logger *slog.Logger

	// MaxViewers caps concurrent sessions (0 → DefaultMaxViewers); beyond it
	// new sessions get 503.
	MaxViewers int
	// GatherTimeout bounds the wait for ICE gathering before an answer or
	// offer is sent (0 → 3 s).
	GatherTimeout time.Duration
	// ConnectTimeout reaps a session that has not connected by then
	// (0 → 30 s).
	ConnectTimeout time.Duration
	// QueueAUs is each viewer's queue length in access units (0 → 32, about
	// 2 s at 15 fps). A viewer whose queue is full drops to the next keyframe.
	QueueAUs int
	// SettingEngine, if set, is called on the SettingEngine after pipcam's
	// own settings (loopback candidates on, mDNS query-only, ICE timeouts),
	// e.g. to restrict interfaces or ports.
	SettingEngine func(*webrtc.SettingEngine)
}

// Server serves WebRTC viewers from one VideoSource. It is safe for
// concurrent use; Close ends every session and goroutine it started.
type Server struct {
	opts   Options
	log    *slog.Logger
	api    *webrtc.API
	fan    *fanout
	router chi.Router

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the server or its sessions start

	mu       sync.Mutex
	sessions map[string]*session
	certs    certificates
	closed   bool
}

// New builds a Server and starts its fan-out. The server lives until Close
// or until ctx ends.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.Source == nil {
		return nil, errors.New("signaling: Options.Source is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxViewers <= 0 {
		o.MaxViewers = DefaultMaxViewers
	}
	if o.GatherTimeout <= 0 {
		o.GatherTimeout = defaultGatherTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = defaultConnectTimeout
	}
	if o.QueueAUs <= 0 {
		o.QueueAUs = 32
	}
	api, err := newAPI(o.SettingEngine)
	if err != nil {
		return nil, fmt.Errorf("signaling: create WebRTC API: %w", err)
	}
	s := &Server{
		opts:     o,
		log:      o.Logger.With("component", "signaling"),
		api:      api,
		sessions: map[string]*session{},
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.fan = newFanout(o.Source, s.log)
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
	s.router = s.routes()
	return s, nil
}

func (s *Server) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(cors)
	r.Options("/whep", s.onWHEPOptions)
	r.Post("/whep", s.onWHEPPost)
	r.Options("/whep/{id}", s.onPreflight)
	r.Patch("/whep/{id}", s.onWHEPPatch)
	r.Delete("/whep/{id}", s.onWHEPDelete)
	r.Options("/webrtc", s.onPreflight)
	r.Post("/webrtc", s.onCameraStreamer)
	r.Options("/api/status", s.onPreflight)
	r.Get("/api/status", s.onStatus)
	r.Options("/api/layout", s.onPreflight)
	r.Get("/api/layout", s.onLayoutGet)
	r.With(s.requireToken).Put("/api/layout", s.onLayoutPut)
	s.mediaRoutes(r)
	return r
}

// Handler is the HTTP handler of every endpoint signaling serves.
func (s *Server) Handler() http.Handler { return s.router }

// Close ends every session, stops the fan-out and waits for all goroutines.
func (s *Server) Close() {
	s.cancel()
	s.closeSessions()
	s.wg.Wait()
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
