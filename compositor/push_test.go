package compositor

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/probe"
	"github.com/pipcam/pipcam/internal/rtmptest"
)

const testStreamKey = "live_8f3c2a9d-key"

func pushStatus(p *Pusher, name string) PushStatus {
	for _, st := range p.Status().([]PushStatus) {
		if st.Name == name {
			return st
		}
	}
	return PushStatus{}
}

func waitPush(t *testing.T, p *Pusher, name string, d time.Duration, what string, cond func(PushStatus) bool) PushStatus {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st := pushStatus(p, name)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("push %s never %s within %s: %+v", name, what, d, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func isLive(st PushStatus) bool { return st.State == PushLive }

// probePush checks what nginx serves: the composite's H.264 at its size,
// and the silent AAC.
func probePush(t *testing.T, srv *rtmptest.Server, cfg *configs.Config) {
	t.Helper()
	streams, err := probe.Streams(context.Background(), srv.URL+"/"+testStreamKey)
	if err != nil {
		t.Fatalf("%v\nnginx: %s", err, srv.Log())
	}
	v, ok := probe.Video(streams)
	if !ok || v.Codec != "h264" || v.Width != cfg.Output.Width || v.Height != cfg.Output.Height {
		t.Fatalf("nginx serves %+v, want H.264 %dx%d", streams, cfg.Output.Width, cfg.Output.Height)
	}
	var audio bool
	for _, s := range streams {
		audio = audio || s.Type == "audio" && s.Codec == "aac"
	}
	if !audio {
		t.Fatalf("nginx serves %+v: no AAC track", streams)
	}
}

// A real nginx-rtmp takes the push; killed, it is reconnected to within
// 5 s of its restart; stopped by hand, the push ends; nothing leaks the
// key, nothing is left running.
func TestPushToNginxReconnects(t *testing.T) {
	srv := rtmptest.StartT(t)
	cfg := testConfig()
	var logs syncBuffer
	g := startGraphLogging(t, cfg, &logs)
	before := goleak.IgnoreCurrent()
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := NewPusher(g, configs.Push{Destinations: []configs.PushDestination{{
		Name: "nginx", URL: srv.URL, Key: testStreamKey, Start: configs.PushAlways, Audio: configs.AudioSilent,
	}}}, log)
	if err != nil {
		t.Fatal(err)
	}
	waitPush(t, p, "nginx", 15*time.Second, "live", isLive)
	probePush(t, srv, cfg)

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	st := waitPush(t, p, "nginx", 15*time.Second, "lost", func(st PushStatus) bool { return st.State != PushLive && st.Error != "" })
	t.Logf("lost: %s", st.Error)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	st = waitPush(t, p, "nginx", 15*time.Second, "live again", isLive)
	took := time.Since(back)
	t.Logf("live again %s after nginx was back", took)
	if took > 5*time.Second {
		t.Errorf("reconnected %s after nginx was back, want within 5 s", took)
	}
	if st.Reconnects < 1 || st.BytesSent == 0 {
		t.Errorf("status after the reconnect: %+v", st)
	}
	probePush(t, srv, cfg)

	if err := p.SetPush("nginx", false); err != nil {
		t.Fatal(err)
	}
	waitPush(t, p, "nginx", 5*time.Second, "off", func(st PushStatus) bool { return st.State == PushOff && !st.Enabled })
	if err := p.SetPush("youtube", true); err == nil {
		t.Error("an unknown destination was accepted")
	}
	status, _ := json.Marshal(p.Status())
	if strings.Contains(string(status), testStreamKey) || strings.Contains(logs.String(), testStreamKey) {
		t.Fatalf("the stream key shows:\nstatus %s\nlog %s", status, logs.String())
	}
	p.Close()
	if err := srv.Kill(); err != nil { // its goroutines are the test's
		t.Fatal(err)
	}
	goleak.VerifyNone(t, before)
}

// A server that refuses the stream (nothing listening) is retried with
// backoff, the error in status; started by hand, a manual destination
// pushes; the Graph's viewers never notice any of it.
func TestPushFailureLeavesTheGraphAlone(t *testing.T) {
	cfg := testConfig()
	g := startGraph(t, cfg)
	aus, cancel := g.Subscribe(64)
	defer cancel()
	p, err := NewPusher(g, configs.Push{Destinations: []configs.PushDestination{
		{Name: "nowhere", URL: "rtmp://127.0.0.1:1/live", Key: testStreamKey, Start: configs.PushAlways, Audio: configs.AudioNone},
		{Name: "later", URL: "rtmp://127.0.0.1:1/live/x", Start: configs.PushManual, Audio: configs.AudioSilent},
		{Name: "onprint", URL: "rtmp://127.0.0.1:1/live/y", Start: configs.PushPrinting, Audio: configs.AudioNone},
	}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	st := waitPush(t, p, "nowhere", 15*time.Second, "retried twice", func(st PushStatus) bool { return st.Reconnects >= 2 })
	t.Logf("status: %+v", st)
	if st.State == PushLive || !strings.Contains(st.Error, "connect") || strings.Contains(st.Error, testStreamKey) {
		t.Fatalf("status %+v", st)
	}
	if later := pushStatus(p, "later"); later.State != PushOff || later.Enabled {
		t.Fatalf("a manual destination started by itself: %+v", later)
	}
	if err := p.SetPush("later", true); err != nil {
		t.Fatal(err)
	}
	waitPush(t, p, "later", 15*time.Second, "tried", func(st PushStatus) bool { return st.Enabled && st.Reconnects >= 1 })
	// A print starts and ends the destinations that follow prints, only.
	if st := pushStatus(p, "onprint"); st.Enabled || st.State != PushOff {
		t.Fatalf("a printing destination started before a print: %+v", st)
	}
	p.Printing(true)
	waitPush(t, p, "onprint", 15*time.Second, "tried during the print", func(st PushStatus) bool { return st.Enabled && st.Reconnects >= 1 })
	p.Printing(false)
	waitPush(t, p, "onprint", 5*time.Second, "off after the print", func(st PushStatus) bool { return !st.Enabled && st.State == PushOff })
	if st := pushStatus(p, "later"); !st.Enabled {
		t.Fatalf("the end of a print stopped a manual destination: %+v", st)
	}
	// The graph went on: a second of pictures arrives now.
	drain(aus)
	nextAUs(t, aus, 15)
}

// The pipeline a push runs, as gst-launch would read it: no key in it.
func TestPushDescription(t *testing.T) {
	d := configs.PushDestination{Name: "yt", URL: "rtmp://a.rtmp.youtube.com/live2", Key: testStreamKey}
	tgt, err := d.Target()
	if err != nil {
		t.Fatal(err)
	}
	desc, err := pushDescription(tgt, configs.AudioSilent, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s := desc.String()
	for _, want := range []string{"appsrc name=outsrc", "flvmux name=outmux", "rtmp2sink name=outsink", `host="a.rtmp.youtube.com"`, `application="live2"`, "appsrc name=outaudio", "outmux."} {
		if !strings.Contains(s, want) {
			t.Errorf("description lacks %q: %s", want, s)
		}
	}
	if strings.Contains(s, testStreamKey) {
		t.Fatalf("the key is in the description: %s", s)
	}
	desc, _ = pushDescription(tgt, configs.AudioNone, 1<<20)
	if strings.Contains(desc.String(), nameOutAudio) {
		t.Fatal("audio none still has an audio track")
	}
}

// Silence is encoded once: one AAC frame that ffmpeg decodes to silence.
func TestSilentAACDecodes(t *testing.T) {
	a, err := silentAAC()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(a.caps, "mpegversion=(int)4") || !strings.Contains(a.caps, "rate=(int)44100") || len(a.frame) > 64 {
		t.Fatalf("caps %s, frame of %d bytes", a.caps, len(a.frame))
	}
	// Ten frames in ADTS, as a player would get them.
	var adts []byte
	for range 10 {
		n := len(a.frame) + 7
		// AAC LC, 44.1 kHz (index 4), 2 channels, no CRC.
		adts = append(adts, 0xff, 0xf1, 0x50, 0x80|byte(n>>11), byte(n>>3), byte(n<<5)|0x1f, 0xfc)
		adts = append(adts, a.frame...)
	}
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "aac", "-i", "pipe:0", "-f", "s16le", "pipe:1")
	cmd.Stdin = bytes.NewReader(adts)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	pcm, err := cmd.Output()
	if err != nil || errOut.Len() > 0 || len(pcm) != 10*1024*2*2 {
		t.Fatalf("ffmpeg: %v %s (%d bytes of PCM)", err, errOut.String(), len(pcm))
	}
	for i, b := range pcm {
		if b != 0 {
			t.Fatalf("byte %d of the decoded audio is %d, not silence", i, b)
		}
	}
}
