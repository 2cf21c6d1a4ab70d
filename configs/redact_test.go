package configs

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	token = "tok-3f9a1c"
	cred  = "cred-77e2b0"
	key   = "key-5d1e08"
)

func secretConfig() *Config {
	c := Default()
	c.HTTP.Token = token
	c.Printer.APIKey = key
	c.WebRTC.ICEServers = []ICEServer{
		{URLs: []string{"stun:s.example.org"}},
		{URLs: []string{"turn:t.example.org"}, Username: "u", Credential: cred},
	}
	return c
}

func noSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, token) || strings.Contains(s, cred) || strings.Contains(s, key) {
		t.Errorf("%s leaks a secret: %s", what, s)
	}
}

func TestRedact(t *testing.T) {
	c := secretConfig()
	r := c.Redact()
	if r.HTTP.Token.Reveal() != "REDACTED" || r.WebRTC.ICEServers[1].Credential.Reveal() != "REDACTED" || r.Printer.APIKey.Reveal() != "REDACTED" {
		t.Errorf("not redacted: %#v", r)
	}
	if r.WebRTC.ICEServers[0].Credential != "" {
		t.Error("an empty secret must stay empty")
	}
	// The original is untouched, and the clone shares no memory with it.
	if c.HTTP.Token.Reveal() != token || c.WebRTC.ICEServers[1].Credential.Reveal() != cred {
		t.Error("Redact modified the original")
	}
	if err := r.Validate(); err != nil {
		t.Errorf("a redacted config still validates: %v", err)
	}
	r.WebRTC.ICEServers[0].URLs[0] = "stun:changed"
	r.Cameras[0].Name = "changed"
	if c.WebRTC.ICEServers[0].URLs[0] != "stun:s.example.org" || c.Cameras[0].Name != "a" {
		t.Error("Redact's result shares memory with the original")
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	c := secretConfig()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		noSecret(t, verb, fmt.Sprintf(verb, c))
		noSecret(t, verb+" of *Config", fmt.Sprintf(verb, *c))
		noSecret(t, verb+" of Secret", fmt.Sprintf(verb, c.HTTP.Token))
	}
	if got := fmt.Sprint(c.HTTP.Token); got != "REDACTED" {
		t.Errorf("Sprint: %q", got)
	}
	if got := fmt.Sprint(Secret("")); got != "" {
		t.Errorf("empty: %q", got)
	}
	if got := fmt.Sprintf("%#v", c.HTTP.Token); got != `configs.Secret("REDACTED")` {
		t.Errorf("%%#v: %s", got)
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	noSecret(t, "JSON", string(js))
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	noSecret(t, "YAML", string(y))
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("cfg", "token", c.HTTP.Token, "cfg", c)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("cfg", "token", c.HTTP.Token, "cfg", c)
	noSecret(t, "slog", b.String())
	if c.HTTP.Token.Reveal() != token {
		t.Error("Reveal")
	}
}
