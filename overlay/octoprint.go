package overlay

import (
	"context"
	"log/slog"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// octoPrint is the OctoPrint source: its push socket, with REST polling as
// the fall-back (transport auto), or either alone.
type octoPrint struct {
	follower
	model octoModel // owned by run's goroutine
}

func newOctoPrint(cfg configs.Printer, getenv func(string) string, timing sourceTiming, log *slog.Logger) (*octoPrint, error) {
	f, err := newFollower("OctoPrint", cfg, getenv, timing, log)
	if err != nil {
		return nil, err
	}
	return &octoPrint{follower: f}, nil
}

func (s *octoPrint) initial() Status {
	return Status{Source: "OctoPrint", State: StateConnecting, StateText: "Connecting to OctoPrint"}
}

func (s *octoPrint) run(ctx context.Context, report func(Status, Link)) {
	s.follow(ctx, report, s.session)
}

// session reads OctoPrint on one transport; it needs the key.
func (s *octoPrint) session(ctx context.Context, transport configs.PrinterTransport, key configs.Secret, pollUntil time.Time) (bool, error) {
	if key == "" {
		return false, unauthorized("API key", errNoKey)
	}
	if transport == configs.TransportPoll {
		return s.pollSession(ctx, key, pollUntil)
	}
	return s.pushSession(ctx, key)
}

// publish reports the model: OctoPrint is up.
func (s *octoPrint) publish(transport string) { s.up(s.model.status(), transport) }

// pollSession asks /api/job and /api/printer every pollInterval.
func (s *octoPrint) pollSession(ctx context.Context, key configs.Secret, until time.Time) (bool, error) {
	return s.pollEvery(ctx, until,
		func() error { return s.client.poll(ctx, key, &s.model) },
		func() { s.publish(string(configs.TransportPoll)) })
}
