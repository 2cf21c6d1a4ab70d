package compositor

import (
	"fmt"
	"net"
	"strconv"

	"github.com/pipcam/pipcam/configs"
)

// Element names the runtime looks up after parsing.
const (
	nameMixer     = "mix"
	nameOverlay   = "overlay"
	nameRawTee    = "raw"
	nameEncoder   = "enc"
	nameRate      = "rate"
	nameH264Tee   = "h264"
	nameAUSink    = "ausink"
	nameFLVMux    = "flvmux"
	nameFLVSink   = "flvsink"
	nameJPEGValve = "jpegvalve"
	nameJPEGSink  = "jpegsink"
)

// Plan is what Build decided, for the runtime and for print-pipeline.
type Plan struct {
	Description *Description
	Encoder     configs.EncoderElement
	// Cameras in config order: the element and compositor pads of each.
	Cameras []CameraPlan
	// Bar is the progress bar's two solid-colour sources and their pads.
	Bar BarPlan
}

// CameraPlan ties a configured camera to its elements.
type CameraPlan struct {
	Camera          configs.Camera
	SourceName      string // the source element
	Pad             string // its compositor sink pad
	PlaceholderPad  string // the compositor pad of its "no signal" card
	PlaceholderText string // the textoverlay of that card
}

// Build turns a validated config into the graph description:
//
//	cameras (+ a placeholder card each) -> compositor -> textoverlay -> tee raw
//	raw -> encoder -> h264parse -> tee h264 -> appsink (Go) | flvmux -> tcpserversink
//	raw -> valve (closed) -> jpegenc -> appsink (snapshots on demand)
//
// exists reports whether an element factory is installed; it picks the encoder.
func Build(cfg *configs.Config, exists func(string) bool) (*Plan, error) {
	enc, err := ChooseEncoder(cfg.Encoder.Element, exists)
	if err != nil {
		return nil, err
	}
	out := cfg.Output
	n := len(cfg.Cameras)
	p := &Plan{Description: &Description{}, Encoder: enc, Bar: BarPlan{
		Track: barPart{Source: "bartrack", Pad: "sink_" + strconv.Itoa(2*n)},
		Fill:  barPart{Source: "barfill", Pad: "sink_" + strconv.Itoa(2*n+1)},
	}}
	d := p.Description

	for i, cam := range cfg.Cameras {
		cp := CameraPlan{
			Camera:          cam,
			SourceName:      "cam" + strconv.Itoa(i),
			Pad:             "sink_" + strconv.Itoa(i),
			PlaceholderPad:  "sink_" + strconv.Itoa(len(cfg.Cameras)+i),
			PlaceholderText: "card" + strconv.Itoa(i) + "text",
		}
		p.Cameras = append(p.Cameras, cp)
		chain, err := sourceChain(cp, out)
		if err != nil {
			return nil, fmt.Errorf("camera %s: %w", cam.Name, err)
		}
		if err := d.Add(chain...); err != nil {
			return nil, fmt.Errorf("camera %s: %w", cam.Name, err)
		}
		if err := d.Add(placeholderChain(cp, i, out.Framerate)...); err != nil {
			return nil, fmt.Errorf("camera %s placeholder: %w", cam.Name, err)
		}
	}

	rawCaps := Caps{Media: "video/x-raw", Fields: []Prop{
		{"format", Enum("I420")},
		{"width", Int(out.Width)},
		{"height", Int(out.Height)},
		{"framerate", Fraction{out.Framerate, 1}},
	}}
	steps := []struct {
		what  string
		chain []Item
	}{
		{"compositor", []Item{
			Element{Factory: "compositor", Name: nameMixer, Props: append([]Prop{
				{"background", Enum("black")},
				{"ignore-inactive-pads", Bool(true)},
			}, padProps(cfg, p)...)},
			rawCaps,
			Element{Factory: "textoverlay", Name: nameOverlay, Props: textProps(cfg.Overlay, out)},
			Element{Factory: "tee", Name: nameRawTee},
		}},
		{"encoder", append(append([]Item{
			PadRef{Element: nameRawTee},
			// Leaky: if the encoder falls behind, drop raw frames, never add delay.
			Element{Factory: "queue", Props: leakyQueue(2)},
			frameRateLimit(out.Framerate),
		}, encoderChain(enc, cfg.Encoder, out.Framerate)...),
			// config-interval=-1 puts SPS/PPS in front of every IDR, so every
			// keyframe is a place where a viewer can start.
			Element{Factory: "h264parse", Props: []Prop{{"config-interval", Int(-1)}}},
			Caps{Media: "video/x-h264", Fields: []Prop{
				{"stream-format", Enum("byte-stream")},
				{"alignment", Enum("au")},
			}},
			Element{Factory: "tee", Name: nameH264Tee},
		)},
		{"appsink", []Item{
			PadRef{Element: nameH264Tee},
			Element{Factory: "queue", Props: leakyQueue(30)},
			Element{Factory: "appsink", Name: nameAUSink, Props: []Prop{
				{"sync", Bool(false)},
				{"async", Bool(false)},
				{"max-buffers", Int(30)},
				{"drop", Bool(true)},
			}},
		}},
		{"flv", flvChain(cfg.FLV)},
		{"jpeg", []Item{
			PadRef{Element: nameRawTee},
			// Closed until a snapshot is asked for: no JPEG work otherwise.
			Element{Factory: "valve", Name: nameJPEGValve, Props: []Prop{{"drop", Bool(true)}}},
			Element{Factory: "queue", Props: leakyQueue(1)},
			Element{Factory: "jpegenc", Props: []Prop{{"quality", Int(85)}}},
			Element{Factory: "appsink", Name: nameJPEGSink, Props: []Prop{
				{"sync", Bool(false)},
				// Behind a closed valve it never prerolls; async=false keeps it
				// from holding the whole pipeline out of PLAYING.
				{"async", Bool(false)},
				{"max-buffers", Int(1)},
				{"drop", Bool(true)},
			}},
		}},
	}
	for _, s := range steps {
		if err := d.Add(s.chain...); err != nil {
			return nil, fmt.Errorf("%s: %w", s.what, err)
		}
	}
	if err := d.Add(barChain(p.Bar.Track, cfg.Overlay.ProgressBar.Track, out.Framerate)...); err != nil {
		return nil, fmt.Errorf("progress bar: %w", err)
	}
	if err := d.Add(barChain(p.Bar.Fill, cfg.Overlay.ProgressBar.Color, out.Framerate)...); err != nil {
		return nil, fmt.Errorf("progress bar: %w", err)
	}
	return p, nil
}

// sourceChain captures one camera and feeds its compositor pad.
func sourceChain(cp CameraPlan, out configs.Output) ([]Item, error) {
	cam := cp.Camera
	w, h, fps := cam.EffectiveSize(out)
	size := []Prop{
		{"width", Int(w)},
		{"height", Int(h)},
		{"framerate", Fraction{fps, 1}},
	}
	var items []Item
	switch cam.Type {
	case configs.CameraTest:
		items = []Item{
			Element{Factory: "videotestsrc", Name: cp.SourceName, Props: []Prop{
				{"is-live", Bool(true)},
				{"pattern", Enum(string(cam.Pattern))},
			}},
			Caps{Media: "video/x-raw", Fields: size},
		}
	case configs.CameraV4L2:
		src := Element{Factory: "v4l2src", Name: cp.SourceName, Props: []Prop{
			{"device", Str(cam.Device)},
			{"do-timestamp", Bool(true)},
		}}
		if cam.Format == configs.FormatMJPEG {
			items = []Item{src, Caps{Media: "image/jpeg", Fields: size}, Element{Factory: "jpegdec"}}
		} else {
			items = []Item{src, Caps{Media: "video/x-raw", Fields: size}}
		}
		items = append(items, Element{Factory: "videoconvert"})
	default:
		return nil, fmt.Errorf("unsupported camera type %q", cam.Type)
	}
	return append(items,
		Element{Factory: "queue", Props: leakyQueue(2)},
		PadRef{Element: nameMixer, Pad: cp.Pad},
	), nil
}

// placeholderChain is the "no signal" card shown instead of a camera that is
// lost: a black live picture with its text, at the output rate. Slower or
// frozen cards (1 fps, imagefreeze) were tried and hold the live compositor
// back, releasing frames in bursts up to a second late. It stays hidden
// (alpha 0, which the compositor skips) until needed.
func placeholderChain(cp CameraPlan, i int, fps int) []Item {
	return []Item{
		Element{Factory: "videotestsrc", Name: "card" + strconv.Itoa(i), Props: []Prop{
			{"is-live", Bool(true)},
			{"pattern", Enum("black")},
		}},
		Caps{Media: "video/x-raw", Fields: []Prop{
			{"width", Int(320)},
			{"height", Int(240)},
			{"framerate", Fraction{fps, 1}},
		}},
		Element{Factory: "textoverlay", Name: cp.PlaceholderText, Props: []Prop{
			{"valignment", Enum("center")},
			{"halignment", Enum("center")},
			{"font-desc", Str("Sans 14")},
		}},
		Element{Factory: "queue", Props: leakyQueue(1)},
		PadRef{Element: nameMixer, Pad: cp.PlaceholderPad},
	}
}

// flvChain muxes the H.264 into FLV for tcp://host:port. New clients start
// at the next keyframe (the runtime forces one when a client connects) after
// flvmux's stream headers, which tcpserversink sends to each client first.
func flvChain(f configs.FLV) []Item {
	host, port := splitListen(f.Listen)
	if host == "" {
		host = "0.0.0.0"
	}
	return []Item{
		PadRef{Element: nameH264Tee},
		Element{Factory: "queue", Props: []Prop{{"max-size-buffers", Int(30)}}},
		Element{Factory: "h264parse"},
		Caps{Media: "video/x-h264", Fields: []Prop{
			{"stream-format", Enum("avc")},
			{"alignment", Enum("au")},
		}},
		Element{Factory: "flvmux", Name: nameFLVMux, Props: []Prop{{"streamable", Bool(true)}}},
		Element{Factory: "tcpserversink", Name: nameFLVSink, Props: []Prop{
			{"host", Str(host)},
			{"port", Int(port)},
			{"sync", Bool(false)},
			{"async", Bool(false)},
			{"sync-method", Enum("next-keyframe")},
			// A client more than ~10 s behind skips to the next keyframe.
			{"recover-policy", Enum("keyframe")},
			{"units-max", Int(150)},
		}},
	}
}

// padProps renders the layout as compositor pad properties, so the printed
// line shows the same picture the runtime starts with.
func padProps(cfg *configs.Config, p *Plan) []Prop {
	g := Geometry(cfg.Layout, cfg.Output, cfg.Cameras)
	var props []Prop
	for _, cp := range p.Cameras {
		props = append(props, geometryProps(cp.Pad, g[cp.Camera.Name])...)
		props = append(props, geometryProps(cp.PlaceholderPad, hidden(g[cp.Camera.Name]))...)
	}
	// No job is known at start: the bar starts hidden.
	track, fill := barGeometry(cfg.Overlay.ProgressBar, cfg.Output, -1)
	props = append(props, geometryProps(p.Bar.Track.Pad, track)...)
	return append(props, geometryProps(p.Bar.Fill.Pad, fill)...)
}

func geometryProps(pad string, g PadGeometry) []Prop {
	return []Prop{
		{pad + "::xpos", Int(g.X)},
		{pad + "::ypos", Int(g.Y)},
		{pad + "::width", Int(g.Width)},
		{pad + "::height", Int(g.Height)},
		{pad + "::zorder", Int(g.ZOrder)},
		{pad + "::alpha", Float(g.Alpha)},
	}
}

func hidden(g PadGeometry) PadGeometry { g.Alpha = 0; return g }

func leakyQueue(buffers int) []Prop {
	return []Prop{
		{"max-size-buffers", Int(buffers)},
		{"max-size-bytes", Int(0)},
		{"max-size-time", Int(0)},
		{"leaky", Enum("downstream")},
	}
}

// cornerAlign maps a corner to textoverlay's valignment and halignment.
func cornerAlign(c configs.Corner) (valign, halign string) {
	valign, halign = "top", "left"
	switch c {
	case configs.CornerTopRight:
		halign = "right"
	case configs.CornerBottomLeft:
		valign = "bottom"
	case configs.CornerBottomRight:
		valign, halign = "bottom", "right"
	}
	return valign, halign
}

// splitListen splits a validated host:port.
func splitListen(listen string) (string, int) {
	host, p, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0
	}
	port, _ := strconv.Atoi(p)
	return host, port
}
