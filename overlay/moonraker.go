package overlay

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// moonraker is the Moonraker source (Klipper printers): its websocket's
// JSON-RPC subscription to Klipper's objects, with polling its HTTP API as
// the fall-back (transport auto), or either alone. The API key is
// optional: Moonraker trusts the clients its config names (trusted_clients),
// and wants the key from the others.
type moonraker struct {
	follower
	// Owned by run's goroutine.
	model       moonModel
	resubscribe bool // Klippy's state changed: subscribe again
}

// errKlippyGone: Moonraker answered that Klippy is not connected (503)
// between asking its state and its objects.
var errKlippyGone = errors.New("not connected to Klippy")

func newMoonraker(cfg configs.Printer, getenv func(string) string, timing sourceTiming, log *slog.Logger) (*moonraker, error) {
	f, err := newFollower("Moonraker", cfg, getenv, timing, log)
	if err != nil {
		return nil, err
	}
	return &moonraker{follower: f}, nil
}

func (s *moonraker) initial() Status {
	return Status{Source: "Moonraker", State: StateConnecting, StateText: "Connecting to Moonraker"}
}

func (s *moonraker) run(ctx context.Context, report func(Status, Link)) {
	s.follow(ctx, report, s.session)
}

// session reads Moonraker on one transport. Refused without a key, it
// says a key is needed.
func (s *moonraker) session(ctx context.Context, transport configs.PrinterTransport, key configs.Secret, pollUntil time.Time) (bool, error) {
	s.model.newSession()
	var up bool
	var err error
	if transport == configs.TransportPoll {
		up, err = s.pollSession(ctx, key, pollUntil)
	} else {
		up, err = s.pushSession(ctx, key)
	}
	var le *linkError
	if key == "" && errors.As(err, &le) && le.state == StateUnauthorized {
		err = unauthorized(le.what, errNoKey)
	}
	return up, err
}

// publish reports the model: Moonraker is up.
func (s *moonraker) publish(transport configs.PrinterTransport) {
	s.up(s.model.status(), string(transport))
}

// canAnswer reports whether Klippy answers object queries: ready, or
// stopped (shutdown, error) but connected.
func canAnswer(i serverInfo) bool {
	switch i.KlippyState {
	case "ready", "shutdown", "error":
		return i.KlippyConnected
	}
	return false
}
