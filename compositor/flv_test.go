package compositor

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// ffprobeFLV reads about two seconds of tcp://127.0.0.1:port and returns
// what it found in the video stream.
func ffprobeFLV(t *testing.T, port int) (codec, profile string, width, height, frames int) {
	t.Helper()
	cmd := exec.Command("ffprobe", "-v", "error",
		"-analyzeduration", "1000000", "-probesize", "100000",
		"-count_frames", "-read_intervals", "%+2", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,profile,width,height,nb_read_frames", "-of", "json",
		fmt.Sprintf("tcp://127.0.0.1:%d", port))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe: %v %s", err, out)
	}
	var res struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Profile      string `json:"profile"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) != 1 {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	s := res.Streams[0]
	frames, _ = strconv.Atoi(s.NbReadFrames)
	return s.CodecName, s.Profile, s.Width, s.Height, frames
}

func TestFLVOverTCPServesEveryClientFromAKeyframe(t *testing.T) {
	g := startGraph(t, testConfig())
	port := g.FLVPort()
	if port == 0 {
		t.Fatal("FLV server has no port")
	}
	for client := 1; client <= 2; client++ {
		codec, profile, w, h, frames := ffprobeFLV(t, port)
		if codec != "h264" || w != 320 || h != 240 {
			t.Fatalf("client %d: ffprobe saw %s %dx%d, want h264 320x240", client, codec, w, h)
		}
		if profile != "Constrained Baseline" {
			t.Fatalf("client %d: profile %q", client, profile)
		}
		// Two seconds at 15 fps, every picture decodable from the first.
		t.Logf("client %d: %d frames", client, frames)
		if frames < 20 {
			t.Fatalf("client %d: decoded only %d frames in 2 s", client, frames)
		}
	}
	for client := 1; client <= 3; client++ {
		first := firstFLVPicture(t, port)
		if first != 1 {
			t.Fatalf("client %d: first picture tag has frame type %d, want 1 (keyframe)", client, first)
		}
	}
	if st := g.Status().(Status); st.FLVPort != port {
		t.Fatalf("status FLV port %d, want %d", st.FLVPort, port)
	}
}

// firstFLVPicture connects, checks the FLV header and the AVC sequence
// header, and returns the frame type of the first picture tag.
func firstFLVPicture(t *testing.T, port int) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	hdr := make([]byte, 13) // FLV header + PreviousTagSize0
	if _, err := io.ReadFull(r, hdr); err != nil || string(hdr[:3]) != "FLV" {
		t.Fatalf("no FLV header: %q %v", hdr, err)
	}
	sawSequenceHeader := false
	for {
		th := make([]byte, 11)
		if _, err := io.ReadFull(r, th); err != nil {
			t.Fatalf("read tag: %v", err)
		}
		size := int(th[1])<<16 | int(th[2])<<8 | int(th[3])
		body := make([]byte, size+4)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatalf("read tag body: %v", err)
		}
		if th[0] != 9 || size < 2 { // not video
			continue
		}
		frameType, codec, packetType := int(body[0]>>4), body[0]&0x0f, body[1]
		if codec != 7 {
			t.Fatalf("video codec id %d, want 7 (AVC)", codec)
		}
		if packetType == 0 {
			sawSequenceHeader = true
			continue
		}
		if !sawSequenceHeader {
			t.Fatal("a picture came before the AVC sequence header")
		}
		return frameType
	}
}
