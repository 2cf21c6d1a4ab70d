package signaling

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

func TestCameraStreamerRequest(t *testing.T) {
	checkLeaks(t)
	src := newReplaySource(t)
	s, hs := startServer(t, src, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := viewer.DialCameraStreamerRequest(ctx, hs.URL, viewer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	receiveSome(t, v, 10)
	if !strings.Contains(v.RemoteSDP(), "a=sendonly") {
		t.Errorf("server offer video is not sendonly:\n%s", v.RemoteSDP())
	}
	if strings.Contains(v.RemoteSDP(), "m=audio") {
		t.Errorf("server offer has audio:\n%s", v.RemoteSDP())
	}
	v.Close()
	waitFor(t, 15*time.Second, "session removed after the peer closed", func() bool { return s.Stats().Sessions == 0 })
}

func TestCameraStreamerClientOffer(t *testing.T) {
	src := newReplaySource(t)
	_, hs := startServer(t, src, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := viewer.DialCameraStreamerOffer(ctx, hs.URL, viewer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	receiveSome(t, v, 10)
	checkAudioDeclined(t, v.RemoteSDP())
	t.Logf("answer:\n%s", v.RemoteSDP())
}
