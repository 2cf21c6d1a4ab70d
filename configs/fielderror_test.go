package configs

import (
	"errors"
	"testing"
)

func TestFieldErrorFormat(t *testing.T) {
	reason := errors.New("bad")
	for _, tt := range []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "p.yaml", Line: 12, Field: "cameras[1].device", Err: reason}, "p.yaml:12: cameras[1].device: bad"},
		{FieldError{File: "p.yaml", Field: "flv.listen", Err: reason}, "p.yaml: flv.listen: bad"},
		{FieldError{File: "p.yaml", Line: 3, Err: reason}, "p.yaml:3: bad"},
		{FieldError{Field: "inset", Err: reason}, "inset: bad"},
		{FieldError{Line: 2, Field: "x", Err: reason}, "line 2: x: bad"},
		{FieldError{Field: "x"}, "x: invalid"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	e := &FieldError{Err: reason}
	if !errors.Is(e, reason) {
		t.Error("Unwrap")
	}
}

func TestPaths(t *testing.T) {
	for _, tt := range []struct{ parent, child, want string }{
		{"", "cameras", "cameras"}, {"cameras", "[1]", "cameras[1]"}, {"cameras[1]", "name", "cameras[1].name"}, {"x", "", "x"},
	} {
		if got := joinPath(tt.parent, tt.child); got != tt.want {
			t.Errorf("joinPath(%q, %q) = %q", tt.parent, tt.child, got)
		}
	}
	ix := lineIndex{"cameras": 3, "cameras[1]": 6}
	for path, want := range map[string]int{
		"cameras[1].device": 6, "cameras[0].name": 3, "cameras": 3, "layout.main": 0, "": 0,
	} {
		if got := ix.lookup(path); got != want {
			t.Errorf("lookup(%q) = %d, want %d", path, got, want)
		}
	}
}

func TestShadowed(t *testing.T) {
	for _, tt := range []struct {
		path, failed string
		want         bool
	}{
		{"cameras[0].device", "cameras[0].type", true},
		{"cameras[1].device", "cameras[0].type", false},
		{"cameras[0].device", "cameras[0].width", false},
		{"layout.inset", "cameras[1].name", true},
		{"layout.inset", "layout.mode", true},
		{"layout.size", "layout.mode", false},
		{"flv.listen", "http.listen", true},
		{"webrtc.ice_servers[0].username", "webrtc.ice_servers[0].urls", true},
		{"webrtc.ice_servers[1].username", "webrtc.ice_servers[0].urls[0]", false},
		{"output.width", "output.framerate", false},
		{"output.width", "output", true},
		{"log.level", "", true},
	} {
		if got := shadowed(tt.path, []string{tt.failed}); got != tt.want {
			t.Errorf("shadowed(%q, %q) = %v", tt.path, tt.failed, got)
		}
	}
}
