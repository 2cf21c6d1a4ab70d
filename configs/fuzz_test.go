package configs

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

func FuzzParse(f *testing.F) {
	f.Add(Example)
	for _, s := range []string{
		"",
		"cameras:\n  - name: a\n    colour: red\n",
		"cameras:\n  - name: cam\n    type: v4l2\n    device: /dev/null\n",
		"output: {width: 641, height: x}\n",
		"layout: &a\n  <<: *a\n",
		"cameras:\n  - &c {name: a}\n  - <<: *c\n    name: b\n",
		"webrtc:\n  ice_servers:\n    - urls: [turn:x]\n      username: u\n      credential: p\n",
		"a: [\n",
		"a: 1\n---\nb: 2\n",
		"overlay:\n  text: !!binary /w==\n",
		"encoder: {keyframe_interval: 1.5s, keyframe_min_gap: 0s}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml")
		if err != nil {
			// Every problem is a FieldError naming the file.
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var fe *FieldError
				if !errors.As(e, &fe) || fe.File != "fuzz.yaml" {
					t.Fatalf("not a FieldError for the file: %v", e)
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", err)
		}
		// The walker must not be laxer than yaml.v3's strict decoding.
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(new(Config)); err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("Parse accepted what yaml.v3 refuses: %v", err)
		}
		// Marshalled back, it reads the same (secrets come back redacted).
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := Parse(out, "roundtrip.yaml")
		if err != nil {
			t.Fatalf("round trip refused: %v\n%s", err, out)
		}
		if want := cfg.Redact(); !reflect.DeepEqual(back, want) {
			t.Fatalf("round trip differs:\n got  %+v\n want %+v", back, want)
		}
	})
}
