package configs

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// checkCameraURL validates an IP camera's URL for its type: an absolute
// http(s) URL for MJPEG and snapshot cameras, rtsp(s) for RTSP ones, with
// a host, and no credentials inside it (they would end up in logs and
// status; username and password are kept apart and never shown).
func checkCameraURL(t CameraType, raw string) error {
	if raw == "" {
		return errors.New("required for a " + string(t) + " camera")
	}
	if strings.ContainsAny(raw, " \t\r\n\x00\"") {
		return errors.New("must not contain spaces, quotes or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, which may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.User != nil {
		return errors.New("must not contain credentials (user:password@); put them in username and password, which are never logged or shown")
	}
	schemes := []string{"http", "https"}
	if t == CameraRTSP {
		schemes = []string{"rtsp", "rtsps"}
	}
	if !slices.Contains(schemes, u.Scheme) {
		return fmt.Errorf("a %s camera needs a %s URL, got %q", t, strings.Join(schemes, " or "), u.Scheme+":")
	}
	if u.Hostname() == "" {
		return errors.New("has no host")
	}
	return nil
}
