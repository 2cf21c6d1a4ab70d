package main

import (
	"os"
	"runtime"
	"runtime/debug"
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

// gcPercent is how far Go's heap may grow past what is live before it is
// collected (Go's default: 100, twice the live heap), unless the GOGC
// environment variable says otherwise. Most of a viewer's memory is pion's
// per-peer state, and the garbage it makes is small and steady (the
// collector took under 0.1 % of the CPU at 50 viewers with 100), so a
// collection costs little and the room the heap is allowed costs RSS on
// a Pi with 512 MB: 0.49 MB per viewer with 100, 0.39 with 50, 0.34 with
// 25, at the same CPU (pipcam-bench -only load, 2 rounds each).
const gcPercent = 25

// tuneGoRuntime applies goProcs and gcPercent unless GOMAXPROCS and GOGC
// are set.
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
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}

// gcPercentNow is the collector's setting in force (Go has no getter:
// setting returns the previous value, which is put straight back).
func gcPercentNow() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// isDaemon says whether pipcam's arguments run the daemon.
func isDaemon(args []string) bool {
	return len(args) == 0 || strings.HasPrefix(args[0], "-") || args[0] == "run"
}
