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

// octoTiming holds the waits of the OctoPrint source. The tests run with
// these values too, except one that shortens pushRetry.
type octoTiming struct {
	timeout      time.Duration // one REST call or the socket handshake
	pollInterval time.Duration
	pingInterval time.Duration // push: how often the socket is pinged
	pingTimeout  time.Duration // push: how long a pong may take
	backoffMin   time.Duration
	backoffMax   time.Duration
	pushRetry    time.Duration // auto: how long to poll before trying the socket again
}

// A dead or hung OctoPrint shows within 3 s: a poll comes at most 1 s
// after the last answer and gives up 1.5 s later; a socket that stops
// answering is found by the next ping (1 s) failing (1.5 s).
var defaultOctoTiming = octoTiming{
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
	// errReauth: OctoPrint asked for a new login on the socket.
	errReauth = errors.New("OctoPrint asked to log in again")
	// errTryPush ends a fall-back poll session (auto) to try the socket again.
	errTryPush = errors.New("time to try the push socket again")
)

// downText is what the overlay says when OctoPrint cannot be read.
var downText = map[State]string{
	StateSourceOffline: "OctoPrint offline",
	StateUnauthorized:  "OctoPrint: API key rejected",
	StateBadReply:      "OctoPrint: bad reply",
}

// octoPrint is the OctoPrint source: its push socket, with REST polling as
// the fall-back (transport auto), or either alone.
type octoPrint struct {
	cfg    configs.Printer
	client *octoClient
	log    *slog.Logger
	getenv func(string) string
	timing octoTiming

	// Owned by run's goroutine.
	report   func(Status, Link)
	model    octoModel
	link     Link
	key      configs.Secret // as last resolved, for scrubbing messages
	lastDown string
}

func newOctoPrint(cfg configs.Printer, getenv func(string) string, timing octoTiming, log *slog.Logger) (*octoPrint, error) {
	base, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("printer.url: %w", err)
	}
	return &octoPrint{
		cfg:    cfg,
		client: newOctoClient(base, timing.timeout),
		log:    log.With("printer", "octoprint", "url", base.Redacted()),
		getenv: getenv,
		timing: timing,
	}, nil
}

func (s *octoPrint) initial() Status {
	return Status{Source: "OctoPrint", State: StateConnecting, StateText: "Connecting to OctoPrint"}
}

// run connects, reports, and on failure says why and tries again after a
// growing wait, until ctx ends.
func (s *octoPrint) run(ctx context.Context, report func(Status, Link)) {
	defer s.client.http.CloseIdleConnections()
	s.report = report
	bo := backoff{min: s.timing.backoffMin, max: s.timing.backoffMax}
	var pollUntil time.Time
	for {
		transport := s.cfg.Transport
		if transport == configs.TransportAuto {
			transport = configs.TransportPush
			if time.Now().Before(pollUntil) {
				transport = configs.TransportPoll
			}
		}
		up, err := s.session(ctx, transport, pollUntil)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errTryPush):
			continue
		case errors.Is(err, errNoSocket) && s.cfg.Transport == configs.TransportAuto:
			s.log.Warn("OctoPrint's push socket cannot be used; polling its REST API", "error", scrub(err.Error(), s.key), "retry_push_in", s.timing.pushRetry)
			pollUntil = time.Now().Add(s.timing.pushRetry)
			continue
		case errors.Is(err, errReauth):
			s.log.Info("OctoPrint asked to log in again on the push socket")
		case up:
			bo.reset()
		}
		if !errors.Is(err, errReauth) {
			s.down(err)
		}
		if !sleep(ctx, bo.wait()) {
			return
		}
	}
}

// session reads OctoPrint until something fails; up says whether it got
// a status through first.
func (s *octoPrint) session(ctx context.Context, transport configs.PrinterTransport, pollUntil time.Time) (bool, error) {
	key, err := s.cfg.ResolveAPIKey(s.getenv)
	if err != nil {
		return false, unauthorized("API key", err)
	}
	if key == "" {
		return false, unauthorized("API key", errNoKey)
	}
	s.key = key
	if transport == configs.TransportPoll {
		return s.pollSession(ctx, key, pollUntil)
	}
	return s.pushSession(ctx, key)
}

// publish reports the model: OctoPrint is up.
func (s *octoPrint) publish(transport string) {
	if !s.link.Connected {
		s.log.Info("reading OctoPrint", "transport", transport)
		s.lastDown = ""
	}
	s.link.Connected, s.link.Transport = true, transport
	s.report(s.model.status(), s.link)
}

// down reports why OctoPrint cannot be read; logged once per reason.
func (s *octoPrint) down(err error) {
	var le *linkError
	if !errors.As(err, &le) {
		le = offline("OctoPrint", err)
	}
	msg := scrub(err.Error(), s.key)
	st := Status{Source: "OctoPrint", State: le.state, StateText: downText[le.state], Message: msg}
	if errors.Is(err, errNoKey) {
		st.StateText = "OctoPrint: no API key"
	}
	s.link = Link{Transport: s.link.Transport, LastError: msg, ErrorAt: time.Now()}
	if msg != s.lastDown {
		s.log.Warn("cannot read OctoPrint", "state", st.StateText, "error", msg)
		s.lastDown = msg
	}
	s.report(st, s.link)
}

// pollSession asks /api/job and /api/printer every pollInterval. In auto
// mode it ends at until (errTryPush), for the socket to be tried again.
func (s *octoPrint) pollSession(ctx context.Context, key configs.Secret, until time.Time) (bool, error) {
	t := time.NewTicker(s.timing.pollInterval)
	defer t.Stop()
	for up := false; ; up = true {
		if !until.IsZero() && time.Now().After(until) {
			return up, errTryPush
		}
		if err := s.client.poll(ctx, key, &s.model); err != nil {
			return up, err
		}
		s.publish(string(configs.TransportPoll))
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-t.C:
		}
	}
}
