package configs

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const streamKey = "abcd-1234-efgh-5678"

func pushDoc(dest ...string) string {
	return lines(append([]string{"printer:", "  type: octoprint", "push:", "  destinations:"}, dest...)...)
}

func TestPushDestinations(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // "" parses
	}{
		{"youtube", pushDoc("    - name: youtube", "      url: rtmp://a.rtmp.youtube.com/live2", "      key: "+streamKey), ""},
		{"rtmps with port, printing", pushDoc("    - name: fb", "      url: rtmps://live-api-s.facebook.com:443/rtmp", "      key: "+streamKey, "      start: printing", "      audio: none"), ""},
		{"stream in the URL", pushDoc("    - name: nas", "      url: rtmp://10.0.0.2/live/printer"), ""},
		{"no stream", pushDoc("    - name: nas", "      url: rtmp://10.0.0.2/live"), "pipcam.yaml:6: push.destinations[0].url: \"rtmp://10.0.0.2/live\" names no stream"},
		{"no application", pushDoc("    - name: yt", "      url: rtmp://a.rtmp.youtube.com", "      key: k"), "push.destinations[0].url: \"rtmp://a.rtmp.youtube.com\" names no application"},
		{"http", pushDoc("    - name: yt", "      url: http://a.rtmp.youtube.com/live2", "      key: k"), "must start with rtmp:// or rtmps://"},
		{"credentials", pushDoc("    - name: yt", "      url: rtmp://u:p@host/live/s"), "must not contain credentials"},
		{"query", pushDoc("    - name: yt", "      url: rtmp://host/live/s?key=1"), "must not have a query"},
		{"bad port", pushDoc("    - name: yt", "      url: rtmp://host:0/live/s"), "port \"0\" must be 1-65535"},
		{"no url", pushDoc("    - name: yt"), "push.destinations[0].url: required"},
		{"bad name", pushDoc("    - name: You Tube", "      url: rtmp://host/live/s"), "push.destinations[0].name: \"You Tube\" must be 1-32"},
		{"same name", pushDoc("    - name: a", "      url: rtmp://host/live/s", "    - name: a", "      url: rtmp://host/live/t"), "pipcam.yaml:7: push.destinations[1].name: \"a\" is already the name of destinations[0]"},
		{"bad start", pushDoc("    - name: a", "      url: rtmp://host/live/s", "      start: sometimes"), "pipcam.yaml:7: push.destinations[0].start: unknown push start \"sometimes\" (valid: always, printing, manual)"},
		{"bad audio", pushDoc("    - name: a", "      url: rtmp://host/live/s", "      audio: mic"), "unknown push audio \"mic\" (valid: silent, none)"},
		{"key with a space", pushDoc("    - name: a", "      url: rtmp://host/live", "      key: \"a b\""), "push.destinations[0].key: must be printable ASCII without spaces"},
		{"printing without a printer", lines("push:", "  destinations:", "    - name: a", "      url: rtmp://host/live/s", "      start: printing"), "pipcam.yaml:5: push.destinations[0].start: printing needs a printer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantParse(t, tt.doc, tt.want)
		})
	}
}

func TestPushDestinationDefaults(t *testing.T) {
	cfg, err := Parse([]byte(pushDoc("    - name: a", "      url: rtmp://host/live/s")), "pipcam.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Push.Destinations[0]; d.Start != PushAlways || d.Audio != AudioSilent {
		t.Fatalf("defaults not filled: %+v", d)
	}
}

func TestRTMPTarget(t *testing.T) {
	tests := []struct {
		url, key string
		want     RTMPTarget
	}{
		{"rtmp://a.rtmp.youtube.com/live2", streamKey, RTMPTarget{"rtmp", "a.rtmp.youtube.com", 1935, "live2", streamKey}},
		{"rtmp://a.rtmp.youtube.com/live2/", streamKey, RTMPTarget{"rtmp", "a.rtmp.youtube.com", 1935, "live2", streamKey}},
		{"rtmps://live-api-s.facebook.com:443/rtmp", "FB-1?s_bl=1", RTMPTarget{"rtmps", "live-api-s.facebook.com", 443, "rtmp", "FB-1?s_bl=1"}},
		{"rtmps://example.org/app", "k", RTMPTarget{"rtmps", "example.org", 443, "app", "k"}},
		{"rtmp://127.0.0.1:19350/live/pipcam", "", RTMPTarget{"rtmp", "127.0.0.1", 19350, "live", "pipcam"}},
		{"rtmp://[::1]/a/b/c", "", RTMPTarget{"rtmp", "::1", 1935, "a/b", "c"}},
	}
	for _, tt := range tests {
		d := PushDestination{Name: "x", URL: tt.url, Key: Secret(tt.key)}
		got, err := d.Target()
		if err != nil || got != tt.want {
			t.Errorf("%s + key %q: got %+v, %v; want %+v", tt.url, tt.key, got, err, tt.want)
		}
	}
}

// The stream key is a secret like the others: redacted, never in
// printed configs or in error messages.
func TestStreamKeyNeverShown(t *testing.T) {
	cfg, err := Parse([]byte(pushDoc("    - name: a", "      url: rtmp://host/live", "      key: "+streamKey)), "pipcam.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Redact()
	if r.Push.Destinations[0].Key.Reveal() != "REDACTED" || cfg.Push.Destinations[0].Key.Reveal() != streamKey {
		t.Fatalf("redact: %q, original %q", r.Push.Destinations[0].Key.Reveal(), cfg.Push.Destinations[0].Key.Reveal())
	}
	y, _ := yaml.Marshal(cfg)
	j, _ := json.Marshal(cfg)
	for what, s := range map[string]string{"yaml": string(y), "json": string(j), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg)} {
		if strings.Contains(s, streamKey) {
			t.Errorf("%s shows the key", what)
		}
	}
	// A bad key is refused without being quoted.
	bad := "abc\x01" + streamKey
	_, err = Parse([]byte(pushDoc("    - name: a", "      url: rtmp://host/live", fmt.Sprintf("      key: %q", bad))), "pipcam.yaml")
	if err == nil || strings.Contains(err.Error(), streamKey) {
		t.Fatalf("bad key: %v", err)
	}
}

func TestRecordingSettings(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"defaults", "", ""},
		{"enabled with a printer", lines("printer:", "  type: octoprint", "recording:", "  enabled: true", "  dir: /srv/prints", "  keep_prints: 0", "  keep_size: 500MB"), ""},
		{"enabled without a printer", lines("recording:", "  enabled: true"), "pipcam.yaml:2: recording.enabled: recording follows a printer's prints"},
		{"relative dir", lines("recording:", "  dir: recordings"), "pipcam.yaml:2: recording.dir: \"recordings\" must be an absolute path"},
		{"negative count", lines("recording:", "  keep_prints: -1"), "recording.keep_prints: must be 0 (no limit) or 1-100000, got -1"},
		{"bare number", lines("recording:", "  keep_size: 2000"), "pipcam.yaml:2: recording.keep_size: invalid size \"2000\""},
		{"unknown unit", lines("recording:", "  keep_size: 2XB"), "invalid size \"2XB\""},
		{"negative size", lines("recording:", "  keep_size: -1GB"), "size \"-1GB\" is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantParse(t, tt.doc, tt.want) })
	}
}

func TestByteSize(t *testing.T) {
	good := map[string]int64{
		"0": 0, "500MB": 500e6, "2GB": 2e9, "1.5GB": 1.5e9, "4GiB": 4 << 30, "512MiB": 512 << 20,
		"10kB": 10e3, "10KB": 10e3, "3KiB": 3 << 10, "1TB": 1e12, "100B": 100, "2 GB": 2e9,
	}
	for s, want := range good {
		b, err := parseByteSize(s)
		if err != nil || b.Bytes() != want {
			t.Errorf("%q: got %d, %v; want %d", s, b, err, want)
		}
		// The written form reads back as the same size.
		back, err := parseByteSize(b.String())
		if err != nil || back != b {
			t.Errorf("%q written as %q reads back as %d, %v", s, b.String(), back, err)
		}
	}
	for _, s := range []string{"", "GB", "2", "2gb", "2 G", "x2GB", "1e400GB", "NaNGB", "-3MB", "9999999TB"} {
		if _, err := parseByteSize(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	var b ByteSize
	if err := json.Unmarshal([]byte(`"4GiB"`), &b); err != nil || b != 4<<30 {
		t.Errorf("JSON: %d, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`7`), &b); err == nil {
		t.Error("JSON number accepted")
	}
}
