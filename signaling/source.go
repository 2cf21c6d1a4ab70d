package signaling

import (
	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/media"
)

// VideoSource is the one H.264 encode that every viewer shares. cmd/pipcam
// hands in the compositor's graph; signaling never imports it.
type VideoSource interface {
	// SubscribeBatched delivers every access unit from now on, until
	// cancel is called. A subscriber that does not keep up loses access
	// units (the channel send never blocks the graph). While nobody holds
	// Prompt they may come in batches (an idle daemon then wakes twice a
	// second, not with every picture).
	SubscribeBatched(buffer int) (aus <-chan media.AccessUnit, cancel func())
	// Prompt makes the access units come as they are made until release
	// is called. The server holds it while it has any session.
	Prompt() (release func())
	// RequestKeyframe asks the encoder for an IDR at the next frame. It is
	// rate-limited by the source, so calling it often is harmless.
	RequestKeyframe()
}

// LayoutControl changes the picture-in-picture layout while playing.
type LayoutControl interface {
	Layout() configs.Layout
	SetLayout(configs.Layout) error
}

// OverlayControl changes the overlay's look (font, size, position,
// colours, shading, progress bar) while playing.
type OverlayControl interface {
	OverlayStyle() configs.Overlay
	SetOverlayStyle(configs.Overlay) error
}

// StatusReporter adds a component's own figures (the graph's encoder,
// sources and FLV clients; the overlay's printer link) to GET /api/status,
// under its name in Options.Reports. The value is encoded as JSON as it is.
type StatusReporter interface {
	Status() any
}

// BitrateControl is the encoder's live bitrate, the knob bandwidth
// adaptation turns (cmd/pipcam hands in the compositor's graph).
type BitrateControl interface {
	SetBitrate(kbps int) error
}

// FramerateControl lowers the encoded frame rate live (1 up to the
// configured rate). Asking for the rate it already has must be cheap:
// adaptation repeats it, so a rebuilt graph gets it back.
type FramerateControl interface {
	SetFramerate(fps int) error
}
