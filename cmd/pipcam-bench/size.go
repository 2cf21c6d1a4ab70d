package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// scene is a picture to encode: the cameras (test patterns) and layout
// that make it, as pipcam config.
type scene struct {
	name, yaml string
}

// The three scenes of the size comparison, at pipcam's default output
// (640x480@15) and encoder settings.
var scenes = []scene{
	{"static", "cameras:\n  - {name: a, pattern: smpte}\n  - {name: b, pattern: smpte}\n"},
	// pipcam's default picture: a still main camera, the inset a small ball
	// moving over black (a print head over the bed).
	{"print head", "cameras:\n  - {name: a, pattern: smpte}\n  - {name: b, pattern: ball}\n"},
	{"noise", "cameras:\n  - {name: a, pattern: snow}\n  - {name: b, pattern: snow}\n"},
}

const (
	sizeFrames = 150 // 10 s at 15 fps
	sizeFPS    = 15
)

// sizeRates are the encoder bitrates each scene is encoded at: the floor
// that adaptation goes down to on a weak link, and the configured
// default. (x264 in CBR spends the whole rate even on a still picture, so
// at 400 kbit/s its SSIM is beyond what MJPEG reaches at any quality.)
var sizeRates = []int{100, 400}

// sizeResult is one scene's comparison.
type sizeResult struct {
	h264BPS, mjpegBPS float64 // bytes per second
	h264SSIM, mjSSIM  float64
	mjQ               int
	note              string
}

// runSize encodes each scene with pipcam's own graph (its print-pipeline
// line, made to run offline: finite sources, no leaky queues, files
// instead of the network sinks) and with ffmpeg's MJPEG at the quality
// that matches the H.264's SSIM against the uncompressed composite.
func runSize(bin string, sb *scoreboard) error {
	for _, tool := range []struct{ name, pkg string }{{"gst-launch-1.0", "gstreamer1.0-tools"}, {"ffmpeg", "ffmpeg"}} {
		if _, err := exec.LookPath(tool.name); err != nil {
			return fmt.Errorf("%s not installed: run make deps (Debian package %s)", tool.name, tool.pkg)
		}
	}
	for _, sc := range scenes {
		for _, kbps := range sizeRates {
			fmt.Fprintf(progress, "size: scene %q, H.264 at %d kbit/s\n", sc.name, kbps)
			r, err := compareScene(bin, sc, kbps)
			if err != nil {
				return fmt.Errorf("scene %s: %w", sc.name, err)
			}
			goal := ""
			if sc.name == "print head" {
				goal = "H.264 ≤ 1/17 of MJPEG"
			}
			sb.add("size", fmt.Sprintf("%s, H.264 at %d kbit/s: bytes/s vs MJPEG at equal SSIM", sc.name, kbps), goal,
				"%.1f vs %.1f kB/s (1/%.1f); SSIM %.3f vs %.3f (MJPEG q%d)%s",
				r.h264BPS/1000, r.mjpegBPS/1000, r.mjpegBPS/r.h264BPS, r.h264SSIM, r.mjSSIM, r.mjQ, r.note)
		}
	}
	return nil
}

func compareScene(bin string, sc scene, kbps int) (sizeResult, error) {
	var res sizeResult
	dir, err := os.MkdirTemp("", "pipcam-size")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	cfgPath := filepath.Join(dir, "scene.yaml")
	// Ports are never opened (the network sinks are replaced), but the
	// config must name valid ones.
	cfg := sc.yaml + fmt.Sprintf("encoder:\n  bitrate_kbps: %d\nflv:\n  listen: \"127.0.0.1:7272\"\n", kbps)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return res, err
	}
	out, err := exec.Command(bin, "print-pipeline", "-config", cfgPath).Output()
	if err != nil {
		return res, fmt.Errorf("%s print-pipeline: %w", bin, err)
	}
	raw, h264 := filepath.Join(dir, "raw.yuv"), filepath.Join(dir, "pipcam.h264")
	args, err := offlineGraph(lastLine(string(out)), raw, h264, sizeFrames)
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "gst-launch-1.0", append([]string{"-q"}, args...)...).CombinedOutput(); err != nil {
		return res, fmt.Errorf("gst-launch-1.0 (pipcam's graph): %w: %s", err, bytes.TrimSpace(b))
	}
	secs := float64(sizeFrames) / sizeFPS
	res.h264BPS = float64(fileSize(h264)) / secs
	if res.h264SSIM, err = ssim(raw, h264, "h264", ""); err != nil {
		return res, err
	}
	// MJPEG: the largest qscale (fewest bytes) whose SSIM still reaches
	// the H.264's; SSIM falls as qscale rises, so a binary search.
	mj := func(q int) (float64, int64, error) {
		f := filepath.Join(dir, fmt.Sprintf("q%d.mjpeg", q))
		// MJPEG is full range (yuvj420p): convert from the composite's TV
		// range going in, and back before comparing.
		b, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p",
			"-s", "640x480", "-r", strconv.Itoa(sizeFPS), "-i", raw,
			"-vf", "scale=in_range=tv:out_range=pc,format=yuvj420p", "-c:v", "mjpeg", "-q:v", strconv.Itoa(q),
			"-f", "mjpeg", f).CombinedOutput()
		if err != nil {
			return 0, 0, fmt.Errorf("ffmpeg mjpeg q%d: %w: %s", q, err, bytes.TrimSpace(b))
		}
		s, err := ssim(raw, f, "mjpeg", "scale=in_range=pc:out_range=tv,format=yuv420p,")
		return s, fileSize(f), err
	}
	lo, hi := 2, 31
	sLo, nLo, err := mj(lo)
	if err != nil {
		return res, err
	}
	if sLo < res.h264SSIM {
		res.mjQ, res.mjSSIM, res.mjpegBPS = lo, sLo, float64(nLo)/secs
		res.note = "; MJPEG's best is below the H.264's SSIM"
		return res, nil
	}
	best, bestS, bestN := lo, sLo, nLo
	for lo < hi { // invariant: best (= lo) reaches the SSIM
		mid := (lo + hi + 1) / 2
		s, n, err := mj(mid)
		if err != nil {
			return res, err
		}
		if s >= res.h264SSIM {
			lo, best, bestS, bestN = mid, mid, s, n
		} else {
			hi = mid - 1
		}
	}
	res.mjQ, res.mjSSIM, res.mjpegBPS = best, bestS, float64(bestN)/secs
	if best == 31 {
		res.note = "; MJPEG's lowest quality is still above it"
	}
	return res, nil
}

// offlineGraph turns pipcam's gst-launch line into one that encodes
// frames pictures as fast as it can and stops: finite, non-live sources;
// queues that block instead of dropping (so every composite picture is
// encoded); the encoded stream to h264Path and the raw composite to
// rawPath; no FLV server and no snapshot branch.
func offlineGraph(line, rawPath, h264Path string, frames int) ([]string, error) {
	toks := shellWords(line)
	if len(toks) == 0 || toks[0] != "gst-launch-1.0" {
		return nil, fmt.Errorf("print-pipeline's last line is not a gst-launch-1.0 command: %q", line)
	}
	toks = toks[1:]
	var out []string
	for _, t := range toks {
		switch t {
		case "is-live=true":
			out = append(out, "is-live=false", "num-buffers="+strconv.Itoa(frames))
		case "leaky=downstream":
			out = append(out, "leaky=no")
		default:
			out = append(out, t)
		}
	}
	out, err := joinCameras(out)
	if err != nil {
		return nil, err
	}
	if out, err = replaceElement(out, "ausink", "filesink", "location="+h264Path); err != nil {
		return nil, err
	}
	if out, err = replaceElement(out, "flvsink", "fakesink", "sync=false"); err != nil {
		return nil, err
	}
	// The snapshot branch: from its pad reference before the valve to the
	// end of its appsink.
	start, _ := elementSpan(out, "jpegvalve")
	_, sinkEnd := elementSpan(out, "jpegsink")
	if start < 2 || sinkEnd < 0 || out[start-1] != "!" {
		return nil, fmt.Errorf("no snapshot branch in the graph")
	}
	out = append(out[:start-2], out[sinkEnd:]...)
	return append(out, "raw.", "!", "queue", "!", "filesink", "location="+rawPath), nil
}

// joinCameras links each camera's chain straight to its mixer input. The
// line runs each camera into an inter channel (intervideosink) that the
// mixer reads (intervideosrc); intervideosrc never ends, so the offline
// graph would never finish. A videorate takes the pair's place: the
// mixer's input caps carry intervideosrc's frame rate.
func joinCameras(toks []string) ([]string, error) {
	for {
		s := slices.Index(toks, "intervideosink")
		if s < 0 {
			return toks, nil
		}
		src := propsEnd(toks, s+1)
		if src >= len(toks) || toks[src] != "intervideosrc" {
			return nil, fmt.Errorf("an intervideosink not followed by the mixer's intervideosrc")
		}
		toks = slices.Replace(toks, s, propsEnd(toks, src+1), "videorate")
	}
}

// propsEnd is the index just past the properties that start at i.
func propsEnd(toks []string, i int) int {
	for i < len(toks) && toks[i] != "!" && strings.Contains(toks[i], "=") {
		i++
	}
	return i
}

// elementSpan finds the element named name: the index of its factory and
// the index just past its properties (-1, -1 if absent).
func elementSpan(toks []string, name string) (int, int) {
	for i, t := range toks {
		if t == "name="+name && i > 0 {
			return i - 1, propsEnd(toks, i+1)
		}
	}
	return -1, -1
}

func replaceElement(toks []string, name string, with ...string) ([]string, error) {
	s, e := elementSpan(toks, name)
	if s < 0 {
		return nil, fmt.Errorf("the graph has no element %s", name)
	}
	return append(append(append([]string{}, toks[:s]...), with...), toks[e:]...), nil
}

// shellWords splits a line the way sh would for the quoting pipcam prints
// (single quotes only).
func shellWords(line string) []string {
	var out []string
	var cur strings.Builder
	in, quoted := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, in = !quoted, true
		case r == ' ' && !quoted:
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

var ssimAll = regexp.MustCompile(`All:([0-9.]+)`)

// ssim compares an encoded file (format, with pre filters ending in a
// comma) against the raw composite with ffmpeg's ssim filter.
func ssim(raw, enc, format, pre string) (float64, error) {
	cmd := exec.Command("ffmpeg", "-hide_banner", "-nostats",
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "640x480", "-r", strconv.Itoa(sizeFPS), "-i", raw,
		"-f", format, "-r", strconv.Itoa(sizeFPS), "-i", enc,
		"-lavfi", "[1:v]"+pre+"setpts=N/FRAME_RATE/TB[e];[0:v]setpts=N/FRAME_RATE/TB[r];[e][r]ssim", "-f", "null", "-")
	b, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("ffmpeg ssim of %s: %w: %s", filepath.Base(enc), err, bytes.TrimSpace(b))
	}
	m := ssimAll.FindAllSubmatch(b, -1)
	if len(m) == 0 {
		return 0, fmt.Errorf("ffmpeg printed no SSIM for %s: %s", filepath.Base(enc), bytes.TrimSpace(b))
	}
	return strconv.ParseFloat(string(m[len(m)-1][1]), 64)
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
