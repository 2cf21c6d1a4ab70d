package configs

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

// redacted stands in for a secret wherever a config is shown.
const redacted = "REDACTED"

// Secret is a password or token. Every way of printing it (fmt verbs,
// slog, JSON, YAML) gives "REDACTED" (or "" when unset); only Reveal
// returns the value, so a logged config cannot leak it by accident.
type Secret string

// Reveal returns the real value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Format covers every verb, including %#v and the bad-verb fallback
// (%d), which would otherwise print the raw string.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprintf(f, "configs.Secret(%q)", s.String())
	case verb == 'q':
		fmt.Fprintf(f, "%q", s.String())
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// redact returns the form Redact stores in a clone.
func (s Secret) redact() Secret { return Secret(s.String()) }
