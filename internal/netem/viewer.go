package netem

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/pipcam/pipcam/internal/viewer"
)

// viewerEnv carries a viewer's job to this program re-executed inside a
// namespace (see MaybeRunViewer).
const viewerEnv = "PIPCAM_NETEM_VIEWER"

type viewerJob struct {
	URL      string        `json:"url"`      // pipcam's base URL
	ServerIP string        `json:"serverIP"` // its address on the link
	ListenIP string        `json:"listenIP"` // the namespace's address
	Delay    time.Duration `json:"delay"`    // one way, towards the viewer
	Direct   bool          `json:"direct"`   // no relay (ViewerOptions)
	TCPOnly  bool          `json:"tcpOnly"`
}

// Record is one access unit the viewer in the namespace received.
type Record struct {
	Arrival  time.Time     `json:"at"`
	Latency  time.Duration `json:"lat"` // capture to arrival (0: unknown)
	Keyframe bool          `json:"key"`
	RefLost  bool          `json:"refLost"` // a decoder would show it damaged
	Bytes    int           `json:"bytes"`
	// Pair, on a line of its own (not a picture), is the viewer's selected
	// ICE pair once it has its first decodable picture.
	Pair string `json:"pair,omitempty"`
}

// MaybeRunViewer runs the viewer job when this process is the copy
// StartViewer started inside a namespace, and exits; otherwise it returns
// at once. Call it first thing in main or TestMain.
func MaybeRunViewer() {
	spec := os.Getenv(viewerEnv)
	if spec == "" {
		return
	}
	var job viewerJob
	err := json.Unmarshal([]byte(spec), &job)
	if err == nil {
		err = runViewer(job, os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netem viewer:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runViewer watches pipcam through the relays, printing a Record per
// access unit, until stop reaches EOF.
func runViewer(job viewerJob, stop io.Reader, out io.Writer) error {
	rs := &relays{listenIP: job.ListenIP, serverIP: job.ServerIP, delay: job.Delay}
	defer rs.close()
	enc := json.NewEncoder(out)
	var mu sync.Mutex
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := viewer.Options{
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		RemoteSDP: rs.rewrite,
		// Only a loopback candidate: the server cannot reach it, and
		// so cannot find a way around the relay (as peer-reflexive).
		SettingEngine: func(se *webrtc.SettingEngine) {
			se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		},
		AUBuffer: 1, // OnAU reports them all
		OnAU: func(au viewer.AU) {
			mu.Lock()
			defer mu.Unlock()
			_ = enc.Encode(Record{Arrival: au.Arrival, Latency: au.Latency(), Keyframe: au.Keyframe, RefLost: au.RefLost, Bytes: len(au.Data)})
		},
	}
	if job.Direct {
		opts.RemoteSDP = nil
		opts.SettingEngine = directViewer(job)
	}
	v, err := viewer.DialWHEP(ctx, job.URL, opts)
	if err != nil {
		return err
	}
	if err := v.WaitFirstDecodable(ctx); err == nil {
		if p, err := v.PeerConnection().SCTP().Transport().ICETransport().GetSelectedCandidatePair(); err == nil && p != nil {
			mu.Lock()
			_ = enc.Encode(Record{Pair: p.String()})
			mu.Unlock()
		}
	}
	_, _ = io.Copy(io.Discard, stop) // until the parent closes our stdin
	return errors.Join(v.Close(), rs.close())
}

// Remote is a viewer running inside a Link's namespace.
type Remote struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}

	mu      sync.Mutex
	records []Record
	pair    string
	stderr  []byte
}

// StartViewer runs a viewer of pipcam at baseURL inside the namespace
// (this program again, see MaybeRunViewer), with the link's delay added
// on the way to it by a relay.
func (l *Link) StartViewer(baseURL string, delay time.Duration) (*Remote, error) {
	return l.StartViewerWith(baseURL, ViewerOptions{Delay: delay})
}

// StartViewerWith is StartViewer with options.
func (l *Link) StartViewerWith(baseURL string, o ViewerOptions) (*Remote, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program: %w", err)
	}
	job, _ := json.Marshal(viewerJob{URL: baseURL, ServerIP: l.HostIP, ListenIP: l.NSIP, Delay: o.Delay, Direct: o.Direct, TCPOnly: o.TCPOnly})
	cmd := l.Command(context.Background(), self, "-test.run=^$") // a test binary runs nothing else
	cmd.Env = append(os.Environ(), viewerEnv+"="+string(job))
	r := &Remote{cmd: cmd, done: make(chan struct{})}
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = (*stderrSink)(r)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start viewer in %s: %w", l.Name, err)
	}
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var rec Record
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				r.mu.Lock()
				if rec.Pair != "" {
					r.pair = rec.Pair
				} else {
					r.records = append(r.records, rec)
				}
				r.mu.Unlock()
			}
		}
	}()
	return r, nil
}

type stderrSink Remote

func (s *stderrSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.stderr) < 64<<10 {
		s.stderr = append(s.stderr, p...)
	}
	return len(p), nil
}

// Pair is the viewer's selected ICE pair ("" until its first decodable
// picture), in pion's words.
func (r *Remote) Pair() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pair
}

// Records is what arrived so far.
func (r *Remote) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Record(nil), r.records...)
}

// Stderr is what the viewer process said so far.
func (r *Remote) Stderr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.stderr)
}

// Exited reports whether the viewer process ended (with what it said).
func (r *Remote) Exited() (bool, string) {
	select {
	case <-r.done:
		r.mu.Lock()
		defer r.mu.Unlock()
		return true, string(r.stderr)
	default:
		return false, ""
	}
}

// Close ends the viewer (it closes its session) and waits for it.
func (r *Remote) Close() error {
	_ = r.stdin.Close()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
	err := r.cmd.Wait()
	if err != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		return fmt.Errorf("viewer in namespace: %w: %s", err, r.stderr)
	}
	return nil
}
