package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/haproxytest"
	"github.com/pipcam/pipcam/internal/octoprinttest"
)

// OctoPrint's webcam with pipcam, every part real: the daemon (test
// cameras, x264), OctoPrint 1.11 from PyPI, OctoPi's haproxy routing (/ to
// OctoPrint, /webcam/ to pipcam, prefix stripped) and headless Chromium
// logged in through OctoPrint's login page. One OctoPrint for all cases:
// first the classic webcam as a stock OctoPi has it (no plugin), then the
// plugin installed and OctoPrint restarted, as a user does.
func TestOctoPrintWebcam(t *testing.T) {
	if testing.Short() {
		t.Skip("real OctoPrint, haproxy and Chromium: not in -short")
	}
	need(t, "ffmpeg") // OctoPrint takes timelapses only with ffmpeg's path set
	ffmpeg, _ := exec.LookPath("ffmpeg")
	cfg := testConfig()
	cfg.HTTP.Token = "octoprint-webcam-token-0123456789"
	token := cfg.HTTP.Token.Reveal()
	d := startTestDaemon(t, cfg)
	pipcam := "http://" + d.HTTPAddr() + "/"

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	op, err := octoprinttest.Start(ctx, octoprinttest.Options{Settings: map[string]any{
		"webcam": map[string]any{
			"ffmpeg": ffmpeg,
			// A timed timelapse, a frame a second, kept unrendered to look at.
			"timelapse": map[string]any{"type": "timed", "options": map[string]any{"interval": 1}, "renderAfterPrint": "off"},
		},
	}, DebugLoggers: []string{"octoprint.timelapse"}}) // it names the provider of each frame
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("OctoPrint console:\n%s", op.LogTail(6000))
		}
		op.Close()
	})
	proxy := haproxytest.Start(t, d.HTTPAddr(), strings.TrimPrefix(op.URL, "http://"))
	browser := startChromium(t)

	t.Run("classic webcam, no plugin: webrtc:// through /webcam/", func(t *testing.T) {
		// What the classic webcam's settings dialog saves for pipcam on OctoPi.
		saveSettings(t, ctx, op, map[string]any{"plugins": map[string]any{"classicwebcam": map[string]any{
			"stream":      "webrtc://" + strings.TrimPrefix(proxy, "http://") + "/webcam/webrtc",
			"snapshot":    pipcam + "?action=snapshot",
			"streamRatio": "4:3",
		}}})
		page := openOctoPrint(t, browser, proxy, op, "")
		openControl(t, page, "webcam_plugin_classicwebcam_real")
		plays(t, page, `ko.dataFor(document.getElementById('classicwebcam_container')).webRTCPeerConnection`, "#webcam_webrtc", cfg)
		if !calledPipcam(t, page, proxy+"/webcam/webrtc") {
			t.Fatal("the classic webcam did not offer to /webcam/webrtc")
		}
		checkJPEG(t, "OctoPrint's snapshot URL test", snapshotURLTest(t, ctx, op, pipcam+"?action=snapshot"), cfg)
		screenshot(t, page, "octoprint-classic-webcam.png")
	})

	installed := t.Run("the plugin installs", func(t *testing.T) {
		if err := op.InstallPlugin(ctx, pluginProject()); err != nil {
			t.Fatal(err)
		}
		if err := op.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		// The user points the plugin at pipcam (its settings dialog).
		saveSettings(t, ctx, op, map[string]any{"plugins": map[string]any{"pipcam": map[string]any{"internal_url": pipcam}}})
		cams := octoprintWebcams(t, ctx, op)
		cam := cams.find(t, "pipcam")
		if cam.Provider != "pipcam" || !cam.CanSnapshot || cam.Compat.Snapshot != pipcam+"?action=snapshot" {
			t.Fatalf("OctoPrint lists the plugin's webcam as %+v", cam)
		}
		// Installing made it OctoPrint's default and snapshot webcam.
		if cams.Default != "pipcam" || cams.Snapshot != "pipcam" {
			t.Fatalf("after installing the plugin OctoPrint's default webcam is %q, its snapshot webcam %q", cams.Default, cams.Snapshot)
		}
	})
	if !installed {
		return
	}

	t.Run("settings change the layout live, the token stays on the server", func(t *testing.T) {
		page := openOctoPrint(t, browser, proxy, op, "")
		click(t, page, "#navbar_show_settings")
		click(t, page, "#settings_plugin_pipcam_link a")
		waitVisible(t, page, "#pipcam_token")
		if err := chromedp.Do(page, chromedp.SendKeys(chromedp.CSS("#pipcam_token"), token)); err != nil {
			t.Fatal(err)
		}
		click(t, page, "#pipcam_token_save")
		if msg := poll[string](t, page, `(() => { const t = document.getElementById('pipcam_check').textContent; return t.includes('token') && t; })()`,
			15*time.Second, "the connection test after saving the token"); !strings.Contains(msg, "the token works") {
			t.Fatalf("after saving the token the page says %q", msg)
		}

		click(t, page, "#pipcam_corner_top-left")
		waitLayout(t, pipcam, "corner top-left", func(l configs.Layout) bool { return l.Corner == "top-left" })
		before := getLayout(t, pipcam)
		click(t, page, "#pipcam_settings_swap")
		waitLayout(t, pipcam, "the cameras swapped", func(l configs.Layout) bool { return l.Main == before.Inset && l.Inset == before.Main })
		poll[bool](t, page, `document.getElementById('pipcam_layout_text').textContent.startsWith('main: `+before.Inset+`')`, 10*time.Second, "the page to show the new layout")
		if err := chromedp.Do(page, chromedp.ScrollIntoView(chromedp.CSS("#pipcam_layout_text"))); err != nil {
			t.Fatal(err)
		}
		screenshot(t, page, "octoprint-pipcam-settings.png")

		// Nothing the browser gets holds the token: OctoPrint's settings
		// API (as this session reads it), the settings the page keeps,
		// the page itself.
		for what, js := range map[string]string{
			"GET /api/settings":       `fetch('api/settings').then(r => r.json()).then(JSON.stringify)`,
			"the settings view model": `JSON.stringify(ko.toJS(OctoPrint.coreui.viewmodels.settingsViewModel.settings))`,
		} {
			got := eval[string](t, page, js)
			if !strings.Contains(got, `"internal_url":"`+pipcam+`"`) {
				t.Errorf("%s lacks the plugin's settings: %.300s", what, got)
			}
			if strings.Contains(got, token) {
				t.Errorf("%s holds the token", what)
			}
		}
		if strings.Contains(eval[string](t, page, `document.documentElement.outerHTML`), token) {
			t.Error("the page holds the token")
		}
		// Saving the settings dialog (which sends the plugin's settings
		// back without the token) keeps the token on the server.
		click(t, page, "#settings_dialog button[data-test-id=settings-save]")
		poll[bool](t, page, `!document.getElementById('settings_dialog').classList.contains('in')`, 15*time.Second, "the settings dialog to close")
		var state struct {
			TokenSet bool `json:"token_set"`
		}
		apiJSON(t, ctx, op, http.MethodGet, "/api/plugin/pipcam", nil, &state)
		stored, err := os.ReadFile(filepath.Join(op.BaseDir, "config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !state.TokenSet || !bytes.Contains(stored, []byte(token)) {
			t.Fatalf("after saving the settings: token_set %v, in config.yaml %v", state.TokenSet, bytes.Contains(stored, []byte(token)))
		}
	})

	t.Run("Control tab plays pipcam's WebRTC through the plugin", func(t *testing.T) {
		page := openOctoPrint(t, browser, proxy, op, "")
		openControl(t, page, "webcam_plugin_pipcam")
		poll[bool](t, page, `window.pipcamPlugin && window.pipcamPlugin.mode() === 'webrtc'`, 20*time.Second, "the plugin to play WebRTC")
		plays(t, page, `window.pipcamPlugin.pc`, "#pipcam_video", cfg)
		if !calledPipcam(t, page, proxy+"/webcam/webrtc") {
			t.Fatal("the plugin did not offer to /webcam/webrtc")
		}

		// The toolbar's swap goes through the plugin's server side (the
		// token) while the picture keeps playing.
		before := getLayout(t, pipcam)
		f := framesDecodedBy(t, page, `window.pipcamPlugin.pc`)
		click(t, page, "#pipcam_swap")
		waitLayout(t, pipcam, "the cameras swapped", func(l configs.Layout) bool { return l.Main == before.Inset && l.Inset == before.Main })
		poll[bool](t, page, framesDecodedAbove(`window.pipcamPlugin.pc`, f+15), 10*time.Second, "frames to keep decoding after the swap")
		screenshot(t, page, "octoprint-pipcam-control.png")

		// A browser without WebRTC: the plugin says why and shows pipcam's
		// MJPEG through the proxy.
		noRTC := openOctoPrint(t, browser, proxy, op, `delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;`)
		openControl(t, noRTC, "webcam_plugin_pipcam")
		poll[bool](t, noRTC, `window.pipcamPlugin.mode() === 'mjpeg' && document.getElementById('pipcam_mjpeg').naturalWidth > 0`, 20*time.Second, "the plugin to show MJPEG")
		mjpeg := eval[[]string](t, noRTC, `(() => { const i = document.getElementById('pipcam_mjpeg');
			return [i.src, String(i.naturalWidth), window.pipcamPlugin.reason()]; })()`)
		if mjpeg[0] != proxy+"/webcam/?action=stream" || mjpeg[1] != strconv.Itoa(cfg.Output.Width) {
			t.Fatalf("MJPEG from %s, %s wide; want %s/webcam/?action=stream, %d wide", mjpeg[0], mjpeg[1], proxy, cfg.Output.Width)
		}
		if !strings.Contains(mjpeg[2], "no WebRTC") || !strings.Contains(mjpeg[2], "MJPEG") {
			t.Fatalf("the page does not say why it shows MJPEG: %q", mjpeg[2])
		}
		if n := d.graph.JPEGSubscribers(); n < 1 {
			t.Fatalf("the page shows MJPEG but pipcam has %d MJPEG viewers", n)
		}
		screenshot(t, noRTC, "octoprint-pipcam-mjpeg.png")
	})

	t.Run("snapshots: OctoPrint's URL test and a timelapse", func(t *testing.T) {
		cam := octoprintWebcams(t, ctx, op).find(t, "pipcam")
		checkJPEG(t, "OctoPrint's snapshot URL test", snapshotURLTest(t, ctx, op, cam.Compat.Snapshot), cfg)

		// The timed timelapse over a short print: OctoPrint takes each
		// frame through the plugin's take_webcam_snapshot.
		var tl struct {
			Config struct {
				Type string `json:"type"`
			} `json:"config"`
		}
		apiJSON(t, ctx, op, http.MethodGet, "/api/timelapse", nil, &tl)
		if tl.Config.Type != "timed" {
			t.Fatalf("OctoPrint's timelapse is %q, want timed (is the snapshot webcam able to take snapshots?)", tl.Config.Type)
		}
		if err := op.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if err := op.Upload(ctx, "timelapse.gcode", octoprinttest.GCode(3*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := op.Print(ctx, "timelapse.gcode"); err != nil {
			t.Fatal(err)
		}
		done, stop := context.WithTimeout(ctx, time.Minute)
		defer stop()
		if _, err := op.WaitState(done, "Operational"); err != nil {
			t.Fatal(err)
		}
		frames := timelapseFrames(t, op, 2)
		for _, f := range frames {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			checkJPEG(t, "timelapse frame "+filepath.Base(f), data, cfg)
		}
		// Taken by the plugin (the classic webcam's snapshot is pipcam too).
		if n := strings.Count(op.LogTail(1<<20), "captured from pipcam provided by pipcam"); n < len(frames) {
			t.Fatalf("OctoPrint's log names the plugin for %d of %d timelapse frames", n, len(frames))
		}
		t.Logf("timelapse: %d frames from pipcam through the plugin", len(frames))
	})

	t.Run("the plugin's Python tests in OctoPrint's venv", func(t *testing.T) {
		python, err := octoprinttest.Python(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, python, "-m", "unittest", "-v", "test_plugin")
		cmd.Dir = filepath.Join(pluginProject(), "tests")
		cmd.Env = append(cmd.Environ(), "PIPCAM_URL="+pipcam, "PYTHONDONTWRITEBYTECODE=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s -m unittest test_plugin: %v\n%s", python, err, out)
		}
		t.Logf("%s", out)
	})
}

// pluginProject is the OctoPrint plugin's Python project in this
// repository.
func pluginProject() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "image", "octoprint_pipcam")
}

// openOctoPrint opens OctoPrint through the proxy in a new tab, logs in on
// its login page when it asks, and waits for the UI to have started.
// init, if given, runs in the page before its own scripts.
func openOctoPrint(t *testing.T, browser context.Context, proxy string, op *octoprinttest.Server, init string) context.Context {
	t.Helper()
	page := tab(t, browser, init)
	navigate(t, page, proxy+"/")
	where := poll[string](t, page, `(document.getElementById('login-user') && 'login') || (window.OctoPrint && OctoPrint.coreui && OctoPrint.coreui.startedUp && 'ui')`,
		30*time.Second, "OctoPrint's login page or its UI")
	if where == "login" {
		if err := chromedp.Do(page,
			chromedp.SendKeys(chromedp.CSS("#login-user"), op.User),
			chromedp.SendKeys(chromedp.CSS("#login-password"), op.Password),
			chromedp.Click(chromedp.CSS("#login-remember")),
			chromedp.Click(chromedp.CSS("#login-button")),
			// Across the page load the login starts (an Evaluate would fail).
			chromedp.WaitReady(chromedp.CSS("#navbar_show_settings")),
		); err != nil {
			t.Fatalf("log in: %v", err)
		}
		poll[bool](t, page, `!!(window.OctoPrint && OctoPrint.coreui && OctoPrint.coreui.startedUp)`, 30*time.Second, "OctoPrint's UI after logging in")
	}
	return page
}

// openControl opens the Control tab and wants it to show the webcam whose
// pane has the id div, without picking it (OctoPrint shows several as
// tabs).
func openControl(t *testing.T, page context.Context, div string) {
	t.Helper()
	click(t, page, `#tabs a[href="#control"]`)
	poll[bool](t, page, `document.getElementById('`+div+`').classList.contains('active')`, 10*time.Second, "the Control tab to show the webcam "+div)
}

func waitVisible(t *testing.T, page context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(page, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("waiting for %s: %v", sel, err)
	}
}

// plays waits for the peer connection pc (a JavaScript expression) to
// decode frames into the video element, at the composite's size, and to
// keep decoding.
func plays(t *testing.T, page context.Context, pc, video string, cfg *configs.Config) {
	t.Helper()
	poll[bool](t, page, framesDecodedAbove(pc, 0), 20*time.Second, "the first WebRTC frame")
	size := poll[[]int](t, page, `(() => { const v = document.querySelector('`+video+`'); return v.videoWidth > 0 && [v.videoWidth, v.videoHeight]; })()`,
		10*time.Second, "the video's size")
	if size[0] != cfg.Output.Width || size[1] != cfg.Output.Height {
		t.Fatalf("video is %dx%d, want the composite's %dx%d", size[0], size[1], cfg.Output.Width, cfg.Output.Height)
	}
	f := framesDecodedBy(t, page, pc)
	poll[bool](t, page, framesDecodedAbove(pc, f+15), 10*time.Second, "frames to keep decoding")
}

// calledPipcam tells whether the page sent a request to url.
func calledPipcam(t *testing.T, page context.Context, url string) bool {
	t.Helper()
	return eval[bool](t, page, `performance.getEntriesByType('resource').some(e => e.name === '`+url+`')`)
}

// saveSettings saves settings through OctoPrint's settings API, as its
// settings dialog does.
func saveSettings(t *testing.T, ctx context.Context, op *octoprinttest.Server, settings map[string]any) {
	t.Helper()
	if _, err := op.API(ctx, http.MethodPost, "/api/settings", settings, http.StatusOK); err != nil {
		t.Fatal(err)
	}
}

func apiJSON(t *testing.T, ctx context.Context, op *octoprinttest.Server, method, path string, body, out any) {
	t.Helper()
	data, err := op.API(ctx, method, path, body, http.StatusOK)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, data)
	}
}

// octoprintCams is the webcam part of OctoPrint's settings API.
type octoprintCams struct {
	Webcams  []octoprintCam `json:"webcams"`
	Default  string         `json:"defaultWebcam"`
	Snapshot string         `json:"snapshotWebcam"`
}

type octoprintCam struct {
	Name        string `json:"name"`
	Provider    string `json:"provider"`
	CanSnapshot bool   `json:"canSnapshot"`
	Compat      struct {
		Stream   string `json:"stream"`
		Snapshot string `json:"snapshot"`
	} `json:"compat"`
}

func octoprintWebcams(t *testing.T, ctx context.Context, op *octoprinttest.Server) octoprintCams {
	t.Helper()
	var s struct {
		Webcam octoprintCams `json:"webcam"`
	}
	apiJSON(t, ctx, op, http.MethodGet, "/api/settings", nil, &s)
	return s.Webcam
}

func (c octoprintCams) find(t *testing.T, name string) octoprintCam {
	t.Helper()
	for _, cam := range c.Webcams {
		if cam.Name == name {
			return cam
		}
	}
	t.Fatalf("OctoPrint has no webcam %q: %+v", name, c.Webcams)
	return octoprintCam{}
}

// snapshotURLTest has OctoPrint fetch url the way its webcam settings
// dialog's snapshot "Test" button does (POST /api/util/test, command url,
// the dialog's parameters) and returns the picture OctoPrint got.
func snapshotURLTest(t *testing.T, ctx context.Context, op *octoprinttest.Server, url string) []byte {
	t.Helper()
	var r struct {
		Result   bool `json:"result"`
		Status   int  `json:"status"`
		Response struct {
			ContentType string `json:"assumed_content_type"`
			Content     []byte `json:"content"` // base64 in the JSON
		} `json:"response"`
	}
	apiJSON(t, ctx, op, http.MethodPost, "/api/util/test", map[string]any{
		"command": "url", "url": url, "method": "GET", "response": "bytes", "timeout": 5, "validSsl": true,
		"content_type_whitelist": []string{"image/*"}, "content_type_guess": true,
	}, &r)
	if !r.Result || r.Status != http.StatusOK || r.Response.ContentType != "image/jpeg" {
		t.Fatalf("OctoPrint's test of %s: result %v, status %d, content type %q", url, r.Result, r.Status, r.Response.ContentType)
	}
	return r.Response.Content
}

// checkJPEG fails unless data is a JPEG of the composite's size.
func checkJPEG(t *testing.T, what string, data []byte, cfg *configs.Config) {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: not a JPEG (%d bytes): %v", what, len(data), err)
	}
	if b := img.Bounds(); b != image.Rect(0, 0, cfg.Output.Width, cfg.Output.Height) {
		t.Fatalf("%s: %dx%d, want the composite's %dx%d", what, b.Dx(), b.Dy(), cfg.Output.Width, cfg.Output.Height)
	}
}

// timelapseFrames waits for at least n frames in OctoPrint's timelapse
// capture folder and returns them.
func timelapseFrames(t *testing.T, op *octoprinttest.Server, n int) []string {
	t.Helper()
	pattern := filepath.Join(op.BaseDir, "timelapse", "tmp", "*.jpg")
	deadline := time.Now().Add(15 * time.Second)
	for {
		frames, _ := filepath.Glob(pattern)
		if len(frames) >= n {
			return frames
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d timelapse frames in %s after the print, want %d or more", len(frames), filepath.Dir(pattern), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitLayout(t *testing.T, base, what string, ok func(configs.Layout) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l := getLayout(t, base); !ok(l); l = getLayout(t, base) {
		if time.Now().After(deadline) {
			t.Fatalf("layout %+v, waiting for %s", l, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
