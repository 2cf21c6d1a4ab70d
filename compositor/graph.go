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
	// Description holds every pipeline: the mixer's (part "") and each
	// camera's (part CameraPlan.Part). Printed whole it is one gst-launch
	// line that runs (the inter elements meet inside the one process).
	Description *Description
	Encoder     configs.EncoderElement
	// Cameras in config order: the pipeline and mixer input of each.
	Cameras []CameraPlan
	// Bar is the progress bar's two solid-colour sources and their pads.
	Bar BarPlan
	// Decoders chosen for compressed cameras: the Pi's hardware ones where
	// they exist.
	JPEGDecoder, H264Decoder string
}

// CameraPlan ties a configured camera to its pipeline and mixer input.
type CameraPlan struct {
	Camera     configs.Camera
	Part       string // its pipeline's part of the description
	SourceName string // the source element, in its own pipeline
	SinkName   string // the intervideosink that ends its pipeline
	Input      string // the intervideosrc that brings it into the mixer
	Channel    string // the inter channel between the two
	Pad        string // its compositor sink pad
	// Width and Height are the picture the mixer gets: captured, cropped,
	// turned.
	Width, Height int
}

// Build turns a validated config into the graph description:
//
//	camera (each its own pipeline) -> intervideosink   (channel per camera)
//	intervideosrc (each camera) -> compositor -> textoverlay -> tee raw
//	raw -> encoder -> h264parse -> tee h264 -> appsink (Go) | flvmux -> tcpserversink
//	raw -> valve (closed) -> jpegenc -> appsink (JPEG on demand)
//
// exists reports whether an element factory is installed; it picks the
// encoder and the decoders.
func Build(cfg *configs.Config, exists func(string) bool) (*Plan, error) {
	return build(cfg, exists, buildOptions{channel: "pipcam"})
}

// buildOptions vary Build for the runtime and the benchmark.
type buildOptions struct {
	channel string // prefix of the inter channel names, unique per Graph
	// direct links each camera straight into the mixer, one pipeline, no
	// boundary: the graph pipcam used to run, which make bench measures
	// the boundary against.
	direct bool
}

// BuildDirect is Build with each camera linked straight into the mixer in
// one pipeline (no per-camera pipelines): what the per-camera boundary is
// measured against.
func BuildDirect(cfg *configs.Config, exists func(string) bool) (*Plan, error) {
	return build(cfg, exists, buildOptions{channel: "pipcam", direct: true})
}

func build(cfg *configs.Config, exists func(string) bool, opt buildOptions) (*Plan, error) {
	enc, err := ChooseEncoder(cfg.Encoder.Element, exists)
	if err != nil {
		return nil, err
	}
	out := cfg.Output
	n := len(cfg.Cameras)
	p := &Plan{Description: &Description{}, Encoder: enc, Bar: BarPlan{
		Track: barPart{Source: "bartrack", Pad: "sink_" + strconv.Itoa(n)},
		Fill:  barPart{Source: "barfill", Pad: "sink_" + strconv.Itoa(n+1)},
	}}
	p.JPEGDecoder, p.H264Decoder = chooseDecoders(exists)
	d := p.Description

	for i, cam := range cfg.Cameras {
		id := strconv.Itoa(i)
		cp := CameraPlan{
			Camera:     cam,
			Part:       "cam" + id,
			SourceName: "cam" + id,
			SinkName:   "cam" + id + "out",
			Input:      "in" + id,
			Channel:    opt.channel + "-cam" + id,
			Pad:        "sink_" + id,
		}
		cp.Width, cp.Height = cam.PictureSize(out)
		p.Cameras = append(p.Cameras, cp)
		chain, err := cameraChain(cp, out, p, nil)
		if err != nil {
			return nil, fmt.Errorf("camera %s: %w", cam.Name, err)
		}
		part := cp.Part
		if opt.direct {
			part = ""
			chain = append(chain[:len(chain)-1], Element{Factory: "queue", Props: leakyQueue(2)}, PadRef{Element: nameMixer, Pad: cp.Pad})
		}
		if err := d.AddTo(part, chain...); err != nil {
			return nil, fmt.Errorf("camera %s: %w", cam.Name, err)
		}
		if !opt.direct {
			if err := d.Add(mixerInput(cp, out.Framerate)...); err != nil {
				return nil, fmt.Errorf("camera %s input: %w", cam.Name, err)
			}
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
		}, encoderChain(enc, cfg.Encoder, out)...),
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
	if cfg.JPEG.Enabled {
		if err := d.Add(jpegChain(cfg)...); err != nil {
			return nil, fmt.Errorf("jpeg: %w", err)
		}
	}
	return p, nil
}

// jpegChain makes snapshots and MJPEG from the raw composite. The valve is
// closed unless someone asks (see snapshot.go), so it costs nothing
// otherwise; while it is open a probe on its src pad drops frames down to
// the MJPEG rate before they cost an encode; the leaky queue puts jpegenc
// on its own thread, so a slow encode never holds back the compositor and
// the H.264 branch.
func jpegChain(cfg *configs.Config) []Item {
	return []Item{
		PadRef{Element: nameRawTee},
		Element{Factory: "valve", Name: nameJPEGValve, Props: []Prop{{"drop", Bool(true)}}},
		Element{Factory: "queue", Props: leakyQueue(1)},
		Element{Factory: "jpegenc", Props: []Prop{{"quality", Int(cfg.JPEG.Quality)}}},
		Element{Factory: "appsink", Name: nameJPEGSink, Props: []Prop{
			{"sync", Bool(false)},
			// Behind a closed valve it never prerolls; async=false keeps it
			// from holding the whole pipeline out of PLAYING.
			{"async", Bool(false)},
			{"max-buffers", Int(1)},
			{"drop", Bool(true)},
		}},
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
