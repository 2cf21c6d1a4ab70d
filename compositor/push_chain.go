package compositor

import (
	"github.com/pipcam/pipcam/configs"
)

// h264Caps is what the Graph's access units are: Annex-B, one picture
// each.
var h264Caps = "video/x-h264, stream-format=(string)byte-stream, alignment=(string)au"

// outputSource is the appsrc that starts every output pipeline: live (it
// is stamped on its pipeline's clock), never blocking the goroutine that
// feeds it, then parsed into the avc form muxers take.
func outputSource(maxBacklog uint64) []Item {
	return []Item{
		Element{Factory: "appsrc", Name: nameOutSrc, Props: []Prop{
			{"is-live", Bool(true)},
			{"format", Enum("time")},
			{"do-timestamp", Bool(false)},
			{"block", Bool(false)},
			{"max-bytes", Int(int64(maxBacklog))},
			{"caps", Str(h264Caps)},
		}},
		Element{Factory: "h264parse"},
		Caps{Media: "video/x-h264", Fields: []Prop{
			{"stream-format", Enum("avc")},
			{"alignment", Enum("au")},
		}},
	}
}

// pushDescription is a push destination's pipeline:
//
//	appsrc ! h264parse ! flvmux ! rtmp2sink
//	appsrc (one AAC frame of silence, repeated) ! flvmux   (audio: silent)
//
// The stream (the key) is not in it: it is set on the parsed element.
func pushDescription(t configs.RTMPTarget, audio configs.PushAudio, maxBacklog uint64) (*Description, error) {
	var d Description
	// No queues: each appsrc streams on a thread of its own already, and
	// every thread a buffer crosses costs a wake-up (make bench).
	video := append(outputSource(maxBacklog),
		Element{Factory: "flvmux", Name: nameOutMux, Props: []Prop{
			{"streamable", Bool(true)},
			// The silent audio and the video meet here on one clock;
			// room for the feeding goroutine's jitter.
			{"latency", Int(int64(300e6))},
		}},
		Element{Factory: "rtmp2sink", Name: nameOutSink, Props: []Prop{
			{"scheme", Enum(t.Scheme)},
			{"host", Str(t.Host)},
			{"port", Int(int64(t.Port))},
			{"application", Str(t.Application)},
			{"async-connect", Bool(true)},
			{"sync", Bool(false)},
			{"async", Bool(false)},
		}},
	)
	if err := d.Add(video...); err != nil {
		return nil, err
	}
	if audio == configs.AudioSilent {
		// Its caps (AAC with the encoder's codec data) are set on the
		// parsed appsrc: see silence.go.
		err := d.Add(
			Element{Factory: "appsrc", Name: nameOutAudio, Props: []Prop{
				{"is-live", Bool(true)},
				{"format", Enum("time")},
				{"do-timestamp", Bool(false)},
				{"block", Bool(false)},
			}},
			// Says it is audio, so flvmux gives it its audio pad.
			Caps{Media: "audio/mpeg", Fields: []Prop{{"mpegversion", Int(4)}, {"stream-format", Enum("raw")}}},
			PadRef{Element: nameOutMux},
		)
		if err != nil {
			return nil, err
		}
	}
	return &d, nil
}

// recordDescription is a recording's pipeline: fragmented MP4 (a fragment
// a second, so a crash loses at most the last one) written to a file
// descriptor pipcam opened, so pipcam can fsync it:
//
//	appsrc ! h264parse ! mp4mux fragment-duration=1000 ! fdsink
func recordDescription(maxBacklog uint64) (*Description, error) {
	var d Description
	err := d.Add(append(outputSource(maxBacklog),
		Element{Factory: "mp4mux", Name: nameOutMux, Props: []Prop{
			{"fragment-duration", Int(recordFragment.Milliseconds())},
		}},
		Element{Factory: "fdsink", Name: nameOutSink, Props: []Prop{
			{"sync", Bool(false)},
			{"async", Bool(false)},
		}},
	)...)
	return &d, err
}
