package compositor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/go-gst/go-gst/gst"
)

// probeV4L2 asks a V4L2 device for the modes it offers: v4l2src opens it
// (READY) and reports its caps. A device that is not there (unplugged,
// its by-id link gone) is an error that says so.
func probeV4L2(device string) ([]V4L2Mode, error) {
	if _, err := os.Stat(device); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not present (unplugged?)", device)
	}
	initGStreamer()
	src, err := gst.NewElementWithProperties("v4l2src", map[string]interface{}{"device": device})
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", device, err)
	}
	// In a pipeline of its own, so that why it cannot open the device
	// comes on a bus to read.
	p, err := gst.NewPipeline("")
	if err != nil {
		return nil, fmt.Errorf("probe %s: %w", device, err)
	}
	if err := p.Add(src); err != nil {
		return nil, fmt.Errorf("probe %s: %w", device, err)
	}
	defer stopPipeline(p)
	if err := p.SetState(gst.StateReady); err != nil {
		if msg := p.GetPipelineBus().TimedPopFiltered(0, gst.MessageError); msg != nil {
			gerr := msg.ParseError()
			return nil, fmt.Errorf("open %s: %s%s", device, gerr.Error(), debugSuffix(gerr.DebugString()))
		}
		return nil, fmt.Errorf("open %s: %w", device, err)
	}
	caps := src.GetStaticPad("src").QueryCaps(nil)
	if caps == nil {
		return nil, fmt.Errorf("%s reports no formats", device)
	}
	var structs []string
	for i := 0; i < caps.GetSize(); i++ {
		structs = append(structs, caps.GetStructureAt(i).String())
	}
	modes := ParseV4L2Caps(structs)
	if len(modes) == 0 {
		return nil, fmt.Errorf("%s offers no video formats", device)
	}
	return modes, nil
}
