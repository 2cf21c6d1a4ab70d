package viewer

import "testing"

// Behind OctoPi's haproxy the client sees http://pi/webcam/whep; pipcam
// sees /whep. A relative Location resolves to the proxied path; the old
// absolute one escaped the prefix (Fluidd's PATCH went to OctoPrint).
func TestSessionURL(t *testing.T) {
	cases := []struct {
		endpoint, loc string
		mainsail      bool
		want          string
	}{
		{"http://pi/webcam/whep", "whep/abc", false, "http://pi/webcam/whep/abc"},
		{"http://pi/webcam/whep", "whep/abc", true, "http://pi/webcam/whep/abc"},
		{"http://pi:8080/cam/whep", "whep/abc", false, "http://pi:8080/cam/whep/abc"},
		{"http://pi:8080/whep", "whep/abc", false, "http://pi:8080/whep/abc"},
		{"http://pi/webcam/whep", "/whep/abc", false, "http://pi/whep/abc"},
		{"http://pi/webcam/whep", "/whep/abc", true, "http://pi/webcam/whep/abc"},
		{"http://pi/webcam/whep", "http://other/x/abc", false, "http://other/x/abc"},
	}
	for _, c := range cases {
		got, err := sessionURL(c.endpoint, c.loc, c.mainsail)
		if err != nil || got != c.want {
			t.Errorf("sessionURL(%q, %q, mainsail=%v) = %q, %v; want %q", c.endpoint, c.loc, c.mainsail, got, err, c.want)
		}
	}
}
