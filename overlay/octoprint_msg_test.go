package overlay

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitFrame(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{`{"current":{}}`, []string{`{"current":{}}`}, ""}, // OctoPrint's raw socket
		{"", nil, ""},
		{"o", nil, ""},
		{"h", nil, ""},
		{`a["{\"current\":{}}","{\"event\":{\"type\":\"Home\"}}"]`, []string{`{"current":{}}`, `{"event":{"type":"Home"}}`}, ""},
		{`c[3000,"Go away!"]`, nil, "closed the push socket"},
		{"hello", nil, "bad SockJS frame"},
		{"a[bad", nil, "bad SockJS message batch"},
		{"[1]", nil, "not a push message"},
	}
	for _, tt := range tests {
		got, err := splitFrame([]byte(tt.in))
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: got %v, want an error with %q", tt.in, err, tt.wantErr)
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.in, err)
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q: %d messages, want %d", tt.in, len(got), len(tt.want))
			continue
		}
		for i := range got {
			if string(got[i]) != tt.want[i] {
				t.Errorf("%q: message %d %s", tt.in, i, got[i])
			}
		}
	}
}

func TestParseReplies(t *testing.T) {
	if r, err := parseLogin([]byte(`{"name":"pipcam","session":"ae41","apikey":"SECRET"}`)); err != nil || r.Name != "pipcam" || r.Session != "ae41" {
		t.Errorf("login: %+v %v", r, err)
	}
	for _, bad := range []string{`{"name":"pipcam"}`, `{"name":"a:b","session":"x"}`, `[]`, `<html>`} {
		if _, err := parseLogin([]byte(bad)); err == nil {
			t.Errorf("login %s accepted", bad)
		}
	}
	if _, err := parseJob([]byte(`{"job":{}}`)); err == nil {
		t.Error("a job reply without state accepted")
	}
	if _, err := parseJob([]byte(`{"state":5}`)); err == nil {
		t.Error("a numeric state accepted")
	}
	if _, err := (tempSnapshot{"tool0": []byte(`"hot"`)}).temps(); err == nil {
		t.Error("a heater that is not an object accepted")
	}
	// A bad reply's error never quotes the reply (it may hold the key:
	// /api/login's does).
	_, err := parseLogin([]byte(`{"name":"pipcam","apikey":"SECRET","session":5}`))
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("login error %v", err)
	}
}

func TestHandleFrameErrors(t *testing.T) {
	s := &octoPrint{}
	if _, err := s.handleFrame([]byte(`{"reauthRequired":{"reason":"stale"}}`)); !errors.Is(err, errReauth) {
		t.Errorf("reauthRequired: %v", err)
	}
	var le *linkError
	if _, err := s.handleFrame([]byte(`{"current":{"state":"Printing"}}`)); !errors.As(err, &le) || le.state != StateBadReply {
		t.Errorf("a wrong type: %v", err)
	}
	if _, err := s.handleFrame([]byte(`c[1000,"bye"]`)); !errors.As(err, &le) || le.state != StateSourceOffline {
		t.Errorf("a close frame: %v", err)
	}
	if changed, err := s.handleFrame([]byte(`{"connected":{"version":"1.11.8"}}`)); changed || err != nil {
		t.Errorf("connected: %v %v", changed, err)
	}
	if changed, err := s.handleFrame([]byte(`{"event":{"type":"SomePluginEvent","payload":[1,2]}}`)); !changed || err != nil {
		t.Errorf("an unknown event with an odd payload: %v %v", changed, err)
	}
}
