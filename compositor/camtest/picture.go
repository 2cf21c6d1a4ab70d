package camtest

import (
	"bytes"
	"fmt"
	"os/exec"
)

// Decode turns an H.264 Annex-B stream (starting at a keyframe) into RGB24
// pictures of w x h with ffmpeg, one per access unit.
func Decode(stream []byte, w, h int) ([][]byte, error) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return nil, fmt.Errorf("ffmpeg %w", ErrNotInstalled)
	}
	// Niced: the test's decoding should not take the CPU from the daemon
	// it checks (these machines are shared).
	cmd := exec.Command("nice", "-n", "10", "ffmpeg", "-v", "error", "-f", "h264", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	cmd.Stdin = bytes.NewReader(stream)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ffmpeg decode: %w: %s", err, stderr.String())
	}
	size := w * h * 3
	if len(out) < size || len(out)%size != 0 {
		return nil, fmt.Errorf("decoded %d bytes, not whole %dx%d pictures", len(out), w, h)
	}
	var pics [][]byte
	for i := 0; i < len(out); i += size {
		pics = append(pics, out[i:i+size])
	}
	return pics, nil
}

// Region sums up a rectangle of an RGB24 picture w pixels wide.
type Region struct {
	R, G, B float64 // mean of each channel
	MaxLuma float64 // the brightest pixel's luma
}

// Measure the rectangle [x0,x1) x [y0,y1).
func Measure(pic []byte, w, x0, y0, x1, y1 int) Region {
	var r Region
	n := 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			i := (y*w + x) * 3
			pr, pg, pb := float64(pic[i]), float64(pic[i+1]), float64(pic[i+2])
			r.R += pr
			r.G += pg
			r.B += pb
			r.MaxLuma = max(r.MaxLuma, 0.299*pr+0.587*pg+0.114*pb)
			n++
		}
	}
	if n > 0 {
		r.R, r.G, r.B = r.R/float64(n), r.G/float64(n), r.B/float64(n)
	}
	return r
}

// Luma is the region's mean luma.
func (r Region) Luma() float64 { return 0.299*r.R + 0.587*r.G + 0.114*r.B }

// IsCard reports whether the region looks like a camera's card: mostly
// black, with light text in it.
func (r Region) IsCard() bool { return r.Luma() < 60 && r.MaxLuma > 100 }

// Near reports whether the region's mean colour is within tol of c on
// every channel.
func (r Region) Near(c [3]float64, tol float64) bool {
	return abs(r.R-c[0]) <= tol && abs(r.G-c[1]) <= tol && abs(r.B-c[2]) <= tol
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func (r Region) String() string {
	return fmt.Sprintf("mean rgb(%.0f,%.0f,%.0f) max luma %.0f", r.R, r.G, r.B, r.MaxLuma)
}
