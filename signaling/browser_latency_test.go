package signaling

import (
	"context"
	_ "embed"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

//go:embed testdata/latency.html
var latencyPage []byte

type latencyResult struct {
	Negotiated    []string `json:"negotiated"`
	FramesDecoded int      `json:"framesDecoded"`
	StatsKeys     []string `json:"statsKeys"`
	TimeOrigin    float64  `json:"timeOrigin"`
	Samples       []struct {
		Timestamp               float64  `json:"timestamp"`
		CaptureTimestamp        float64  `json:"captureTimestamp"`
		SenderCaptureTimeOffset *float64 `json:"senderCaptureTimeOffset"`
	} `json:"samples"`
	Error string `json:"error"`
}

// ntpEpochOffsetMs is 1900-01-01 to 1970-01-01 in milliseconds: Chromium
// reports capture times on the sender's NTP clock.
const ntpEpochOffsetMs = 2208988800000

// TestChromiumReadsCaptureTime: headless Chromium, asked for the
// abs-capture-time extension (a page has to: it is stopped by default),
// negotiates it with pipcam and reports each frame's capture time in its
// receiver's synchronization sources, a moment before the frame's arrival
// on the same machine.
func TestChromiumReadsCaptureTime(t *testing.T) {
	if testing.Short() {
		t.Skip("browser suite: not in -short")
	}
	src := newReplaySource(t)
	browser := startBrowser(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(latencyPage)
	}))
	t.Cleanup(page.Close)
	_, hs := startServer(t, src, nil)

	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	pageURL := page.URL + "/latency.html?" + url.Values{"url": {hs.URL + "/whep"}}.Encode()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[latencyResult](`window.done`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if res.Error != "" || res.FramesDecoded == 0 {
		t.Fatalf("page: %+v", res)
	}
	if !slices.Contains(res.Negotiated, absCaptureTimeURI) {
		t.Fatalf("abs-capture-time not negotiated; Chromium has %v", res.Negotiated)
	}
	if len(res.Samples) == 0 {
		t.Fatalf("no capture time in the synchronization sources (%d frames decoded; inbound-rtp stats have %v)", res.FramesDecoded, res.StatsKeys)
	}
	var lat []float64
	for _, s := range res.Samples {
		// timestamp: when the frame was delivered, Unix ms; captureTimestamp:
		// NTP ms on pipcam's clock (this machine's), offset 0.
		l := s.Timestamp - (s.CaptureTimestamp - ntpEpochOffsetMs)
		if s.SenderCaptureTimeOffset != nil {
			l -= *s.SenderCaptureTimeOffset
		}
		lat = append(lat, l)
	}
	slices.Sort(lat)
	t.Logf("Chromium: %d frames decoded; capture to delivery for playout p50 %.0f ms, max %.0f ms (%d samples)",
		res.FramesDecoded, lat[len(lat)/2], lat[len(lat)-1], len(lat))
	if lat[0] < -5 || lat[len(lat)-1] > 1000 {
		t.Fatalf("capture to delivery %v ms on loopback", lat)
	}
}
