package signaling

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Every flavour of viewer gets each picture's capture time in the
// abs-capture-time header extension: the SDP negotiates it, the pion
// viewer parses it from the RTP, and capture to arrival on loopback is
// small and never negative.
func TestCaptureTimeReachesViewers(t *testing.T) {
	src := newReplaySource(t)
	_, hs := startServer(t, src, nil)
	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			v, err := d.dial(ctx, hs.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if !strings.Contains(v.RemoteSDP(), absCaptureTimeURI) && d.name == "cs-request" {
				t.Fatalf("the server's offer does not offer abs-capture-time:\n%s", v.RemoteSDP())
			}
			var lat []time.Duration
			for len(lat) < 15 {
				select {
				case au := <-v.AUs():
					if au.Capture.IsZero() {
						t.Fatalf("access unit %d has no capture time (answer:\n%s)", len(lat), v.RemoteSDP())
					}
					lat = append(lat, au.Latency())
				case <-ctx.Done():
					t.Fatalf("got %d access units", len(lat))
				}
			}
			for _, l := range lat {
				// NTP's 2^-32 s resolution rounds a little either way.
				if l < -time.Millisecond || l > 2*time.Second {
					t.Fatalf("capture to arrival %v on loopback (all: %v)", l, lat)
				}
			}
			t.Logf("capture to arrival on loopback: %v", lat)
		})
	}
}
