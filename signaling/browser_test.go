package signaling

import (
	"context"
	_ "embed"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"
)

//go:embed testdata/viewer.html
var viewerPage []byte

type pageResult struct {
	FirstFrameMs  float64  `json:"firstFrameMs"`
	FramesDecoded int      `json:"framesDecoded"`
	AudioDeclined bool     `json:"audioDeclined"`
	Error         string   `json:"error"`
	Errors        []string `json:"errors"`
}

// startBrowser starts headless Debian Chromium for the test.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not installed: run make deps (Debian package chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in CI
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if _, err := chromedp.Run(browser, chromedp.Evaluate[int](`1`)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browser
}

// openPage loads the viewer page in a new tab and returns what it saw.
func openPage(t *testing.T, browser context.Context, pageURL string) pageResult {
	t.Helper()
	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[pageResult](`window.done`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("page %s: %v", pageURL, err)
	}
	if res.Error != "" || len(res.Errors) > 0 || res.FramesDecoded == 0 {
		t.Fatalf("page %s: %+v", pageURL, res)
	}
	return res
}

// browserSuite starts what a browser test needs (a source, Chromium, the
// viewer page's server), or skips in -short.
func browserSuite(t *testing.T) (*replaySource, context.Context, *httptest.Server) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser suite: not in -short")
	}
	return newReplaySource(t), startBrowser(t), pageServer(t)
}

// pageServer serves the viewer page from an origin of its own.
func pageServer(t *testing.T) *httptest.Server {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(viewerPage)
	}))
	t.Cleanup(hs.Close)
	return hs
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestChromium: headless Chromium on a page of another origin shows the
// first frame of camera-streamer's server-offer flow (Mainsail's way, with
// a STUN server in the request — one that never answers, as on a printer
// without internet) within 500 ms of page load, and accepts pipcam's
// answer to its client offer with a declined audio m-line (OctoPrint's
// classic webcam).
func TestChromium(t *testing.T) {
	src, browser, page := browserSuite(t)
	hole, _ := blackHoleSTUN(t)

	measure := func(name string, runs int, stun string, mod func(*Options)) []float64 {
		_, hs := startServer(t, src, mod)
		var firsts []float64
		for i := 0; i < runs; i++ {
			q := url.Values{"mode": {"request"}, "url": {hs.URL + "/webrtc"}, "stun": {stun}}
			res := openPage(t, browser, page.URL+"/viewer.html?"+q.Encode())
			firsts = append(firsts, res.FirstFrameMs)
		}
		t.Logf("%s: first frame %v ms after page load (median %.0f ms)", name, firsts, median(firsts))
		return firsts
	}
	// For comparison, pion's default acceptance waits (what pipcam had).
	measure("pion default acceptance waits", 3, hole, func(o *Options) {
		o.SettingEngine = func(se *webrtc.SettingEngine) {
			se.SetPrflxAcceptanceMinWait(time.Second)
			se.SetSrflxAcceptanceMinWait(500 * time.Millisecond)
		}
	})
	measure("pipcam, no STUN server in the request", 3, "", nil)
	firsts := measure("pipcam, unreachable STUN server in the request", 7, hole, nil)
	if m := median(firsts); m > 500 && !raceEnabled {
		t.Errorf("median first frame %.0f ms after page load, want within 500 ms", m)
	}

	_, hs := startServer(t, src, nil)
	q := url.Values{"mode": {"offer"}, "url": {hs.URL + "/webrtc"}}
	res := openPage(t, browser, page.URL+"/viewer.html?"+q.Encode())
	if !res.AudioDeclined {
		t.Errorf("client offer: audio m-line not declined with port 0: %+v", res)
	}
	t.Logf("client offer (OctoPrint 1.11 flavour): first frame %.0f ms after page load, %d frames decoded", res.FirstFrameMs, res.FramesDecoded)
}

// Chromium's transport-wide feedback is read at the ICE socket (pipcam the
// DTLS server, whichever side offered) and drives the estimate, and the
// video Chromium decodes was encrypted there (srtpsend.go), in both of
// camera-streamer's flows.
func TestChromiumAtTheSocket(t *testing.T) {
	src, browser, page := browserSuite(t)
	for _, mode := range []string{"offer", "request"} {
		_, base := adaptiveServer(t, src, &encoderKnobs{})
		q := url.Values{"mode": {mode}, "url": {base + "/webrtc"}}
		tab, closeTab := chromedp.NewContext(browser)
		ctx, cancel := context.WithTimeout(tab, 30*time.Second)
		if _, err := chromedp.Run(ctx, chromedp.Navigate(page.URL+"/viewer.html?"+q.Encode())); err != nil {
			t.Fatalf("%s: open page: %v", mode, err)
		}
		res, err := chromedp.Run(ctx, chromedp.Evaluate[pageResult](`window.done`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: page: %v", mode, err)
		}
		if res.FramesDecoded == 0 || res.Error != "" {
			t.Fatalf("%s: page: %+v", mode, res)
		}
		waitFor(t, 10*time.Second, mode+": Chromium's feedback read at the socket, a transport-wide estimate", func() bool {
			for _, s := range getStatus(t, base).Sessions {
				if s.AtSocket > 5 && s.EstimateSource == "twcc" && s.EstimateKbps > 0 {
					return true
				}
			}
			return false
		})
		if s := getStatus(t, base).Sessions; len(s) != 1 || !s[0].RTPAtSocket {
			t.Fatalf("%s: sessions %+v, want one whose video is encrypted at the socket", mode, s)
		}
		cancel()
		closeTab()
	}
}

// Chromium recovers packets lost on the way with NACKs that pipcam
// answers from its own history and encrypts at the socket: once it shows
// the picture, 3 % of what the ICE socket sends is lost (nftables on this
// host, that port only), and Chromium asks, gets answers, and needs no
// keyframe and does not freeze. (Loss before the first picture may
// rightly cost a keyframe request, so the rule comes after it.) The drop
// is on the way in, where the receiver's side of loopback runs: a drop on
// the way out makes sendmmsg stop there with EPERM, and the batch sends
// the refused datagram again, so hardly any was lost. Loopback cuts GSO
// messages in software here (as a WiFi driver without UDP segmentation
// offload does), so netfilter sees each packet, not a viewer's frame.
func TestChromiumRecoversLossWithNACK(t *testing.T) {
	src, browser, page := browserSuite(t)
	_, base := adaptiveServer(t, src, &encoderKnobs{})
	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	q := url.Values{"mode": {"offer"}, "url": {base + "/webrtc"}}
	if _, err := chromedp.Run(ctx, chromedp.Navigate(page.URL+"/viewer.html?"+q.Encode())); err != nil {
		t.Fatal(err)
	}
	if res, err := chromedp.Run(ctx, chromedp.Evaluate[pageResult](`window.done`, chromedp.EvalAwaitPromise)); err != nil || res.FramesDecoded == 0 {
		t.Fatalf("page: %+v %v", res, err)
	}
	type inbound struct {
		FramesDecoded, PacketsLost, NackCount, PliCount, FreezeCount int
	}
	stats := func() inbound {
		t.Helper()
		in, err := chromedp.Run(ctx, chromedp.Evaluate[inbound](`(async () => {
			let r = {};
			(await window.pc.getStats()).forEach(s => {
				if (s.type === 'inbound-rtp' && s.kind === 'video') {
					r = {FramesDecoded: s.framesDecoded, PacketsLost: s.packetsLost, NackCount: s.nackCount, PliCount: s.pliCount, FreezeCount: s.freezeCount || 0};
				}
			});
			return r;
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	before := stats()

	segmentOnLoopback(t)
	port := strconv.Itoa(getICEStatus(t, base).ICE.Port)
	table := "pipcamloss" + port
	nft := exec.Command("nft", "-f", "-")
	nft.Stdin = strings.NewReader("table inet " + table + " { chain in { type filter hook input priority 0; udp sport " +
		port + " numgen random mod 100 < 3 drop; }; }")
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "inet", table).Run() })
	// Watch until Chromium has asked a few times, then give the last
	// answers time to land.
	waitFor(t, 30*time.Second, "Chromium's NACKs under the loss", func() bool { return stats().NackCount >= before.NackCount+3 })
	time.Sleep(2 * time.Second)
	after := stats()
	var resent uint64
	for _, s := range getStatus(t, base).Sessions {
		resent = s.Resent
	}
	t.Logf("Chromium before the loss: %+v; after: %+v; pipcam answered %d NACKed packets", before, after, resent)
	if resent == 0 {
		t.Errorf("Chromium sent %d NACKs and pipcam answered none", after.NackCount-before.NackCount)
	}
	if after.PliCount != before.PliCount || after.FreezeCount != before.FreezeCount {
		t.Errorf("under the loss Chromium asked for %d keyframes and froze %d times: the answers did not recover it",
			after.PliCount-before.PliCount, after.FreezeCount-before.FreezeCount)
	}
}

// segmentOnLoopback has lo cut GSO messages into datagrams in software
// when it sends them, until the test ends (it takes them whole
// otherwise, and the receiver's side cuts them after netfilter).
func segmentOnLoopback(t *testing.T) {
	t.Helper()
	features, err := exec.Command("ethtool", "-k", "lo").CombinedOutput()
	if err != nil {
		t.Fatalf("ethtool (make deps installs it): %v: %s", err, features)
	}
	if !strings.Contains(string(features), "tx-udp-segmentation: on") {
		return // already off, or not offered
	}
	if out, err := exec.Command("ethtool", "-K", "lo", "tx-udp-segmentation", "off").CombinedOutput(); err != nil {
		t.Fatalf("ethtool: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ethtool", "-K", "lo", "tx-udp-segmentation", "on").Run() })
}
