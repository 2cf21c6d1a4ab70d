package main

import (
	"os"
	"runtime"
)

// goProcs is how many threads run Go code at once, unless the GOMAXPROCS
// environment variable says otherwise. pipcam's Go side hands packets out
// and answers HTTP; GStreamer's own threads make the pictures and never
// wait for Go (they call into it only for rare bus messages). With more
// than one, every goroutine hand-off on the way of a viewer's feedback
// packet (ICE read, DTLS, SRTP, RTCP: each viewer sends ten a second)
// wakes an idle thread to look for work, and those wake-ups cost more than
// the work they find.
const goProcs = 1

// limitGoProcs applies goProcs unless GOMAXPROCS is set.
func limitGoProcs() {
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(goProcs)
	}
}
