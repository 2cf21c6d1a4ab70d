package configs

import "testing"

func TestHTTPAllowsAndValidate(t *testing.T) {
	h := HTTP{Listen: ":8080", AllowedOrigins: []Origin{"http://octopi.local", "http://192.168.1.20:5000"}}
	for origin, want := range map[string]bool{
		"http://octopi.local":       true,
		"http://OctoPi.local":       true, // hosts compare without case
		"http://192.168.1.20:5000":  true,
		"https://octopi.local":      false,
		"http://octopi.local:8080":  false,
		"http://evil.example":       false,
		"null":                      false,
		"":                          false,
		"http://192.168.1.20:50000": false,
	} {
		if got := h.Allows(origin); got != want {
			t.Errorf("Allows(%q) = %v, want %v", origin, got, want)
		}
	}
	cfg := Default()
	cfg.HTTP.AllowedOrigins = []Origin{"http://ok.local", "*"}
	if err := cfg.Validate(); err == nil || err.Error() != `http.allowed_origins[1]: "*" would let any web page change pipcam; list the origins, such as http://octopi.local` {
		t.Errorf("Validate: %v", err)
	}
}
