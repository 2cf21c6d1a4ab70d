package main

import (
	"errors"
	"fmt"
	"image/color"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/pipcam/pipcam/compositor"
	"github.com/pipcam/pipcam/compositor/camtest"
	"github.com/pipcam/pipcam/configs"
)

// runCameras measures what cameras cost, in alternating rounds (CPU on a
// shared machine drifts by points from window to window):
//
//   - the daemon with two IP cameras (an RTSP camera and an HTTP MJPEG
//     camera, real servers on loopback) against the daemon with two test
//     cameras, at the defaults (640x480@15, 400 kbit/s, x264enc ultrafast),
//     no viewer;
//   - the per-camera boundary: the graph pipcam builds (each camera its
//     own pipeline, joined to the mixer by intervideosink/intervideosrc)
//     against the same graph with the cameras linked straight into the
//     mixer, both run by gst-launch-1.0.
func runCameras(bin string, rounds int, window time.Duration, sb *scoreboard) error {
	dir, err := os.MkdirTemp("", "pipcam-bench-cameras")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rtsp, err := camtest.StartRTSP(dir, "smpte", 640, 480, 15)
	if err != nil {
		return err
	}
	defer rtsp.Close()
	mjpeg, err := camtest.NewMJPEG(640, 480, 15, color.RGBA{40, 120, 200, 255})
	if err != nil {
		return err
	}
	defer mjpeg.Close()

	ipYAML := fmt.Sprintf("cameras:\n  - name: a\n    type: rtsp\n    url: %q\n  - name: b\n    type: mjpeg\n    url: %q\n",
		rtsp.URL(), mjpeg.StreamURL())
	fmt.Fprintf(progress, "cameras: daemon CPU with no viewer, %d rounds of %s (RTSP and MJPEG servers are other processes/goroutines, not counted)\n", rounds, window)
	test, ip, err := alternate(rounds, func(round int) (float64, float64, error) {
		t, err := daemonCPU(bin, "", window)
		if err != nil {
			return 0, 0, err
		}
		i, err := daemonCPU(bin, ipYAML, window)
		fmt.Fprintf(progress, "  round %d: two test cameras %5.1f %%, two IP cameras %5.1f %% of one core\n", round, t, i)
		return t, i, err
	})
	if err != nil {
		return err
	}
	report(sb, "cameras", "two IP cameras (RTSP H.264 decoded + MJPEG decoded) vs two test cameras", test, ip)

	fmt.Fprintf(progress, "cameras: the per-camera boundary, gst-launch-1.0 of the same graph, %d rounds of %s\n", rounds, window)
	boundary, direct, err := launchLines()
	if err != nil {
		return err
	}
	single, split, err := alternate(rounds, func(round int) (float64, float64, error) {
		s, err := launchCPU(direct, window)
		if err != nil {
			return 0, 0, err
		}
		b, err := launchCPU(boundary, window)
		fmt.Fprintf(progress, "  round %d: single pipeline %5.1f %%, cameras in their own pipelines %5.1f %% of one core\n", round, s, b)
		return s, b, err
	})
	if err != nil {
		return err
	}
	report(sb, "cameras", "cameras in their own pipelines vs one pipeline", single, split)
	return nil
}

// alternate runs rounds of a pair of measurements and returns each side.
func alternate(rounds int, measurePair func(round int) (float64, float64, error)) (a, b []float64, err error) {
	for r := 1; r <= rounds; r++ {
		x, y, err := measurePair(r)
		if err != nil {
			return nil, nil, err
		}
		a, b = append(a, x), append(b, y)
	}
	return a, b, nil
}

// report prints the second side against the first: means, the difference
// and its range over the rounds.
func report(sb *scoreboard, section, what string, base, other []float64) {
	var diffs []float64
	for i := range base {
		diffs = append(diffs, other[i]-base[i])
	}
	mb, _, _ := stats(base)
	mo, _, _ := stats(other)
	md, lo, hi := stats(diffs)
	sb.add(section, what, "", "%.1f %% vs %.1f %% of one core: %+.1f points (range %+.1f to %+.1f), %.2fx",
		mo, mb, md, lo, hi, mo/mb)
}

// daemonCPU starts the daemon with extraYAML, lets it settle and returns
// its CPU over the window, in percent of one core.
func daemonCPU(bin, extraYAML string, window time.Duration) (float64, error) {
	d, err := startDaemon(bin, daemonOpts{yaml: extraYAML})
	if err != nil {
		return 0, err
	}
	defer d.stop()
	if err := camerasPlaying(d.httpAddr, 20*time.Second); err != nil {
		return 0, err
	}
	time.Sleep(3 * time.Second) // encoder and decoders warm
	return measure(d.pid(), window, nil).cpu, nil
}

// camerasPlaying waits until status shows every camera playing.
func camerasPlaying(httpAddr string, d time.Duration) error {
	type status struct {
		Graph struct {
			Sources []struct{ Name, State, Error string } `json:"sources"`
		} `json:"graph"`
	}
	_, err := waitStatus("http://"+httpAddr, d, func(st status) bool {
		for _, s := range st.Graph.Sources {
			if s.State != "playing" {
				return false
			}
		}
		return len(st.Graph.Sources) > 0
	})
	if err != nil {
		return fmt.Errorf("cameras: %w", err)
	}
	return nil
}

// launchLines are gst-launch-1.0 arguments for the default graph, split
// into camera pipelines and run as one.
func launchLines() (boundary, direct []string, err error) {
	cfg := configs.Default()
	cfg.FLV.Listen = "127.0.0.1:0"
	cfg.Encoder.Element = configs.EncoderX264
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	split, err := compositor.Build(cfg, compositor.Exists)
	if err != nil {
		return nil, nil, err
	}
	single, err := compositor.BuildDirect(cfg, compositor.Exists)
	if err != nil {
		return nil, nil, err
	}
	return split.Description.Args(), single.Description.Args(), nil
}

// launchCPU runs gst-launch-1.0 with args and returns its CPU over the
// window after a settling time.
func launchCPU(args []string, window time.Duration) (float64, error) {
	cmd := exec.Command("gst-launch-1.0", append([]string{"-q"}, args...)...)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("gst-launch-1.0 (gstreamer1.0-tools; run make deps): %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	select {
	case err := <-exited:
		exited <- err
		return 0, errors.New("gst-launch-1.0 stopped by itself")
	case <-time.After(3 * time.Second):
	}
	return measure(cmd.Process.Pid, window, nil).cpu, nil
}
