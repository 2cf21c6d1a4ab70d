package signaling

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pipcam/pipcam/internal/viewer"
)

func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// dialers are the four ways a real client connects.
var dialers = []struct {
	name string
	dial func(ctx context.Context, base string) (*viewer.Viewer, error)
}{
	{"whep", func(ctx context.Context, base string) (*viewer.Viewer, error) {
		return viewer.DialWHEP(ctx, base, viewer.Options{})
	}},
	{"whep-mainsail", func(ctx context.Context, base string) (*viewer.Viewer, error) {
		return viewer.DialWHEP(ctx, base, viewer.Options{Mainsail: true})
	}},
	{"cs-request", func(ctx context.Context, base string) (*viewer.Viewer, error) {
		return viewer.DialCameraStreamerRequest(ctx, base, viewer.Options{})
	}},
	{"cs-offer", func(ctx context.Context, base string) (*viewer.Viewer, error) {
		return viewer.DialCameraStreamerOffer(ctx, base, viewer.Options{})
	}},
}

// TestViewersJoinAndLeave: 50 viewers (all four flavours, 10 at a time)
// join, get a decodable picture and leave; goroutines and open files return
// to the baseline.
//
// Tolerance: a few goroutines and fds may outlive the wait for reasons that
// are not ours to own — net/http keeps per-connection goroutines on both
// sides until idle connections are closed (we close them, but the server
// side notices asynchronously), and pion's DTLS/SCTP timers finish a moment
// after Close returns. A leak of one goroutine or socket per viewer would be
// 50+, far beyond the tolerance.
func TestViewersJoinAndLeave(t *testing.T) {
	checkLeaks(t)
	if testing.Short() {
		t.Skip("short")
	}
	src := newReplaySource(t)
	s, hs := startServer(t, src, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	settle := func() {
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		hs.CloseClientConnections()
	}
	// Warm up once (package-level pools, first DTLS certificate…), then
	// take the baseline.
	for _, d := range dialers {
		v, err := d.dial(ctx, hs.URL)
		if err != nil {
			t.Fatalf("warm-up %s: %v", d.name, err)
		}
		if err := v.WaitFirstDecodable(ctx); err != nil {
			t.Fatal(err)
		}
		v.Close()
	}
	waitFor(t, 20*time.Second, "warm-up sessions gone", func() bool { return s.Stats().Sessions == 0 })
	settle()
	baseG, baseFD := runtime.NumGoroutine(), openFDs()

	const total, wave = 50, 10
	var firstMu sync.Mutex
	var worst time.Duration
	for w := 0; w < total/wave; w++ {
		var wg sync.WaitGroup
		errs := make(chan error, wave)
		vs := make(chan *viewer.Viewer, wave)
		for i := 0; i < wave; i++ {
			d := dialers[(w*wave+i)%len(dialers)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := d.dial(ctx, hs.URL)
				if err != nil {
					errs <- fmt.Errorf("%s: %w", d.name, err)
					return
				}
				vs <- v
				if err := v.WaitFirstDecodable(ctx); err != nil {
					errs <- fmt.Errorf("%s: %w", d.name, err)
					return
				}
				firstMu.Lock()
				if d := v.FirstDecodableAt().Sub(v.Started()); d > worst {
					worst = d
				}
				firstMu.Unlock()
			}()
		}
		wg.Wait()
		close(errs)
		close(vs)
		if got := s.Stats().Sessions; got != wave {
			t.Errorf("wave %d: %d sessions, want %d", w, got, wave)
		}
		for v := range vs {
			v.Close()
		}
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("slowest dial to first decodable AU with %d concurrent viewers: %s", wave, worst.Round(time.Millisecond))
	waitFor(t, 20*time.Second, "all sessions gone", func() bool { return s.Stats().Sessions == 0 })

	const tolG, tolFD = 8, 4
	deadline := time.Now().Add(20 * time.Second)
	for {
		settle()
		g, fd := runtime.NumGoroutine(), openFDs()
		if g <= baseG+tolG && fd <= baseFD+tolFD {
			t.Logf("goroutines %d (baseline %d), fds %d (baseline %d)", g, baseG, fd, baseFD)
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("leak: goroutines %d (baseline %d), fds %d (baseline %d)\n%s", g, baseG, fd, baseFD, buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPLIRequestsKeyframe(t *testing.T) {
	src := newReplaySource(t)
	_, hs := startServer(t, src, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := viewer.DialWHEP(ctx, hs.URL, viewer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.WaitFirstDecodable(ctx); err != nil {
		t.Fatal(err)
	}
	before := src.requests.Load()
	if err := v.SendPLI(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "RequestKeyframe after PLI", func() bool { return src.requests.Load() > before })
	// The replay source jumps to the next IDR: the viewer gets another keyframe.
	k := v.Stats().Keyframes
	waitFor(t, 10*time.Second, "a keyframe after PLI", func() bool { return v.Stats().Keyframes > k })
}

// TestUnansweredSessionReaped: a camera-streamer request whose answer never
// comes is removed after ConnectTimeout.
func TestUnansweredSessionReaped(t *testing.T) {
	s, hs := startServer(t, newIdleSource(), func(o *Options) { o.ConnectTimeout = 300 * time.Millisecond })
	resp, body := do(t, http.MethodPost, hs.URL+"/webrtc", "text/plain", `{"type":"request","keepAlive":true,"iceServers":[{"urls":"stun:x.example:3478"}]}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("request: %s %s", resp.Status, body)
	}
	if s.Stats().Sessions != 1 {
		t.Fatal("no session")
	}
	waitFor(t, 10*time.Second, "unanswered session reaped", func() bool { return s.Stats().Sessions == 0 })
}

func TestStatus(t *testing.T) {
	src := newReplaySource(t)
	_, hs := startServer(t, src, func(o *Options) {
		o.Reports = map[string]StatusReporter{
			"graph":   statusFunc(func() any { return map[string]string{"encoder": "x264enc"} }),
			"overlay": statusFunc(func() any { return map[string]string{"printer": "online"} }),
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := viewer.DialWHEP(ctx, hs.URL, viewer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.WaitFirstDecodable(ctx); err != nil {
		t.Fatal(err)
	}
	if err := v.SendPLI(); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Viewers  int
		Sessions []struct {
			ID, Protocol, State, Client string
			BytesSent                   uint64  `json:"bytes_sent"`
			Packets                     uint64  `json:"packets_sent"`
			Drops                       *uint64 `json:"au_drops"`
			KeyframeRequests            uint64  `json:"keyframe_requests"`
		}
		Stream struct {
			BitrateKbps float64 `json:"bitrate_kbps"`
			FPS         float64
			AccessUnits uint64 `json:"access_units"`
			Keyframes   uint64
		}
		Graph   map[string]string
		Overlay map[string]string
	}
	// The meter needs a few frames in its window; the PLI takes a moment.
	waitFor(t, 10*time.Second, "fps measured and the PLI counted", func() bool {
		_, body := do(t, http.MethodGet, hs.URL+"/api/status", "", "", nil)
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("status %q: %v", body, err)
		}
		return st.Stream.FPS > 5 && len(st.Sessions) == 1 && st.Sessions[0].KeyframeRequests > 0
	})
	ses := st.Sessions[0]
	if ses.Client != "127.0.0.1" || ses.BytesSent < v.Stats().Bytes || ses.Packets == 0 || ses.Drops == nil || st.Overlay["printer"] != "online" {
		t.Errorf("per-viewer status %+v (viewer got %d payload bytes), overlay %v", ses, v.Stats().Bytes, st.Overlay)
	}
	if st.Viewers != 1 || len(st.Sessions) != 1 || st.Sessions[0].Protocol != "whep" || len(st.Sessions[0].ID) != 8 ||
		st.Sessions[0].State != "connected" || st.Stream.BitrateKbps <= 0 || st.Stream.Keyframes == 0 || st.Graph["encoder"] != "x264enc" {
		t.Errorf("status %+v", st)
	}
	if strings.Contains(v.SessionURL(), st.Sessions[0].ID) == false {
		t.Errorf("short id %q is not a prefix of the session %q", st.Sessions[0].ID, v.SessionURL())
	}
	t.Logf("measured: %.0f kbit/s, %.1f fps", st.Stream.BitrateKbps, st.Stream.FPS)
}

type statusFunc func() any

func TestStatusReportNames(t *testing.T) {
	for _, name := range []string{"viewers", "sessions", "stream", ""} {
		_, err := New(context.Background(), Options{Source: newIdleSource(), Reports: map[string]StatusReporter{name: statusFunc(nil)}})
		if err == nil || !strings.Contains(err.Error(), "taken") {
			t.Errorf("report name %q: %v", name, err)
		}
	}
}

func (f statusFunc) Status() any { return f() }

// TestCloseEndsEverything: Server.Close with a viewer still connected ends
// its session and every goroutine the server started.
func TestCloseEndsEverything(t *testing.T) {
	src := newReplaySource(t)
	baseG := runtime.NumGoroutine()
	s, err := New(context.Background(), Options{Source: src, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptestServer(s)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	v, err := viewer.DialWHEP(ctx, hs.URL, viewer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WaitFirstDecodable(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close() // the viewer is still there
	if n := s.Stats().Sessions; n != 0 {
		t.Errorf("%d sessions after Close", n)
	}
	hs.Close()
	v.PeerConnection().Close()
	v.Close() // its DELETE fails: the server is gone
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	waitFor(t, 10*time.Second, "goroutines back to the baseline", func() bool { return runtime.NumGoroutine() <= baseG+2 })
}

// A packet the viewer sends that pion's RTCP parser refuses (a
// transport-wide feedback promising 100 statuses and holding one chunk)
// is skipped and counted in status: the viewer's RTCP is still read, and
// its next PLI is answered.
func TestRTCPReadingSurvivesAPacketThatDoesNotParse(t *testing.T) {
	src := newReplaySource(t)
	_, hs := startServer(t, src, nil)
	v := dialWatch(t, hs.URL, viewer.Options{})
	bad := make([]byte, 24)
	bad[0], bad[1], bad[3] = 0x80|15, 205, 5 // RTPFB, FMT 15 (transport-wide CC), 6 words
	binary.BigEndian.PutUint32(bad[4:], 1)
	binary.BigEndian.PutUint32(bad[8:], v.VideoSSRC())
	binary.BigEndian.PutUint16(bad[14:], 100) // 100 statuses
	binary.BigEndian.PutUint16(bad[20:], 1)   // one run-length chunk of 1
	if _, err := rtcp.Unmarshal(bad); err == nil {
		t.Fatal("the test's malformed feedback parses; it tests nothing")
	}
	if err := v.SendRTCP(bad); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let it reach the server before the PLI
	before := src.requests.Load()
	if err := v.SendPLI(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "RequestKeyframe after a PLI that followed an unparseable packet", func() bool { return src.requests.Load() > before })
	if st := getStatus(t, hs.URL); len(st.Sessions) != 1 || st.Sessions[0].RTCPUnparsed != 1 {
		t.Fatalf("status sessions %+v, want one with rtcp_unparsed 1", st.Sessions)
	}
}
