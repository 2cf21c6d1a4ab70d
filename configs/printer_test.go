package configs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestPrinterRules(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "octoprint.key")
	if err := os.WriteFile(keyFile, []byte("ABC123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.key")
	if err := os.WriteFile(big, make([]byte, maxAPIKeyFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	printer := func(extra ...string) string { return lines(append([]string{"printer:"}, extra...)...) }
	tests := []struct {
		name string
		doc  string
		want string // "" = valid
	}{
		{"octoprint", printer("  type: octoprint", "  url: http://octopi.local/", "  api_key: ABC-123_x"), ""},
		{"https prefix", printer("  type: octoprint", "  url: https://192.168.1.9:8443/octoprint"), ""},
		{"key file", printer("  type: octoprint", "  api_key_file: "+keyFile), ""},
		{"none ignores url", printer("  type: none", "  url: \"\""), ""},
		{"moonraker", printer("  type: moonraker", "  url: http://mainsailos.local:7125", "  api_key: 0123456789abcdef0123456789abcdef"), ""},
		{"moonraker, no url", printer("  type: moonraker", "  url: \"\""), "pipcam.yaml:3: printer.url: required for printer type moonraker"},
		{"bad type", printer("  type: klipper"), "pipcam.yaml:2: printer.type: unknown printer type \"klipper\" (valid: none, octoprint, moonraker)"},
		{"bad transport", printer("  transport: websocket"), "pipcam.yaml:2: printer.transport: unknown printer transport \"websocket\" (valid: auto, push, poll)"},
		{"no url", printer("  type: octoprint", "  url: \"\""), "pipcam.yaml:3: printer.url: required for printer type octoprint"},
		{"ftp", printer("  url: ftp://octopi"), "pipcam.yaml:2: printer.url: \"ftp://octopi\" must start with http:// or https://"},
		{"no host", printer("  url: http://"), "pipcam.yaml:2: printer.url: \"http://\" names no host"},
		{"query", printer("  url: http://octopi/?apikey=x"), "pipcam.yaml:2: printer.url: \"http://octopi/?apikey=x\" must not have a query or fragment"},
		{"userinfo", printer("  url: http://pi:hunter2@octopi/"), "pipcam.yaml:2: printer.url: must not contain a user or password (they would show in logs); use api_key"},
		{"key space", printer("  api_key: \"ab cd\""), "pipcam.yaml:2: printer.api_key: must be printable ASCII without spaces"},
		{"key and file", printer("  api_key: abc", "  api_key_file: "+keyFile), "pipcam.yaml:3: printer.api_key_file: give api_key or api_key_file, not both"},
		{"file relative", printer("  api_key_file: octoprint.key"), "pipcam.yaml:2: printer.api_key_file: \"octoprint.key\" must be an absolute path"},
		{"file missing", printer("  api_key_file: /nonexistent/octoprint.key"), "pipcam.yaml:2: printer.api_key_file: /nonexistent/octoprint.key: no such file or directory"},
		{"file is dir", printer("  api_key_file: " + dir), "pipcam.yaml:2: printer.api_key_file: " + dir + " is not a regular file"},
		{"file too big", printer("  api_key_file: " + big), "pipcam.yaml:2: printer.api_key_file: " + big + " is 4097 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantParse(t, tt.doc, tt.want)
			if got := parseErr(t, tt.doc); strings.Contains(got, "hunter2") || strings.Contains(got, "ab cd") {
				t.Errorf("error shows a secret: %s", got)
			}
		})
	}
}

// type moonraker without a url points at Moonraker's port, not at the
// default (OctoPrint's); a url given is kept.
func TestMoonrakerURL(t *testing.T) {
	for _, tt := range []struct {
		doc  string
		want string
	}{
		{lines("printer:", "  type: moonraker"), DefaultMoonrakerURL},
		{lines("printer:", "  type: moonraker", "  url: http://127.0.0.1:5000"), "http://127.0.0.1:5000"},
		{lines("printer:", "  type: octoprint"), Default().Printer.URL},
	} {
		cfg, err := Parse([]byte(tt.doc), "pipcam.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Printer.URL != tt.want {
			t.Errorf("%q: url %q, want %q", tt.doc, cfg.Printer.URL, tt.want)
		}
	}
}

func TestPrinterEnums(t *testing.T) {
	for _, tt := range []struct {
		v    any
		good string
		bad  string
	}{
		{new(PrinterType), "moonraker", "klipper"},
		{new(PrinterTransport), "poll", "sse"},
	} {
		if err := yaml.Unmarshal([]byte(tt.good), tt.v); err != nil {
			t.Errorf("YAML %q: %v", tt.good, err)
		}
		if err := json.Unmarshal([]byte(`"`+tt.good+`"`), tt.v); err != nil {
			t.Errorf("JSON %q: %v", tt.good, err)
		}
		if err := yaml.Unmarshal([]byte(tt.bad), tt.v); err == nil || !strings.Contains(err.Error(), "(valid: ") {
			t.Errorf("YAML %q: got %v", tt.bad, err)
		}
		if err := json.Unmarshal([]byte(`"`+tt.bad+`"`), tt.v); err == nil {
			t.Errorf("JSON %q accepted", tt.bad)
		}
	}
}

func TestResolveAPIKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte("  FROMFILE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("two words"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == PrinterAPIKeyEnv {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		p       Printer
		env     string
		want    string
		wantErr string
	}{
		{"yaml wins", Printer{APIKey: "FROMYAML"}, "FROMENV", "FROMYAML", ""},
		{"file, trimmed", Printer{APIKeyFile: file}, "FROMENV", "FROMFILE", ""},
		{"env", Printer{}, " FROMENV\n", "FROMENV", ""},
		{"none", Printer{}, "", "", ""},
		{"file gone", Printer{APIKeyFile: filepath.Join(dir, "gone")}, "", "", "printer.api_key_file: " + dir + "/gone: no such file or directory"},
		{"file bad", Printer{APIKeyFile: bad}, "", "", "must be printable ASCII without spaces"},
		{"env bad", Printer{}, "a\x00b", "", "$PIPCAM_PRINTER_API_KEY: must be printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.ResolveAPIKey(env(tt.env))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if got.Reveal() != tt.want {
				t.Errorf("got %q, want %q", got.Reveal(), tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "two words") {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
}
