package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"

	"github.com/pipcam/pipcam/configs"
)

// The dashboard in a real headless Chromium (Debian's package) against the
// real daemon: it plays WebRTC at the composite's size, its swap button
// changes the layout while frames keep decoding, and with WebRTC taken
// away it says why and shows MJPEG.
func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("Chromium: not in -short")
	}
	cfg := testConfig()
	cfg.HTTP.Token = "dashboard-test-token-0123456789"
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr() + "/"
	browser := startChromium(t)

	t.Run("plays WebRTC", func(t *testing.T) {
		ctx := tab(t, browser, "")
		navigate(t, ctx, base)
		poll[bool](t, ctx, `window.pipcam && window.pipcam.mode === 'webrtc'`, 20*time.Second, "the dashboard to play WebRTC")
		// The first decoded frame (the dashboard's sign it plays) reaches
		// the <video> element's size a moment later: CI once read 0x0.
		size := poll[[]int](t, ctx, `(() => { const v = document.getElementById('video'); return v.videoWidth > 0 && [v.videoWidth, v.videoHeight]; })()`,
			5*time.Second, "the video's size")
		if size[0] != cfg.Output.Width || size[1] != cfg.Output.Height {
			t.Fatalf("video is %dx%d, want the composite's %dx%d", size[0], size[1], cfg.Output.Width, cfg.Output.Height)
		}
		f1 := framesDecodedBy(t, ctx, dashboardPC)
		poll[bool](t, ctx, framesDecodedAbove(dashboardPC, f1+15), 10*time.Second, "frames to keep decoding")

		// Without the token the swap is refused and the page says what to do.
		click(t, ctx, "#swap")
		msg := poll[string](t, ctx, `(() => { const m = document.getElementById('layout-msg'); return !m.hidden && m.textContent; })()`, 10*time.Second, "a message about the token")
		if !strings.Contains(msg, "pipcam token") {
			t.Fatalf("message without a token: %q", msg)
		}
		if l := getLayout(t, base); l.Main != "a" {
			t.Fatalf("layout changed without the token: %+v", l)
		}

		// The owner pastes the token once; swap now works, live.
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#token"), cfg.HTTP.Token.Reveal()),
			chromedp.Click(chromedp.CSS("#token-save")),
		); err != nil {
			t.Fatal(err)
		}
		if saved := eval[string](t, ctx, `localStorage.getItem('pipcam.token')`); saved != cfg.HTTP.Token.Reveal() {
			t.Fatalf("token kept as %q", saved)
		}
		f2 := framesDecodedBy(t, ctx, dashboardPC)
		click(t, ctx, "#swap")
		deadline := time.Now().Add(10 * time.Second)
		for l := getLayout(t, base); l.Main != "b" || l.Inset != "a"; l = getLayout(t, base) {
			if time.Now().After(deadline) {
				t.Fatalf("layout after clicking swap: %+v, want main b, inset a", l)
			}
			time.Sleep(50 * time.Millisecond)
		}
		poll[bool](t, ctx, framesDecodedAbove(dashboardPC, f2+15), 10*time.Second, "frames to keep decoding after the swap")
		if st := eval[string](t, ctx, `window.pipcam.pc.connectionState`); st != "connected" {
			t.Fatalf("peer connection %s after the swap", st)
		}
		poll[bool](t, ctx, `document.getElementById('layout-now').textContent.startsWith('main: b')`, 10*time.Second, "the page to show the new layout")
		screenshot(t, ctx, "dashboard-webrtc.png")
	})

	t.Run("falls back to MJPEG without WebRTC", func(t *testing.T) {
		ctx := tab(t, browser, `delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;`)
		navigate(t, ctx, base)
		poll[bool](t, ctx, `window.pipcam && window.pipcam.mode === 'mjpeg' && document.getElementById('mjpeg').naturalWidth > 0`,
			20*time.Second, "the dashboard to show MJPEG")
		w := eval[int](t, ctx, `document.getElementById('mjpeg').naturalWidth`)
		if w != cfg.Output.Width {
			t.Fatalf("MJPEG picture is %d wide, want %d", w, cfg.Output.Width)
		}
		notice := eval[string](t, ctx, `document.getElementById('notice').hidden ? '' : document.getElementById('notice').textContent`)
		if !strings.Contains(notice, "RTCPeerConnection") || !strings.Contains(notice, "MJPEG") {
			t.Fatalf("the page does not say why it shows MJPEG: %q", notice)
		}
		if n := d.graph.JPEGSubscribers(); n != 1 {
			t.Fatalf("%d MJPEG subscriptions, want the page's one", n)
		}
		screenshot(t, ctx, "dashboard-mjpeg.png")
	})

	// The overlay section as /api/status carries it when pipcam follows a
	// printer (overlay.Report: source, text, progress, printer{source,
	// state, state_text, job{file, progress %, left_s, layer, layers}}).
	t.Run("shows the print", func(t *testing.T) {
		ctx := tab(t, browser, `const realFetch = window.fetch;
			window.fetch = async (url, opts) => {
				const res = await realFetch(url, opts);
				if (!String(url).endsWith('api/status')) return res;
				const st = await res.json();
				st.overlay = {source: 'octoprint', text: 'Printing 42%', progress: 0.42,
					printer: {source: 'OctoPrint', state: 'printing', state_text: 'Printing',
						job: {file: 'benchy.gcode', progress: 42.4, left_s: 3720, layer: 17, layers: 120}}};
				return new Response(JSON.stringify(st), {status: 200, headers: {'Content-Type': 'application/json'}});
			};`)
		navigate(t, ctx, base)
		line := poll[string](t, ctx, `!document.getElementById('print').hidden && document.getElementById('print-pct').textContent`, 10*time.Second, "the print box")
		for _, want := range []string{"42.4 %", "layer 17 of 120", "1 h 2 min left"} {
			if !strings.Contains(line, want) {
				t.Fatalf("print figures %q lack %q", line, want)
			}
		}
		if v := eval[float64](t, ctx, `document.getElementById('print-progress').value`); v < 42 || v > 43 {
			t.Fatalf("progress bar at %v, want 42.4", v)
		}
		if text := eval[string](t, ctx, `document.getElementById('print-state').textContent + '|' + document.getElementById('print-text').textContent`); text != "Printing|benchy.gcode\nPrinting 42%" {
			t.Fatalf("print state and text %q", text)
		}
	})

	t.Run("fits a phone", func(t *testing.T) {
		ctx := tab(t, browser, "")
		if err := chromedp.Do(ctx, chromedp.Emulate(device.IPhone12)); err != nil {
			t.Fatal(err)
		}
		navigate(t, ctx, base)
		poll[bool](t, ctx, `window.pipcam && window.pipcam.mode === 'webrtc'`, 20*time.Second, "the dashboard to play WebRTC on a phone")
		widths := eval[[]float64](t, ctx, `[window.innerWidth, document.documentElement.scrollWidth,
			document.getElementById('video').getBoundingClientRect().width, document.getElementById('swap').getBoundingClientRect().right]`)
		if widths[1] > widths[0] || widths[2] > widths[0] || widths[3] > widths[0] {
			t.Fatalf("on a %.0f px wide phone the page is %.0f wide, the video %.0f, the swap button ends at %.0f", widths[0], widths[1], widths[2], widths[3])
		}
		screenshot(t, ctx, "dashboard-phone.png")
	})
}

// dashboardPC is the dashboard player's peer connection.
const dashboardPC = `window.pipcam.pc`

// framesDecodedOf reads the player's own getStats() (pc is a JavaScript
// expression for its RTCPeerConnection), not figures a page shows.
func framesDecodedOf(pc string) string {
	return `(async () => { const s = await ` + pc + `.getStats(); let f = 0;
	s.forEach(r => { if (r.type === 'inbound-rtp' && r.kind === 'video') f = r.framesDecoded; }); return f; })()`
}

func framesDecodedAbove(pc string, n int) string {
	return `(async () => (await ` + framesDecodedOf(pc) + `) > ` + strconv.Itoa(n) + `)()`
}

func framesDecodedBy(t *testing.T, ctx context.Context, pc string) int {
	t.Helper()
	return eval[int](t, ctx, framesDecodedOf(pc))
}

func getLayout(t *testing.T, base string) configs.Layout {
	t.Helper()
	resp, err := http.Get(base + "api/layout")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l configs.Layout
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	return l
}

// startChromium starts one headless Chromium for the test, with a fresh
// profile, and returns its browser context.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not installed: run make deps")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // as root
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// tab opens a new tab with a deadline; init, if given, runs in every page
// before the page's own scripts.
func tab(t *testing.T, browser context.Context, init string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel() })
	if init != "" {
		_, err := chromedp.Run(ctx, chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: init})
			return chromedp.Void{}, err
		}))
		if err != nil {
			t.Fatal(err)
		}
	}
	return ctx
}

func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// poll waits until js is truthy and returns its value.
func poll[T any](t *testing.T, ctx context.Context, js string, timeout time.Duration, what string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](js, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({mode: window.pipcam && window.pipcam.mode, reason: window.pipcam && window.pipcam.reason, stats: window.pipcam && window.pipcam.stats})`))
		t.Fatalf("waiting for %s: %v (page state %s)", what, err, state)
	}
	return v
}

// screenshot saves the page as a test artifact and prints where.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
