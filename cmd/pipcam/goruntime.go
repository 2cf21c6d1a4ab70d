package main

import (
	"os"
	"runtime"
	"strings"
)

// Go's scheduler, set for a daemon whose Go side hands packets out and
// answers HTTP while GStreamer's own threads make the pictures (they never
// wait for Go: they call into it only for rare bus messages). Measured
// with pipcam-bench -only load, 49 more viewers, in alternating runs.

// goProcs is how many threads run Go code at once, unless the GOMAXPROCS
// environment variable says otherwise. With more than one, every
// goroutine hand-off on the way of a viewer's feedback packet (ICE read,
// DTLS, SRTP, RTCP: each viewer sends ten a second) wakes an idle thread
// to look for work, and those wake-ups cost more than the work they find
// (9.1, 7.3, 9.6 points with two; 6.6, 7.2, 6.2 with one).
const goProcs = 1

// tuneGoRuntime applies goProcs unless GOMAXPROCS is set.
//
// Not done: keeping Go's sysmon thread out of its deep sleep (GODEBUG
// schedtrace at its longest period, 2147483647). Asleep, it is woken by
// the next system call and then polls every 20 µs for a millisecond or
// more: about 900 times a second at 50 viewers. Awake, 49 viewers cost
// 4.7 and 5.1 points instead of 6.2 and 6.2, but with nobody watching
// sysmon then polls every 10 ms, and the idle daemon cost 1.07-1.10x its
// printed graph instead of 1.01x (pipcam-bench -only fixed, 8 rounds, both
// orders). Most of the time nobody watches, so it is the user's choice
// (README).
func tuneGoRuntime() {
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(goProcs)
	}
}

// isDaemon says whether pipcam's arguments run the daemon.
func isDaemon(args []string) bool {
	return len(args) == 0 || strings.HasPrefix(args[0], "-") || args[0] == "run"
}
