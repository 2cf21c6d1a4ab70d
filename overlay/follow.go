package overlay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// sourceTiming holds the waits of a printer server source. The tests run
// with these values too, except one that shortens pushRetry.
type sourceTiming struct {
	timeout      time.Duration // one REST call or the socket handshake
	pollInterval time.Duration
	pingInterval time.Duration // push: how often the socket is pinged
	pingTimeout  time.Duration // push: how long a pong may take
	backoffMin   time.Duration
	backoffMax   time.Duration
	pushRetry    time.Duration // auto: how long to poll before trying the socket again
}

// A dead or hung server shows within 3 s: a poll comes at most 1 s after
// the last answer and gives up 1.5 s later; a socket that stops answering
// is found by the next ping (1 s) failing (1.5 s).
var defaultTiming = sourceTiming{
	timeout:      1500 * time.Millisecond,
	pollInterval: time.Second,
	pingInterval: time.Second,
	pingTimeout:  1500 * time.Millisecond,
	backoffMin:   time.Second,
	backoffMax:   10 * time.Second,
	pushRetry:    5 * time.Minute,
}

var (
	errNoKey = fmt.Errorf("no API key: set printer.api_key, printer.api_key_file or $%s", configs.PrinterAPIKeyEnv)
	// errReauth: the server asked for a new login on the socket.
	errReauth = errors.New("asked to log in again")
	// errTryPush ends a fall-back poll session (auto) to try the socket again.
	errTryPush = errors.New("time to try the push socket again")
)

// session reads the server on one transport until something fails; up
// says whether it got a status through first.
type session func(ctx context.Context, transport configs.PrinterTransport, key configs.Secret, pollUntil time.Time) (up bool, err error)

// follower is what the OctoPrint and Moonraker sources share: the loop
// that runs sessions on the configured transport (auto: the push socket,
// polling while it cannot be used) and, when one fails, says why and
// tries again after a growing wait; the link state; logs once per reason.
type follower struct {
	name   string // "OctoPrint", "Moonraker": in the texts and the log
	cfg    configs.Printer
	client *apiClient
	log    *slog.Logger
	getenv func(string) string
	timing sourceTiming

	// Owned by run's goroutine.
	report   func(Status, Link)
	link     Link
	key      configs.Secret // as last resolved, for scrubbing messages
	lastDown string
}

func newFollower(name string, cfg configs.Printer, getenv func(string) string, timing sourceTiming, log *slog.Logger) (follower, error) {
	base, err := url.Parse(cfg.URL)
	if err != nil {
		return follower{}, fmt.Errorf("printer.url: %w", err)
	}
	return follower{
		name:   name,
		cfg:    cfg,
		client: newAPIClient(base, timing.timeout),
		log:    log.With("printer", string(cfg.Type), "url", base.Redacted()),
		getenv: getenv,
		timing: timing,
	}, nil
}

// follow runs sessions until ctx ends.
func (f *follower) follow(ctx context.Context, report func(Status, Link), run session) {
	defer f.client.http.CloseIdleConnections()
	f.report = report
	bo := backoff{min: f.timing.backoffMin, max: f.timing.backoffMax}
	var pollUntil time.Time
	for {
		transport := f.cfg.Transport
		if transport == configs.TransportAuto {
			transport = configs.TransportPush
			if time.Now().Before(pollUntil) {
				transport = configs.TransportPoll
			}
		}
		up, err := f.runSession(ctx, run, transport, pollUntil)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errTryPush):
			continue
		case errors.Is(err, errNoSocket) && f.cfg.Transport == configs.TransportAuto:
			f.log.Warn(f.name+"'s push socket cannot be used; polling its REST API", "error", scrub(err.Error(), f.key), "retry_push_in", f.timing.pushRetry)
			pollUntil = time.Now().Add(f.timing.pushRetry)
			continue
		case errors.Is(err, errReauth):
			f.log.Info(f.name + " asked to log in again on the push socket")
		case up:
			bo.reset()
		}
		if !errors.Is(err, errReauth) {
			f.down(err)
		}
		if !sleep(ctx, bo.wait()) {
			return
		}
	}
}

// runSession resolves the key (read again each time: a rotated key file is
// picked up) and runs one session.
func (f *follower) runSession(ctx context.Context, run session, transport configs.PrinterTransport, pollUntil time.Time) (bool, error) {
	key, err := f.cfg.ResolveAPIKey(f.getenv)
	if err != nil {
		return false, unauthorized("API key", err)
	}
	f.key = key
	return run(ctx, transport, key, pollUntil)
}

// pollEvery runs poll every pollInterval, publishing after each, until it
// fails or ctx ends; in auto mode it ends at until (errTryPush), for the
// socket to be tried again.
func (f *follower) pollEvery(ctx context.Context, until time.Time, poll func() error, publish func()) (bool, error) {
	t := time.NewTicker(f.timing.pollInterval)
	defer t.Stop()
	for up := false; ; up = true {
		if !until.IsZero() && time.Now().After(until) {
			return up, errTryPush
		}
		if err := poll(); err != nil {
			return up, err
		}
		publish()
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-t.C:
		}
	}
}

// up reports st: the server is read.
func (f *follower) up(st Status, transport string) {
	if !f.link.Connected {
		f.log.Info("reading "+f.name, "transport", transport)
		f.lastDown = ""
	}
	f.link.Connected, f.link.Transport = true, transport
	f.report(st, f.link)
}

// down reports why the server cannot be read; logged once per reason.
func (f *follower) down(err error) {
	var le *linkError
	if !errors.As(err, &le) {
		le = offline(f.name, err)
	}
	msg := scrub(err.Error(), f.key)
	st := Status{Source: f.name, State: le.state, StateText: f.downText(le.state), Message: msg}
	if errors.Is(err, errNoKey) {
		st.StateText = f.name + ": no API key"
	}
	f.link = Link{Transport: f.link.Transport, LastError: msg, ErrorAt: time.Now()}
	if msg != f.lastDown {
		f.log.Warn("cannot read "+f.name, "state", st.StateText, "error", msg)
		f.lastDown = msg
	}
	f.report(st, f.link)
}

// downText is what the overlay says when the server cannot be read.
func (f *follower) downText(s State) string {
	switch s {
	case StateUnauthorized:
		return f.name + ": API key rejected"
	case StateBadReply:
		return f.name + ": bad reply"
	}
	return f.name + " offline"
}
