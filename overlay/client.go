package overlay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// maxReply bounds what pipcam reads of one reply; the servers' are a few KiB.
const maxReply = 1 << 20

// linkError is why a source cannot be read, sorted into the states the
// overlay shows. Its text never holds the API key (see scrub).
type linkError struct {
	state State  // StateSourceOffline, StateUnauthorized or StateBadReply
	what  string // what failed: "GET /api/job", "push socket"
	err   error
}

func (e *linkError) Error() string { return e.what + ": " + e.err.Error() }
func (e *linkError) Unwrap() error { return e.err }

func offline(what string, err error) *linkError {
	return &linkError{state: StateSourceOffline, what: what, err: err}
}

func badReply(what string, err error) *linkError {
	return &linkError{state: StateBadReply, what: what, err: err}
}

func unauthorized(what string, err error) *linkError {
	return &linkError{state: StateUnauthorized, what: what, err: err}
}

// errOtherHost refuses a redirect that would carry the API key header to
// another server (net/http drops only its own sensitive headers).
var errOtherHost = errors.New("redirected to another host; set printer.url to it")

// apiClient makes a printer server's REST calls with the API key in
// X-Api-Key (OctoPrint and Moonraker both take it there).
type apiClient struct {
	base    *url.URL
	http    *http.Client
	timeout time.Duration // per call; keeps "offline" within the 3 s the overlay promises
}

func newAPIClient(base *url.URL, timeout time.Duration) *apiClient {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 15 * time.Second}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
	return &apiClient{
		base:    base,
		timeout: timeout,
		http: &http.Client{
			Transport: tr,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if req.URL.Host != via[0].URL.Host {
					return errOtherHost
				}
				if len(via) >= 5 {
					return errors.New("too many redirects")
				}
				return nil
			},
		},
	}
}

// endpoint is the base URL + path[?query], keeping a path prefix the base
// has (a server behind a reverse proxy).
func (c *apiClient) endpoint(path string) string {
	p, q, _ := strings.Cut(path, "?")
	u := c.base.JoinPath(p)
	u.RawQuery = q
	return u.String()
}

// call does one request and returns the body of a 2xx reply. Other
// replies are sorted: 401/403 (and 400 from OctoPrint's login, which is
// how it answers a key it does not know: "CSRF validation failed") mean
// the key is refused, 502-504 that a proxy in front finds the server down.
// An empty key sends no X-Api-Key (Moonraker trusting this host).
func (c *apiClient) call(ctx context.Context, method, path string, body []byte, key configs.Secret, accept ...int) (int, []byte, error) {
	what := method + " " + strings.SplitN(path, "?", 2)[0]
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path), rd)
	if err != nil {
		return 0, nil, badReply(what, err)
	}
	if key != "" {
		req.Header.Set("X-Api-Key", key.Reveal())
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, offline(what, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))
	switch {
	case err != nil:
		return 0, nil, offline(what, fmt.Errorf("reading the reply: %w", err))
	case len(data) > maxReply:
		return 0, nil, badReply(what, fmt.Errorf("reply over %d bytes", maxReply))
	}
	code := resp.StatusCode
	for _, ok := range accept {
		if code == ok {
			return code, data, nil
		}
	}
	switch {
	case code >= 200 && code < 300:
		return code, data, nil
	case code == http.StatusUnauthorized, code == http.StatusForbidden,
		code == http.StatusBadRequest && path == "/api/login":
		return code, nil, unauthorized(what, fmt.Errorf("HTTP %d", code))
	case code == http.StatusBadGateway, code == http.StatusServiceUnavailable, code == http.StatusGatewayTimeout:
		return code, nil, offline(what, fmt.Errorf("HTTP %d", code))
	}
	return code, nil, badReply(what, fmt.Errorf("HTTP %d", code))
}

// scrub removes the key from a message, should any library ever quote
// it; a belt to the braces of never putting it in a URL or an error.
func scrub(msg string, key configs.Secret) string {
	if k := key.Reveal(); k != "" {
		msg = strings.ReplaceAll(msg, k, "REDACTED")
	}
	return msg
}
