package compositor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// CameraState is where a camera is in its life, as status shows it.
type CameraState string

const (
	CameraStarting     CameraState = "starting"     // first attempt, no picture yet
	CameraPlaying      CameraState = "playing"      // pictures flowing
	CameraReconnecting CameraState = "reconnecting" // lost after playing; retrying
	CameraFailed       CameraState = "failed"       // has not played since start; retrying
)

// Errors that end a camera's pipeline without GStreamer saying so.
var (
	ErrCameraStalled = errors.New("no picture")
	ErrCameraEOS     = errors.New("the camera's stream ended")
)

// firstPictureTimeout bounds how long a (re)started camera may take to
// deliver its first picture: an RTSP camera connects and waits for a
// keyframe, a USB camera adjusts its exposure.
const firstPictureTimeout = 10 * time.Second

// retryDelay is the wait before the next attempt: a fifth of how long the
// camera has been lost, from 0.5 s to 10 s. A camera back after a short
// outage (a reboot, a replug) is found again within a second or two; one
// gone for good costs an attempt every 10 s.
func retryDelay(lostFor time.Duration) time.Duration {
	return min(max(lostFor/5, 500*time.Millisecond), 10*time.Second)
}

// camera keeps one configured camera's pipeline running: it starts it,
// watches it (errors, end of stream, stalls), shows the camera's card while
// it is lost and rebuilds it with backoff, all without touching the mixer.
type camera struct {
	plan   CameraPlan
	out    configs.Output
	graph  *Plan
	log    *slog.Logger
	record func(GraphError)
	// probe lists a V4L2 device's modes (probeV4L2; tests replace it).
	probe func(device string) ([]V4L2Mode, error)

	meter *frameMeter // framemeter.go

	mu         sync.Mutex
	state      CameraState
	lastErr    string
	errTime    time.Time
	reconnects int
	mode       string
	cur        *cameraRun
	card       *card

	cancel context.CancelFunc
	done   chan struct{}
}

func newCamera(cp CameraPlan, p *Plan, out configs.Output, log *slog.Logger, record func(GraphError)) *camera {
	return &camera{
		meter: newFrameMeter(),
		plan:  cp, graph: p, out: out, record: record, probe: probeV4L2,
		log:   log.With("camera", cp.Camera.Name),
		state: CameraStarting,
		done:  make(chan struct{}),
	}
}

// start runs the camera until close.
func (c *camera) start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.supervise(ctx)
}

// close stops the camera's pipeline and card, and waits for both.
func (c *camera) close() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	<-c.done
}

func (c *camera) supervise(ctx context.Context) {
	defer close(c.done)
	defer c.hideCard()
	lostAt := time.Now()
	played := false
	var last error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryDelay(time.Since(lostAt))):
			}
			c.mu.Lock()
			c.reconnects++
			c.mu.Unlock()
		}
		sawPicture, err := c.attempt(ctx)
		if ctx.Err() != nil {
			return
		}
		err = c.explain(err)
		if sawPicture {
			played, lostAt = true, time.Now()
		}
		c.lost(err, played, last)
		last = err
	}
}

// attempt starts the camera's pipeline and watches it until it fails; the
// pipeline is closed when it returns. sawPicture says whether this attempt
// delivered pictures.
func (c *camera) attempt(ctx context.Context) (sawPicture bool, err error) {
	r, err := c.startRun()
	if err != nil {
		return false, err
	}
	c.mu.Lock()
	c.cur = r
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.cur = nil
		c.mu.Unlock()
		// Torn down before the card starts: the sink clears the channel
		// as it stops, and the card's first picture refills it.
		r.close()
	}()

	timer := time.NewTimer(firstPictureTimeout)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false, nil
	case err := <-r.died:
		return false, err
	case <-timer.C:
		return false, fmt.Errorf("%w within %s of starting", ErrCameraStalled, firstPictureTimeout)
	case <-r.first:
	}
	c.playing()
	stall := c.plan.Camera.StallAfter()
	for {
		wait := stall - time.Since(c.meter.last())
		if wait <= 0 {
			return true, fmt.Errorf("%w for %s", ErrCameraStalled, stall)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return true, nil
		case err := <-r.died:
			return true, err
		case <-timer.C:
		}
	}
}

// explain replaces GStreamer's generic "Internal data stream error" of an
// HTTP camera by what the camera itself says (refused, 401...), keeping
// GStreamer's words as the debug text.
func (c *camera) explain(err error) error {
	var ce *CameraError
	cam := c.plan.Camera
	if (cam.Type != configs.CameraMJPEG && cam.Type != configs.CameraSnapshot) || !errors.As(err, &ce) {
		return err
	}
	why := explainHTTPFailure(cam)
	if why == "" {
		return err
	}
	return &CameraError{Element: ce.Element, Message: why, Debug: strings.TrimSpace(ce.Message + " " + ce.Debug)}
}

// playing marks the camera back in the composite and takes its card away.
func (c *camera) playing() {
	c.mu.Lock()
	was := c.state
	c.state = CameraPlaying
	c.mu.Unlock()
	c.hideCard()
	if was == CameraStarting {
		c.log.Info("camera playing", "mode", c.modeText())
	} else {
		c.log.Info("camera back", "mode", c.modeText(), "reconnects", c.reconnectCount())
	}
}

// lost records why an attempt ended and shows the card.
func (c *camera) lost(err error, played bool, last error) {
	if err == nil {
		err = errors.New("stopped")
	}
	c.mu.Lock()
	was := c.state
	c.state = CameraFailed
	if played {
		c.state = CameraReconnecting
	}
	c.lastErr = err.Error()
	c.errTime = time.Now()
	c.mu.Unlock()
	switch {
	case was == CameraPlaying:
		c.log.Error("camera lost, showing its card and reconnecting", "error", err)
	case last == nil || last.Error() != err.Error():
		c.log.Error("camera cannot start, retrying", "error", err)
	default: // the same failure again: quieter
		c.log.Debug("camera still unavailable", "error", err)
	}
	c.showCard(cardText(c.plan.Camera.Name, err))
}

// showCard and hideCard run on the supervisor's goroutine only; the lock
// guards the pointer that status reads.
func (c *camera) showCard(text string) {
	c.mu.Lock()
	k := c.card
	c.mu.Unlock()
	if k != nil {
		k.setText(text)
		return
	}
	k, err := startCard(c.plan, text)
	if err != nil {
		c.log.Error("show camera card", "error", err)
		return
	}
	c.mu.Lock()
	c.card = k
	c.mu.Unlock()
}

func (c *camera) hideCard() {
	c.mu.Lock()
	k := c.card
	c.card = nil
	c.mu.Unlock()
	if k != nil {
		k.close()
	}
}

// recordGstError keeps an error from the camera's pipeline for status,
// with GStreamer's debug text.
func (c *camera) recordGstError(element, text, debug string) {
	c.record(GraphError{Time: time.Now(), Element: element, Camera: c.plan.Camera.Name, Message: text, Debug: debug})
}

func (c *camera) modeText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mode
}

func (c *camera) reconnectCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reconnects
}

// run returns the camera's running pipeline, nil between attempts.
func (c *camera) run() *cameraRun {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// status reports the camera for /api/status.
func (c *camera) status() SourceStatus {
	cam := c.plan.Camera
	st := SourceStatus{Name: cam.Name, Type: string(cam.Type), Device: cam.Device, URL: cam.URL}
	fps, last := c.meter.rate()
	st.FPS = fps
	if !last.IsZero() {
		st.LastFrame = &last
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st.State = string(c.state)
	st.Placeholder = c.card != nil
	st.Error = c.lastErr
	if !c.errTime.IsZero() {
		t := c.errTime
		st.ErrorTime = &t
	}
	st.Reconnects = c.reconnects
	st.Mode = c.mode
	return st
}
