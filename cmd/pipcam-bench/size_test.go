package main

import (
	"slices"
	"strings"
	"testing"
)

// A camera's inter channel (which never ends) becomes a direct link, so the
// offline graph finishes; anything else stays as it was.
func TestJoinCamerasLinksEachCameraToTheMixer(t *testing.T) {
	line := "videotestsrc name=cam0 ! video/x-raw,width=640 ! intervideosink name=cam0out channel=c0 sync=false " +
		"intervideosrc name=in0 channel=c0 timeout=4000000000 ! video/x-raw,framerate=30/1 ! queue ! mix.sink_0 " +
		"videotestsrc name=cam1 ! intervideosink name=cam1out channel=c1 intervideosrc name=in1 channel=c1 ! queue ! mix.sink_1 " +
		"compositor name=mix ! fakesink"
	got, err := joinCameras(strings.Fields(line))
	if err != nil {
		t.Fatal(err)
	}
	want := "videotestsrc name=cam0 ! video/x-raw,width=640 ! videorate ! video/x-raw,framerate=30/1 ! queue ! mix.sink_0 " +
		"videotestsrc name=cam1 ! videorate ! queue ! mix.sink_1 compositor name=mix ! fakesink"
	if strings.Join(got, " ") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
	if _, err := joinCameras(strings.Fields("videotestsrc ! intervideosink channel=c0 ! fakesink")); err == nil {
		t.Fatal("took an intervideosink with no intervideosrc after it")
	}
	if got, _ := joinCameras(strings.Fields(want)); !slices.Equal(got, strings.Fields(want)) {
		t.Fatal("changed a line without inter channels")
	}
}
