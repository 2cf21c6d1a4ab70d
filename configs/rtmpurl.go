package configs

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// RTMPTarget is a push destination as an RTMP client takes it: server,
// application and stream apart, so that the stream key is never part of
// a URL that could be printed.
type RTMPTarget struct {
	Scheme      string // rtmp or rtmps
	Host        string
	Port        int // 1935 for rtmp, 443 for rtmps unless the URL says
	Application string
	// Stream is the key, or the URL's last path segment when there is no
	// key.
	Stream Secret
}

// Target splits a validated destination into what the RTMP client needs.
func (d PushDestination) Target() (RTMPTarget, error) {
	u, err := parseRTMPURL(d.URL)
	if err != nil {
		return RTMPTarget{}, err
	}
	t := RTMPTarget{Scheme: u.Scheme, Host: u.Hostname(), Port: 1935, Application: strings.Trim(u.Path, "/"), Stream: d.Key}
	if u.Scheme == "rtmps" {
		t.Port = 443
	}
	if p := u.Port(); p != "" {
		t.Port, _ = strconv.Atoi(p)
	}
	if d.Key == "" {
		i := strings.LastIndexByte(t.Application, '/')
		if i < 0 {
			return RTMPTarget{}, errors.New("the URL names no stream and there is no key")
		}
		t.Application, t.Stream = t.Application[:i], Secret(t.Application[i+1:])
	}
	return t, nil
}

// checkRTMPURL wants rtmp(s)://host[:port]/application[/stream]: with a
// key the path is the application, without one it ends with the stream.
// Credentials and queries are refused: the URL shows in logs and status.
func checkRTMPURL(raw string, haveKey bool) error {
	if raw == "" {
		return errors.New("required, such as rtmp://a.rtmp.youtube.com/live2")
	}
	u, err := parseRTMPURL(raw)
	if err != nil {
		return err
	}
	segments := strings.Split(strings.Trim(u.Path, "/"), "/")
	switch {
	case segments[0] == "":
		return fmt.Errorf("%q names no application (the path, such as /live2)", raw)
	case !haveKey && len(segments) < 2:
		return fmt.Errorf("%q names no stream: give the stream key in key, or end the URL with the stream name", raw)
	}
	for _, s := range segments {
		if s == "" {
			return fmt.Errorf("%q has an empty path segment", raw)
		}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q must be 1-65535", p)
		}
	}
	return nil
}

func parseRTMPURL(raw string) (*url.URL, error) {
	if strings.ContainsAny(raw, " \t\r\n\x00\"'") {
		return nil, errors.New("must not contain spaces, quotes or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, which may hold a key.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.User != nil:
		return nil, errors.New("must not contain credentials (user:password@)")
	case u.Scheme != "rtmp" && u.Scheme != "rtmps":
		return nil, fmt.Errorf("must start with rtmp:// or rtmps://, got %q", u.Scheme+":")
	case u.Hostname() == "":
		return nil, errors.New("has no host")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("must not have a query or fragment: put the stream key (with anything after its ?) in key, which is never shown")
	}
	return u, nil
}
