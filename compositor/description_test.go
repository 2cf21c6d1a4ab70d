package compositor

import (
	"strings"
	"testing"
)

func TestDescriptionRendersGstLaunchSyntax(t *testing.T) {
	var d Description
	err := d.Add(
		Element{Factory: "videotestsrc", Name: "cam0", Props: []Prop{{"is-live", Bool(true)}, {"pattern", Enum("ball")}}},
		Caps{Media: "video/x-raw", Fields: []Prop{{"width", Int(320)}, {"framerate", Fraction{15, 1}}, {"level", Typed{"string", Enum("4")}}}},
		Element{Factory: "textoverlay", Props: []Prop{{"font-desc", Str(`Sans "Bold" \ 12`)}}},
		PadRef{Element: "mix", Pad: "sink_0"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Add(PadRef{Element: "t"}, Element{Factory: "fakesink"}); err != nil {
		t.Fatal(err)
	}
	want := `videotestsrc name=cam0 is-live=true pattern=ball ! video/x-raw,width=320,framerate=15/1,level=(string)4 ! textoverlay font-desc="Sans \"Bold\" \\ 12" ! mix.sink_0  t. ! fakesink`
	if got := d.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// Nothing that could end a token, start a new element or a property may get
// through the typed values.
func TestDescriptionRejectsInjection(t *testing.T) {
	bad := []Item{
		Element{Factory: "videotestsrc ! filesink location=/etc/passwd"},
		Element{Factory: "queue", Name: "q name=x"},
		Element{Factory: "queue", Props: []Prop{{"leaky", Enum("downstream ! filesink")}}},
		Element{Factory: "queue", Props: []Prop{{"max-size-buffers name", Int(1)}}},
		Element{Factory: "textoverlay", Props: []Prop{{"text", Str("a\nb")}}},
		Caps{Media: "video/x-raw,width=1 ! fakesink"},
		Caps{Media: "video/x-raw", Fields: []Prop{{"framerate", Fraction{1, 0}}}},
		PadRef{Element: "mix", Pad: "sink_0 ! x"},
		Element{Factory: "x", Props: []Prop{{"t", Typed{"string ! y", Int(1)}}}},
	}
	for i, it := range bad {
		var d Description
		if err := d.Add(it); err == nil {
			t.Errorf("item %d (%#v) accepted, rendered as %q", i, it, d.String())
		}
	}
}

func TestStrQuotingRoundTrips(t *testing.T) {
	// gst_parse unescapes \\ and \" inside double quotes; check our escaping
	// is exactly that inverse.
	for _, s := range []string{`plain`, `a "quoted" word`, `back\slash`, `\"`, `/dev/v4l/by-id/usb-Foo_Bar-video-index0`} {
		r := Str(s).render()
		if !strings.HasPrefix(r, `"`) || !strings.HasSuffix(r, `"`) {
			t.Fatalf("%q not quoted: %s", s, r)
		}
		inner := r[1 : len(r)-1]
		un := strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(inner)
		if un != s {
			t.Errorf("%q -> %s -> %q", s, r, un)
		}
	}
}
