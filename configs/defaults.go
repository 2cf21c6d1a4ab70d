package configs

import "time"

// Default returns the built-in configuration: two test patterns mixed
// picture-in-picture, so pipcam runs with no camera attached. Parse starts
// from it, so a config file only needs the settings it changes.
func Default() *Config {
	return &Config{
		Cameras: []Camera{
			{Name: "a", Type: CameraTest, Pattern: PatternSMPTE, Flip: FlipNone, StallTimeout: Duration(DefaultStallTimeout)},
			{Name: "b", Type: CameraTest, Pattern: PatternBall, Flip: FlipNone, StallTimeout: Duration(DefaultStallTimeout)},
		},
		Output: Output{Width: 640, Height: 480, Framerate: 15},
		Layout: Layout{
			Mode:   LayoutPiP,
			Main:   "a",
			Inset:  "b",
			Corner: CornerBottomRight,
			Size:   0.3,
			Margin: 16,
		},
		Encoder: Encoder{
			Element:          EncoderAuto,
			BitrateKbps:      400,
			KeyframeInterval: Duration(2 * time.Second),
			KeyframeMinGap:   Duration(250 * time.Millisecond),
			Adaptive: Adaptive{
				Enabled: true, MinBitrateKbps: 100, OutlierRatio: 0.25,
				LowerFramerateBelowKbps: 200, MinFramerate: 5,
			},
		},
		Overlay: Overlay{
			Text: DefaultOverlayText, Font: "Sans Bold", Size: 0, Position: CornerTopLeft,
			Color: "#ffffff", Shade: 100,
			ProgressBar: ProgressBar{Show: true, Position: EdgeBottom, Height: 6, Color: "#2ea043", Track: "#00000080"},
		},
		Printer: Printer{Type: PrinterNone, URL: "http://127.0.0.1:5000", Transport: TransportAuto},
		HTTP:    HTTP{Listen: ":8080", TokenFile: DefaultTokenFile},
		FLV:     FLV{Listen: ":7272"},
		WebRTC:  WebRTC{ICEPort: DefaultICEPort, MaxViewers: DefaultMaxViewers},
		Log:     Log{Level: LogInfo},
		JPEG:    JPEG{Enabled: true, Framerate: 5, Quality: 85},

		// No push destination: Push is empty.
		Recording: Recording{Dir: DefaultRecordingDir, KeepPrints: 20, KeepSize: 2 * 1e9},
	}
}

// fillDefaults sets what a camera given in the file left out. The defaults
// are per camera because a cameras list replaces the default list whole.
func (c *Camera) fillDefaults() {
	if c.Type == "" {
		c.Type = CameraTest
	}
	switch c.Type {
	case CameraTest:
		if c.Pattern == "" {
			c.Pattern = PatternSMPTE
		}
	case CameraV4L2:
		if c.Format == "" {
			c.Format = FormatAuto
		}
	case CameraRTSP:
		if c.Transport == "" {
			c.Transport = TransportTCP
		}
	case CameraSnapshot:
		// Polling a JPEG URL at the output rate would load a small
		// camera (an ESP32-CAM) for little gain: two a second.
		if c.Framerate == 0 {
			c.Framerate = 2
		}
	}
	if c.Flip == "" {
		c.Flip = FlipNone
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = Duration(DefaultStallTimeout)
	}
}

// deriveLayout points layout.main and layout.inset at the cameras the file
// gave, unless the file set them: the default "a"/"b" only name the default
// cameras, and a one-camera file should not need a layout section. Main
// becomes the first camera, inset the first other one.
func deriveLayout(cfg *Config, given lineIndex) {
	if !given.has("cameras") {
		return
	}
	names := cfg.CameraNames()
	pick := func(not string) string {
		for _, n := range names {
			if n != not {
				return n
			}
		}
		return ""
	}
	switch {
	case !given.has("layout.main") && !given.has("layout.inset"):
		cfg.Layout.Main = pick("")
		cfg.Layout.Inset = pick(cfg.Layout.Main)
	case !given.has("layout.main"):
		cfg.Layout.Main = pick(cfg.Layout.Inset)
	case !given.has("layout.inset"):
		cfg.Layout.Inset = pick(cfg.Layout.Main)
	}
}
