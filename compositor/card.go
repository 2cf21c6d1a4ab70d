package compositor

import (
	"fmt"
	"html"
	"strconv"

	"github.com/go-gst/go-gst/gst"
)

// card is a lost camera's "reconnecting" picture, rendered into the
// camera's channel by a small pipeline of its own that exists only while
// the camera is lost: a black picture with the text, once a second, so the
// mixer (which repeats the latest picture of the channel) costs nothing
// more and nothing is drawn while the camera is fine.
type card struct {
	pipeline *gst.Pipeline
	text     *gst.Element
}

const cardTextName = "cardtext"

// cardDescription is the card's pipeline for a camera's slot: its size,
// so the mixer's input keeps its caps.
func cardDescription(cp CameraPlan) (*Description, error) {
	var d Description
	err := d.Add(
		Element{Factory: "videotestsrc", Props: []Prop{
			{"is-live", Bool(true)},
			{"pattern", Enum("black")},
		}},
		Caps{Media: "video/x-raw", Fields: []Prop{
			{"format", Enum("I420")},
			{"width", Int(cp.Width)},
			{"height", Int(cp.Height)},
			{"pixel-aspect-ratio", Fraction{1, 1}},
			// Once a second: well inside the mixer input's timeout.
			{"framerate", Fraction{1, 1}},
		}},
		Element{Factory: "textoverlay", Name: cardTextName, Props: []Prop{
			{"valignment", Enum("center")},
			{"halignment", Enum("center")},
			{"line-alignment", Enum("center")},
			// A sixteenth of the slot's height: readable in a 30% inset.
			{"font-desc", Str("Sans Bold " + strconv.Itoa(max(cp.Height/16, 6)))},
			{"auto-resize", Bool(false)},
		}},
		Element{Factory: "intervideosink", Props: []Prop{
			{"channel", Str(cp.Channel)},
			{"sync", Bool(false)},
		}},
	)
	return &d, err
}

// startCard renders text into the camera's channel until close.
func startCard(cp CameraPlan, text string) (*card, error) {
	d, err := cardDescription(cp)
	if err != nil {
		return nil, err
	}
	p, err := gst.NewPipelineFromString(d.String())
	if err != nil {
		return nil, fmt.Errorf("card pipeline: %w", err)
	}
	// Nothing on its bus needs reading; flushing drops what comes.
	p.GetPipelineBus().SetFlushing(true)
	t, err := p.GetElementByName(cardTextName)
	if err != nil {
		return nil, fmt.Errorf("card text: %w", err)
	}
	k := &card{pipeline: p, text: t}
	k.setText(text)
	if err := p.SetState(gst.StatePlaying); err != nil {
		stopPipeline(p)
		return nil, fmt.Errorf("start card: %w", err)
	}
	return k, nil
}

// setText changes the card's words; the next picture (within a second)
// shows them. textoverlay reads Pango markup, so the text is escaped.
func (k *card) setText(text string) {
	_ = k.text.SetProperty("text", html.EscapeString(text))
}

// close stops the card. Its sink clears the channel as it stops; the
// camera's next picture refills it.
func (k *card) close() { stopPipeline(k.pipeline) }
