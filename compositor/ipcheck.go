package compositor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// explainHTTPFailure asks an HTTP camera directly why it fails, for an
// error GStreamer reports only as "Internal data stream error"
// (souphttpsrc does not say "connection refused" or "401"). It returns a
// few words, or "" when the camera answers fine.
func explainHTTPFailure(cam configs.Camera) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cam.URL, nil)
	if err != nil {
		return ""
	}
	if cam.Username != "" {
		req.SetBasicAuth(cam.Username, cam.Password.Reveal())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return shortNetError(err)
	}
	resp.Body.Close() // the headers say enough; a stream would never end
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Sprintf("HTTP %s: check username and password", resp.Status)
	case resp.StatusCode != http.StatusOK:
		return "HTTP " + resp.Status
	}
	return ""
}

// shortNetError names a network failure in a few words.
func shortNetError(err error) string {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer (timed out)"
	case errors.As(err, &dns):
		return "unknown host " + dns.Name
	}
	return err.Error()
}
