package compositor

import (
	"fmt"
)

// frameRateLimit is the videorate in front of the encoder: at the output
// rate it passes every frame (drop-only never holds one back, so it adds
// no latency); SetFramerate lowers its max-rate when the link is too weak
// for the full rate, and the new rate reaches the encoder as caps, so
// the encoder's rate control spends the same bitrate on fewer, better
// frames.
func frameRateLimit(fps int) Element {
	return Element{Factory: "videorate", Name: nameRate, Props: []Prop{
		{"drop-only", Bool(true)},
		{"max-rate", Int(fps)},
	}}
}

// SetFramerate caps the encoded frame rate at fps (1 to the output rate)
// while playing. Asking for the rate it already has changes nothing, so
// callers may repeat it; a rebuilt graph starts again at the output rate.
func (g *Graph) SetFramerate(fps int) error {
	if fps < 1 || fps > g.cfg.Output.Framerate {
		return fmt.Errorf("frame rate %d is outside 1-%d", fps, g.cfg.Output.Framerate)
	}
	r := g.current()
	if r == nil {
		return nil // being rebuilt: it starts at the output rate
	}
	rate, err := r.pipeline.GetElementByName(nameRate)
	if err != nil {
		return fmt.Errorf("graph has no element %s: %w", nameRate, err)
	}
	if v, err := rate.GetProperty("max-rate"); err == nil && v == fps {
		return nil // setting it anyway would renegotiate caps
	}
	if err := rate.SetProperty("max-rate", fps); err != nil {
		return fmt.Errorf("set videorate max-rate %d: %w", fps, err)
	}
	return nil
}

// FLVClients is how many FLV clients are connected. They have no
// congestion feedback and share the one encode, so while any is
// connected bandwidth adaptation keeps the configured bitrate.
// (tcpserversink's num-handles is a guint: read as an int it is always 0.)
func (g *Graph) FLVClients() int {
	r := g.current()
	if r == nil {
		return 0
	}
	v, err := r.flvSink.GetProperty("num-handles")
	if err != nil {
		return 0
	}
	n, _ := v.(uint)
	return int(n)
}
