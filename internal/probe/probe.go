// Package probe reads media back with ffprobe, for tests: what streams a
// URL (an RTMP server's stream) carries, and what a recorded file holds.
// ffprobe runs niced: checking must not take the CPU that the pipcam
// under test needs.
package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"time"
)

// Stream is one stream ffprobe found.
type Stream struct {
	Type   string `json:"codec_type"` // video, audio
	Codec  string `json:"codec_name"` // h264, aac
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// Frames is how many frames ffprobe decoded (File only).
	Frames int `json:"-"`
}

// Streams reads the start of a stream or file and lists its streams.
func Streams(ctx context.Context, url string) ([]Stream, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := run(ctx, "-show_entries", "stream=codec_type,codec_name,width,height", url)
	if err != nil {
		return nil, err
	}
	var res struct {
		Streams []Stream `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("ffprobe %s said %s: %w", url, out, err)
	}
	return res.Streams, nil
}

// Video is the first video stream of streams.
func Video(streams []Stream) (Stream, bool) {
	for _, st := range streams {
		if st.Type == "video" {
			return st, true
		}
	}
	return Stream{}, false
}

// Info is what a recorded file holds.
type Info struct {
	Video Stream
	// Duration is the container's (0 when it does not say: a file cut
	// short by a crash).
	Duration time.Duration
	// LastPicture is the presentation time of the last video packet, from
	// the first.
	LastPicture time.Duration
	// Errors is what ffprobe complained about while decoding every frame.
	Errors string
}

// File decodes every frame of a file's video and reports it.
func File(ctx context.Context, path string) (Info, error) {
	out, err := run(ctx, "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_type,codec_name,width,height,nb_read_frames:format=duration", path)
	if err != nil {
		return Info{}, err
	}
	var res struct {
		Streams []struct {
			Stream
			Frames string `json:"nb_read_frames"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) != 1 {
		return Info{}, fmt.Errorf("ffprobe %s said %s (%v)", path, out, err)
	}
	var info Info
	info.Video = res.Streams[0].Stream
	info.Video.Frames, _ = strconv.Atoi(res.Streams[0].Frames)
	info.Duration = seconds(res.Format.Duration)
	pkts, err := run(ctx, "-select_streams", "v:0", "-show_entries", "packet=pts_time", path)
	if err != nil {
		return Info{}, err
	}
	var p struct {
		Packets []struct {
			PTS string `json:"pts_time"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(pkts, &p); err != nil || len(p.Packets) == 0 {
		return Info{}, fmt.Errorf("ffprobe %s: no video packets (%v)", path, err)
	}
	first, last := seconds(p.Packets[0].PTS), time.Duration(0)
	for _, pk := range p.Packets {
		last = max(last, seconds(pk.PTS)-first)
	}
	info.LastPicture = last
	var errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "nice", "-n", "10", "ffmpeg", "-v", "error", "-i", path, "-f", "null", "-")
	cmd.Stderr = &errOut
	if err := cmd.Run(); err != nil {
		return Info{}, fmt.Errorf("ffmpeg could not decode %s: %w: %s", path, err, errOut.String())
	}
	info.Errors = errOut.String()
	return info, nil
}

func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// run runs ffprobe with args and the input last, JSON out.
func run(ctx context.Context, args ...string) ([]byte, error) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		return nil, errors.New("ffprobe not installed: run make deps (Debian package ffmpeg)")
	}
	input := args[len(args)-1]
	args = append(append([]string{"-n", "10", "ffprobe", "-v", "error", "-of", "json"}, args[:len(args)-1]...), input)
	var errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "nice", args...)
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ffprobe %s: %w: %s", input, err, bytes.TrimSpace(errOut.Bytes()))
	}
	return out, nil
}
