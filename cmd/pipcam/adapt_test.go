package main

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/pipcam/pipcam/internal/viewer"
)

// FLV clients have no congestion feedback and share the encode: while one
// is connected the encoder keeps the configured bitrate, and a WebRTC
// viewer whose link cannot take it gets keyframes only; when it leaves,
// the target follows that viewer's estimate again.
func TestFLVClientsKeepTheConfiguredBitrate(t *testing.T) {
	cfg := testConfig()
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	flv, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.graph.FLVPort()))
	if err != nil {
		t.Fatal(err)
	}
	defer flv.Close()
	go func() { // a client that reads, as VLC would; ends when closed
		buf := make([]byte, 64<<10)
		for {
			if _, err := flv.Read(buf); err != nil {
				return
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	v, err := viewer.DialWHEP(ctx, base, viewer.Options{Logger: quietLogger(), REMB: func() float32 { return 150_000 }})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	waitStatus(t, base, 15*time.Second, "the weak viewer on keyframes only under the pinned bitrate", func(st statusReply) bool {
		return st.Stream.TargetKbps == cfg.Encoder.BitrateKbps && len(st.Sessions) == 1 &&
			st.Sessions[0].Receiving == "keyframes only: FLV clients hold the bitrate above its link"
	})
	flv.Close()
	waitStatus(t, base, 15*time.Second, "the target following the viewer once FLV is gone", func(st statusReply) bool {
		return st.Stream.TargetKbps == 135 && st.Sessions[0].Receiving == "every frame"
	})
}

func waitStatus(t *testing.T, base string, within time.Duration, what string, ok func(statusReply) bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := status(t, base)
		if ok(st) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s: %+v", what, within, st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
