package signaling

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/viewer"
)

// encoderKnobs records what adaptation asks of the encoder.
type encoderKnobs struct {
	mu        sync.Mutex
	kbps, fps int
	bitrates  []int
}

func (e *encoderKnobs) SetBitrate(kbps int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.kbps = kbps
	e.bitrates = append(e.bitrates, kbps)
	return nil
}

func (e *encoderKnobs) SetFramerate(fps int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fps = fps
	return nil
}

func (e *encoderKnobs) now() (kbps, fps int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.kbps, e.fps
}

func adaptiveServer(t *testing.T, src VideoSource, knobs *encoderKnobs) (*Server, string) {
	t.Helper()
	s, hs := startServer(t, src, func(o *Options) {
		o.Adaptation = Adaptation{
			Bitrate: knobs, Framerate: knobs, Kbps: 400, FPS: 15,
			Config: configs.Default().Encoder.Adaptive,
		}
	})
	return s, hs.URL
}

type statusDoc struct {
	Stream struct {
		TargetKbps *int   `json:"target_kbps"`
		TargetFPS  *int   `json:"target_fps"`
		Adaptation string `json:"adaptation"`
	} `json:"stream"`
	Sessions []struct {
		ID             string `json:"id"`
		EstimateKbps   int    `json:"estimate_kbps"`
		EstimateSource string `json:"estimate_source"`
		Receiving      string `json:"receiving"`
		KeyRequests    int    `json:"keyframe_requests"`
		RTCPUnparsed   int    `json:"rtcp_unparsed"`
		AtSocket       int    `json:"feedback_at_socket"`
		RTPAtSocket    bool   `json:"rtp_at_socket"`
		Resent         uint64 `json:"nack_resent"`
	} `json:"sessions"`
}

func getStatus(t *testing.T, base string) statusDoc {
	t.Helper()
	return getJSON[statusDoc](t, base+"/api/status")
}

func dialWatch(t *testing.T, base string, o viewer.Options) *viewer.Viewer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	o.Logger = testLogger()
	v, err := viewer.DialWHEP(ctx, base, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.WaitFirstDecodable(ctx); err != nil {
		t.Fatal(err)
	}
	return v
}

// A viewer that reports only REMB sets the target through it; one with
// transport-wide feedback gets a GCC estimate; status shows both; when the
// weak viewer leaves the target climbs back, and with nobody left it is
// the configured bitrate again.
func TestFeedbackSetsTheTarget(t *testing.T) {
	checkLeaks(t)
	src := newReplaySource(t)
	knobs := &encoderKnobs{}
	_, base := adaptiveServer(t, src, knobs)

	weak := dialWatch(t, base, viewer.Options{REMB: func() float32 { return 150_000 }})
	waitFor(t, 10*time.Second, "target from REMB", func() bool {
		kbps, fps := knobs.now()
		return kbps == 135 && fps == 10
	})
	fast := dialWatch(t, base, viewer.Options{})
	waitFor(t, 10*time.Second, "a transport-wide CC estimate in status", func() bool {
		sources := map[string]int{}
		for _, s := range getStatus(t, base).Sessions {
			sources[s.EstimateSource] = s.EstimateKbps
		}
		return sources["remb"] == 150 && sources["twcc"] > 0
	})
	st := getStatus(t, base)
	if *st.Stream.TargetKbps != 135 || *st.Stream.TargetFPS != 10 || st.Stream.Adaptation == "" {
		t.Fatalf("status stream %+v", st.Stream)
	}
	weak.Close()
	waitFor(t, 15*time.Second, "target back at 400 without the weak viewer", func() bool {
		kbps, fps := knobs.now()
		return kbps == 400 && fps == 15
	})
	fast.Close()
	waitFor(t, 10*time.Second, "no viewers in status", func() bool {
		st := getStatus(t, base)
		return st.Stream.Adaptation == "no viewers" && *st.Stream.TargetKbps == 400
	})
}

// A viewer far below the others gets keyframes only, status says why,
// and its PLIs no longer reach the encoder.
func TestOutlierGetsKeyframesOnly(t *testing.T) {
	src := newReplaySource(t)
	knobs := &encoderKnobs{}
	_, base := adaptiveServer(t, src, knobs)
	fast := []*viewer.Viewer{dialWatch(t, base, viewer.Options{}), dialWatch(t, base, viewer.Options{})}
	slow := dialWatch(t, base, viewer.Options{REMB: func() float32 { return 40_000 }})
	waitFor(t, 15*time.Second, "the slow viewer on keyframes only", func() bool {
		for _, s := range getStatus(t, base).Sessions {
			if s.EstimateSource == "remb" && s.Receiving == "keyframes only: its link is far below the other viewers'" {
				return true
			}
		}
		return false
	})
	// What the server had queued for it before may still come, up to the
	// first keyframe admitted after the switch; from the second keyframe
	// on, only keyframes.
	drain(slow)
	var keys, others int
	deadline := time.After(20 * time.Second)
	var window <-chan time.Time
	func() {
		for {
			select {
			case au := <-slow.AUs():
				switch {
				case au.Keyframe:
					keys++
					if keys == 2 && window == nil {
						window = time.After(6 * time.Second)
						keys, others = 1, 0
					}
				default:
					others++
				}
			case <-window:
				return
			case <-deadline:
				t.Fatalf("keyframes-only viewer got %d keyframes in 20 s (stats %+v)", keys, slow.Stats())
			}
		}
	}()
	if others != 0 {
		t.Fatalf("keyframes-only viewer got %d other frames in 6 s after its second keyframe", others)
	}
	t.Logf("keyframes-only viewer: %d keyframes in the 6 s from its second", keys)
	before := src.requests.Load()
	for i := 0; i < 5; i++ {
		if err := slow.SendPLI(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "the server to count the slow viewer's PLIs", func() bool {
		for _, s := range getStatus(t, base).Sessions {
			if s.EstimateSource == "remb" && s.KeyRequests >= 5 {
				return true
			}
		}
		return false
	})
	if n := src.requests.Load() - before; n != 0 {
		t.Fatalf("%d keyframe requests from a keyframes-only viewer's PLIs", n)
	}
	if kbps, _ := knobs.now(); kbps != 0 && kbps != 400 {
		t.Fatalf("the outlier moved the target to %d", kbps)
	}
	for _, v := range fast {
		if n := v.Stats().AUs; n == 0 {
			t.Fatal("a fast viewer got nothing")
		}
	}
}

func drain(v *viewer.Viewer) {
	for {
		select {
		case <-v.AUs():
		default:
			return
		}
	}
}
