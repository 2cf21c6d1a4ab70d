package main

import (
	"os"
	"runtime"
	"strings"
	"syscall"
)

// Two settings of Go's scheduler, for a daemon whose Go side hands packets
// out and answers HTTP while GStreamer's own threads make the pictures
// (they never wait for Go: they call into it only for rare bus messages).
// Both were measured with pipcam-bench -only load, 49 more viewers, in
// alternating runs.

// goProcs is how many threads run Go code at once, unless the GOMAXPROCS
// environment variable says otherwise. With more than one, every
// goroutine hand-off on the way of a viewer's feedback packet (ICE read,
// DTLS, SRTP, RTCP: each viewer sends ten a second) wakes an idle thread
// to look for work, and those wake-ups cost more than the work they find
// (9.1, 7.3, 9.6 points with two; 6.6, 7.2, 6.2 with one).
const goProcs = 1

// sysmonAwake keeps Go's sysmon thread out of its deep sleep. Asleep, it
// is woken by the next system call and then polls every 20 µs for a
// millisecond or more before it backs off again; with a packet every few
// milliseconds it was woken over and over, about 900 times a second at 50
// viewers (6.2, 6.2 points; 4.7, 5.1 awake). Awake it polls every 10 ms
// when idle: 90 more wake-ups a second with nobody watching. The runtime's
// only switch for it is a scheduler trace period, here the longest there
// is: the trace prints one line when the machine has been up that long
// (24.8 days), and again every 24.8 days. GODEBUG is read before main, so
// the daemon starts itself again with it set.
const sysmonAwake = "schedtrace=2147483647"

// tuneGoRuntime applies both, unless the environment sets them. It returns
// only when it did not start the daemon again.
func tuneGoRuntime() {
	if godebug := os.Getenv("GODEBUG"); !strings.Contains(godebug, "schedtrace=") {
		if exe, err := os.Executable(); err == nil {
			if godebug != "" {
				godebug += ","
			}
			env := append(withoutEnv(os.Environ(), "GODEBUG"), "GODEBUG="+godebug+sysmonAwake)
			_ = syscall.Exec(exe, os.Args, env) // returns only on failure: run as we are
		}
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(goProcs)
	}
}

// isDaemon says whether pipcam's arguments run the daemon.
func isDaemon(args []string) bool {
	return len(args) == 0 || strings.HasPrefix(args[0], "-") || args[0] == "run"
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
