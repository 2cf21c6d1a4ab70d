package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/viewer"
	"github.com/pipcam/pipcam/media"
)

// These tests run the real daemon: the GStreamer graph with two test-pattern
// cameras and x264enc, the HTTP server, and real pion viewers on loopback.

func testConfig() *configs.Config {
	cfg := configs.Default()
	cfg.Output = configs.Output{Width: 320, Height: 240, Framerate: 15}
	cfg.Encoder.Element = configs.EncoderX264
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.FLV.Listen = "127.0.0.1:0"
	cfg.WebRTC.ICEPort = 0 // daemons run side by side: a free port each
	return cfg
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startTestDaemon starts a daemon whose log (info and up) is shown only if
// the test fails: what the daemon did (a rebuild, a lost camera) is then
// part of the failure.
func startTestDaemon(t *testing.T, cfg *configs.Config) *daemon {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer f.Close()
		if !t.Failed() {
			return
		}
		if data, err := os.ReadFile(f.Name()); err == nil {
			const keep = 8000
			if len(data) > keep {
				data = data[len(data)-keep:]
			}
			t.Logf("daemon log (its end):\n%s", data)
		}
	})
	return startTestDaemonLogging(t, cfg, slog.New(slog.NewTextHandler(f, nil)))
}

// startTestDaemonLogging is startTestDaemon with the daemon's log given.
func startTestDaemonLogging(t *testing.T, cfg *configs.Config, log *slog.Logger) *daemon {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// Room for the one rebuild startDaemon allows (2 x StartTimeout).
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	d, err := startDaemon(ctx, cfg, log)
	if err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

// collect reads access units from a viewer until it has span of media
// (by RTP timestamp) or the deadline passes.
func collect(t *testing.T, v *viewer.Viewer, span time.Duration) []viewer.AU {
	t.Helper()
	var got []viewer.AU
	deadline := time.After(span + 15*time.Second)
	for {
		select {
		case au := <-v.AUs():
			got = append(got, au)
			if ts := time.Duration(au.RTPTimestamp-got[0].RTPTimestamp) * time.Second / 90000; ts >= span {
				return got
			}
		case <-deadline:
			t.Fatalf("only %d access units arrived", len(got))
		}
	}
}

// probeH264 hands the received stream to ffprobe and returns what it decoded.
func probeH264(t *testing.T, aus []viewer.AU) (width, height, frames int) {
	t.Helper()
	var stream bytes.Buffer
	for _, au := range aus {
		stream.Write(au.Data)
	}
	cmd := exec.Command("ffprobe", "-v", "error", "-f", "h264", "-count_frames",
		"-show_entries", "stream=width,height,nb_read_frames", "-of", "json", "pipe:0")
	cmd.Stdin = &stream
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe rejected the stream: %v %s", err, out)
	}
	var res struct {
		Streams []struct {
			Width, Height int
			Frames        string `json:"nb_read_frames"`
		}
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) != 1 {
		t.Fatalf("ffprobe said %s (%v)", out, err)
	}
	frames, _ = strconv.Atoi(res.Streams[0].Frames)
	return res.Streams[0].Width, res.Streams[0].Height, frames
}

// checkStream asserts what every viewer must get: SPS/PPS/IDR first, two
// seconds that a decoder accepts, at the configured rate.
func checkStream(t *testing.T, v *viewer.Viewer, cfg *configs.Config) {
	t.Helper()
	aus := collect(t, v, 2*time.Second)
	if !aus[0].Decodable || !media.IsDecodableStart(aus[0].Data) {
		t.Fatalf("first access unit has NAL types %v, want SPS, PPS and IDR", media.Types(aus[0].Data))
	}
	w, h, frames := probeH264(t, aus)
	if w != cfg.Output.Width || h != cfg.Output.Height {
		t.Fatalf("decoded %dx%d, want %dx%d", w, h, cfg.Output.Width, cfg.Output.Height)
	}
	if frames != len(aus) {
		t.Fatalf("decoder accepted %d of %d access units", frames, len(aus))
	}
	var steps []int
	for i := 1; i < len(aus); i++ {
		steps = append(steps, int(aus[i].RTPTimestamp-aus[i-1].RTPTimestamp))
	}
	sort.Ints(steps)
	want := 90000 / cfg.Output.Framerate
	if med := steps[len(steps)/2]; med < want*9/10 || med > want*11/10 {
		t.Fatalf("median RTP timestamp step %d, want %d (%d fps)", med, want, cfg.Output.Framerate)
	}
}

func TestViewersReceiveTheStream(t *testing.T) {
	cfg := testConfig()
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	dialers := []struct {
		name string
		dial func(context.Context, string, viewer.Options) (*viewer.Viewer, error)
		opts viewer.Options
	}{
		{"WHEP", viewer.DialWHEP, viewer.Options{}},
		{"WHEP like Mainsail (OPTIONS, early POST, PATCH trickle)", viewer.DialWHEP, viewer.Options{Mainsail: true}},
		{"camera-streamer server offer (Mainsail/Fluidd)", viewer.DialCameraStreamerRequest, viewer.Options{}},
		{"camera-streamer client offer (OctoPrint 1.11)", viewer.DialCameraStreamerOffer, viewer.Options{}},
	}
	for _, dd := range dialers {
		t.Run(dd.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			dd.opts.Logger = quietLogger()
			v, err := dd.dial(ctx, base, dd.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			checkStream(t, v, cfg)
		})
	}
}

// A PLI from a viewer reaches the encoder: the graph counts the request
// and the viewer gets a fresh keyframe.
func TestPLIProducesAKeyframe(t *testing.T) {
	cfg := testConfig()
	cfg.Encoder.KeyframeInterval = configs.Duration(60 * time.Second) // only forced IDRs
	d := startTestDaemon(t, cfg)
	v := watch(t, "http://"+d.HTTPAddr())
	collect(t, v, time.Second)
	before := v.Stats().Keyframes
	if err := v.SendPLI(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for v.Stats().Keyframes == before {
		if time.Now().After(deadline) {
			t.Fatalf("no keyframe after a PLI (keyframes still %d)", before)
		}
		select {
		case <-v.AUs():
		case <-time.After(time.Second):
		}
	}
}

// Layout changes through the API while a viewer watches: no renegotiation,
// frames keep coming, the compositor pad moves.
func TestLayoutAPIChangesThePictureLive(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP.Token = "s3cret-token"
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	v := watch(t, base)
	collect(t, v, time.Second)

	req, _ := http.NewRequest(http.MethodPut, base+"/api/layout", strings.NewReader(`{"corner":"top-left","size":0.25}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer s3cret-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /api/layout: %d %s", resp.StatusCode, body)
	}
	geo, err := d.graph.PadGeometryNow("b")
	if err != nil {
		t.Fatal(err)
	}
	if geo.X != 16 || geo.Y != 16 || geo.Width != 80 {
		t.Fatalf("inset pad is at %+v after the PUT, want x=16 y=16 width=80", geo)
	}
	signalingState := v.PeerConnection().SignalingState()
	after := collect(t, v, time.Second)
	if len(after) < 10 {
		t.Fatalf("only %d access units in the second after the change", len(after))
	}
	if s := v.PeerConnection().SignalingState(); s != signalingState {
		t.Fatalf("signaling state went from %s to %s: a renegotiation", signalingState, s)
	}
}

func TestStatusReportsViewersAndStream(t *testing.T) {
	cfg := testConfig()
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	v := watch(t, base)
	collect(t, v, 2*time.Second)
	resp, err := http.Get(base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Viewers int `json:"viewers"`
		Stream  struct {
			Bitrate float64 `json:"bitrate_kbps"`
			FPS     float64 `json:"fps"`
		} `json:"stream"`
		Graph struct {
			Encoder string `json:"encoder"`
			Bitrate int    `json:"configured_bitrate_kbps"`
			Sources []struct {
				Name string `json:"name"`
			} `json:"sources"`
		} `json:"graph"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Viewers != 1 || st.Graph.Encoder != "x264enc" || st.Graph.Bitrate != 400 || len(st.Graph.Sources) != 2 {
		t.Fatalf("status %+v", st)
	}
	if st.Stream.FPS < 10 || st.Stream.FPS > 20 || st.Stream.Bitrate <= 0 {
		t.Fatalf("measured %.1f fps, %.0f kbit/s; want about 15 fps and some bitrate", st.Stream.FPS, st.Stream.Bitrate)
	}
}

// webrtc.max_viewers reaches the server: one more viewer is turned away
// with the reason.
func TestMaxViewersFromConfig(t *testing.T) {
	cfg := testConfig()
	cfg.WebRTC.MaxViewers = 1
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	watch(t, base)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, err := viewer.DialWHEP(ctx, base, viewer.Options{Logger: quietLogger()})
	if err == nil {
		v.Close()
		t.Fatal("a second viewer joined with max_viewers 1")
	}
	if !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "too many viewers") {
		t.Fatalf("second viewer: %v; want 503 too many viewers", err)
	}
}

// 50 viewers join and leave; afterwards no goroutine or file descriptor of
// theirs is left, on either side (server and the in-process clients).
func TestFiftyViewersLeaveNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("50 peers: not in -short")
	}
	cfg := testConfig()
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	// Warm up once so lazily started pieces (HTTP keep-alive, the fan-out)
	// are part of the baseline.
	warm(t, base)
	http.DefaultClient.CloseIdleConnections()
	baseG, baseFD := settle(runtime.NumGoroutine(), openFDs())

	for round := 0; round < 2; round++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var vs []*viewer.Viewer
		for i := 0; i < 25; i++ {
			v, err := viewer.DialWHEP(ctx, base, viewer.Options{Logger: quietLogger(), AUBuffer: 1})
			if err != nil {
				t.Fatalf("viewer %d: %v", i, err)
			}
			vs = append(vs, v)
		}
		for i, v := range vs {
			if err := v.WaitFirstDecodable(ctx); err != nil {
				t.Fatalf("viewer %d got no keyframe: %v", i, err)
			}
		}
		for _, v := range vs {
			v.Close()
		}
		cancel()
	}
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second)
	for {
		g, fd := runtime.NumGoroutine(), openFDs()
		// A couple of goroutines may belong to the runtime or net/http
		// (idle connection reapers); 50 peers would leave hundreds.
		if g <= baseG+3 && fd <= baseFD+2 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("after 50 viewers: %d goroutines (baseline %d), %d fds (baseline %d)\n%s", g, baseG, fd, baseFD, buf[:n])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func warm(t *testing.T, base string) {
	t.Helper()
	watch(t, base).Close()
}

// watch connects a WHEP viewer, waits for its first decodable picture and
// closes it when the test ends.
func watch(t *testing.T, base string) *viewer.Viewer {
	t.Helper()
	return watchWith(t, base, viewer.Options{Logger: quietLogger()})
}

// watchWith is watch with the viewer's options given.
func watchWith(t *testing.T, base string, opts viewer.Options) *viewer.Viewer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, err := viewer.DialWHEP(ctx, base, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.WaitFirstDecodable(ctx); err != nil {
		t.Fatal(err)
	}
	return v
}

// settle waits for the counts to stop falling (the warm-up viewer's
// goroutines ending) and returns them.
func settle(g, fd int) (int, int) {
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		ng, nfd := runtime.NumGoroutine(), openFDs()
		if ng >= g && nfd >= fd && i > 10 {
			return ng, nfd
		}
		g, fd = min(g, ng), min(fd, nfd)
	}
	return g, fd
}

func openFDs() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

func TestPrintPipelineRunsInGstLaunch(t *testing.T) {
	var out, errOut bytes.Buffer
	cfgPath := writeConfig(t, "flv:\n  listen: \"127.0.0.1:0\"\noutput:\n  width: 320\n  height: 240\n")
	if code := run([]string{"print-pipeline", "-config", cfgPath}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	line := lines[len(lines)-1]
	if !strings.HasPrefix(line, "gst-launch-1.0 ") {
		t.Fatalf("last line is not a gst-launch-1.0 command: %s", line)
	}
	// It must run (not stop at a parse or link error) for a few seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	// exec: the shell becomes gst-launch, so the context's kill reaches it.
	cmd := exec.CommandContext(ctx, "sh", "-c", "exec "+line)
	cmd.WaitDelay = 2 * time.Second
	msg, err := cmd.CombinedOutput()
	if ctx.Err() == nil {
		t.Fatalf("gst-launch-1.0 stopped by itself (%v):\n%s", err, msg)
	}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := t.TempDir() + "/pipcam.yaml"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	good := writeConfig(t, "encoder:\n  bitrate_kbps: 250\n")
	if code := run([]string{"check-config", "-config", good}, &out, &errOut); code != 0 {
		t.Fatalf("good config: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "250 kbit/s") {
		t.Fatalf("check-config output lacks the bitrate:\n%s", out.String())
	}
	out.Reset()
	bad := writeConfig(t, "encoder:\n  bitrate_kbps: 250\n  colour: red\n")
	code := run([]string{"check-config", "-config", bad}, &out, &errOut)
	if code == 0 {
		t.Fatal("a config with an unknown field passed")
	}
	if msg := errOut.String(); !strings.Contains(msg, bad+":3:") || !strings.Contains(msg, "colour") {
		t.Fatalf("error does not name file, line and field: %s", msg)
	}
}

func TestRunStopsCleanlyOnCancel(t *testing.T) {
	cfg := testConfig()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDaemon(ctx, cfg, "test", quietLogger()) }()
	time.Sleep(500 * time.Millisecond) // let it start; the result is checked below
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runDaemon: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("runDaemon did not stop after cancel")
	}
}

func TestListCamerasAndVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"list-cameras"}, &out, &errOut); code != 0 {
		t.Fatalf("list-cameras: exit %d: %s", code, errOut.String())
	}
	// This machine has no V4L2 devices; a Pi lists its cameras.
	if s := out.String(); !strings.Contains(s, "no V4L2 cameras found") && !strings.Contains(s, "device: /dev/") {
		t.Fatalf("list-cameras printed %q", s)
	}
	out.Reset()
	if code := run([]string{"version"}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "pipcam ") {
		t.Fatalf("version: exit %d, %q", code, out.String())
	}
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
}

// The overlay's look changes live through PUT /api/overlay: with the token
// only, partial bodies merge, a bad value is refused and changes nothing.
func TestOverlayAPIChangesTheLookLive(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP.Token = "s3cret-token"
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	put := func(body, token string) (int, string) { return putJSON(t, base+"/api/overlay", body, token) }
	if code, _ := put(`{"position":"bottom-right"}`, ""); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	if code, body := put(`{"position":"bottom-right","color":"#ffcc00"}`, "s3cret-token"); code != http.StatusOK || !strings.Contains(body, `"position":"bottom-right"`) {
		t.Fatalf("PUT: %d %s", code, body)
	}
	if code, body := put(`{"progress_bar":{"position":"top","height":8,"show":true,"color":"#2ea043","track":"#00000080"}}`, "s3cret-token"); code != http.StatusOK {
		t.Fatalf("PUT bar: %d %s", code, body)
	}
	st := d.graph.OverlayStyle()
	if st.Position != configs.CornerBottomRight || st.Color != "#ffcc00" || st.ProgressBar.Position != configs.EdgeTop || st.Font != cfg.Overlay.Font {
		t.Fatalf("style now %+v", st)
	}
	if code, body := put(`{"color":"orange"}`, "s3cret-token"); code != http.StatusBadRequest || !strings.Contains(body, "color") {
		t.Fatalf("bad colour: %d %s", code, body)
	}
	if code, body := put(`{"text":"pwned"}`, "s3cret-token"); code != http.StatusBadRequest {
		t.Fatalf("text is not part of the look: %d %s", code, body)
	}
	if d.graph.OverlayStyle().Color != "#ffcc00" {
		t.Fatal("a refused PUT changed the style")
	}
}
