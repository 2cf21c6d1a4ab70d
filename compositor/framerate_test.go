package compositor

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pipcam/pipcam/media"
)

// ptsRate is access units per second of picture time.
func ptsRate(aus []media.AccessUnit) float64 {
	span := aus[len(aus)-1].PTS - aus[0].PTS
	return float64(len(aus)-1) / span.Seconds()
}

// Each access unit carries its capture time, a moment ago on the wall
// clock; SetFramerate lowers the encoded rate live and raises it again;
// FLVClients counts connected FLV clients.
func TestCaptureTimeFramerateAndFLVClients(t *testing.T) {
	cfg := testConfig()
	g := startGraph(t, cfg)
	aus, cancel := g.Subscribe(64)
	defer cancel()
	for _, au := range nextAUs(t, aus, 10) {
		age := time.Since(au.Capture)
		if au.Capture.IsZero() || age < 0 || age > 2*time.Second {
			t.Fatalf("capture time %v is %v ago", au.Capture, age)
		}
	}

	if err := g.SetFramerate(5); err != nil {
		t.Fatal(err)
	}
	// The new rate reaches the encoder as caps, with a keyframe.
	low := fromKeyframe(t, g, aus, 11)
	if r := ptsRate(low); r < 4 || r > 6 {
		t.Fatalf("%.1f pictures/s after SetFramerate(5)", r)
	}
	if err := g.SetFramerate(5); err != nil { // the same again: nothing changes
		t.Fatal(err)
	}
	if err := g.SetFramerate(15); err != nil {
		t.Fatal(err)
	}
	if r := ptsRate(fromKeyframe(t, g, aus, 16)); r < 13 || r > 17 {
		t.Fatalf("%.1f pictures/s after SetFramerate(15)", r)
	}
	for _, bad := range []int{0, 16} {
		if err := g.SetFramerate(bad); err == nil {
			t.Errorf("SetFramerate(%d) accepted", bad)
		}
	}

	if n := g.FLVClients(); n != 0 {
		t.Fatalf("%d FLV clients before any connected", n)
	}
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", g.FLVPort()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for g.FLVClients() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("FLV clients %d with one connected", g.FLVClients())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := g.Status().(Status).FLVClients; n != 1 {
		t.Fatalf("status says %d FLV clients with one connected", n)
	}
}
