package compositor

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-gst/go-gst/gst"
	"github.com/go-gst/go-gst/gst/app"
)

// Silent audio for pushes: services such as YouTube and Facebook want an
// audio track. Silence encodes to the same AAC frame every time, so it is
// encoded once per process (a few frames through voaacenc) and the one
// frame is repeated: a push costs no audio encoding.
const (
	silenceRate    = 44100
	silenceSamples = 1024 // one AAC-LC frame
	// silenceBitrate: the encoder pads each frame up to its bitrate; 8
	// kbit/s is the least it takes, about 2 % of the default video.
	silenceBitrate = 8000
	// silenceAhead is how far ahead of its pipeline's clock the silence is
	// stamped; silenceEvery how often it is topped up.
	silenceAhead = 250 * time.Millisecond
	silenceEvery = 100 * time.Millisecond
)

// silentAudio is one encoded frame of silence and the caps that describe
// it (AAC-LC, raw, with its codec data).
type silentAudio struct {
	frame []byte
	caps  string
}

var silence struct {
	once  sync.Once
	audio silentAudio
	err   error
}

// silentAAC returns the frame of silence, encoding it on first use.
func silentAAC() (silentAudio, error) {
	silence.once.Do(func() { silence.audio, silence.err = encodeSilence() })
	return silence.audio, silence.err
}

// silenceDescription encodes a few frames of silence for encodeSilence.
func silenceDescription() (*Description, error) {
	var d Description
	err := d.Add(
		Element{Factory: "audiotestsrc", Props: []Prop{
			{"wave", Enum("silence")},
			{"num-buffers", Int(8)},
			{"samplesperbuffer", Int(silenceSamples)},
		}},
		Caps{Media: "audio/x-raw", Fields: []Prop{{"rate", Int(silenceRate)}, {"channels", Int(2)}}},
		Element{Factory: "voaacenc", Props: []Prop{{"bitrate", Int(silenceBitrate)}}},
		Element{Factory: "appsink", Name: "silence", Props: []Prop{{"sync", Bool(false)}}},
	)
	return &d, err
}

// encodeSilence runs the encoder over silence and keeps its last frame
// (past the encoder's start-up).
func encodeSilence() (silentAudio, error) {
	d, err := silenceDescription()
	if err != nil {
		return silentAudio{}, err
	}
	p, err := gst.NewPipelineFromString(d.String())
	if err != nil {
		return silentAudio{}, fmt.Errorf("encode silence: %w", err)
	}
	defer stopPipeline(p)
	el, err := p.GetElementByName("silence")
	if err != nil {
		return silentAudio{}, fmt.Errorf("encode silence: %w", err)
	}
	sink := app.SinkFromElement(el)
	if err := p.SetState(gst.StatePlaying); err != nil {
		return silentAudio{}, fmt.Errorf("encode silence: %w", err)
	}
	var a silentAudio
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !sink.IsEOS(); {
		sample := sink.TryPullSample(gst.ClockTime(100 * time.Millisecond))
		if sample == nil {
			continue
		}
		if caps := sample.GetCaps(); caps != nil {
			a.caps = caps.String()
		}
		if buf := sample.GetBuffer(); buf != nil {
			a.frame = buf.Bytes()
			releaseBuffer(buf)
		}
		release(sample)
	}
	if len(a.frame) == 0 || !bytes.Contains([]byte(a.caps), []byte("codec_data")) {
		return silentAudio{}, errors.New("encode silence: voaacenc gave no frame")
	}
	return a, nil
}

// feedSilence stamps the frame of silence on the output's clock, one
// frame every 1024 samples, a little ahead of the clock, until ctx ends.
func (o *output) feedSilence(stop <-chan struct{}) {
	defer o.feeders.Done()
	tick := time.NewTicker(silenceEvery)
	defer tick.Stop()
	var start time.Duration
	n := int64(-1)
	for {
		now := o.runningTime()
		if n < 0 {
			start, n = now, 0
		}
		for {
			pts := start + time.Duration(n*silenceSamples*int64(time.Second)/silenceRate)
			if pts > now+silenceAhead {
				break
			}
			buf := gst.NewBufferFromBytes(o.silence.frame)
			buf.SetPresentationTimestamp(gst.ClockTime(pts))
			buf.SetDuration(gst.ClockTime(silenceSamples * int64(time.Second) / silenceRate))
			ret := o.audio.PushBuffer(buf)
			releaseBuffer(buf)
			if ret != gst.FlowOK {
				return // the pipeline is stopping
			}
			n++
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}
