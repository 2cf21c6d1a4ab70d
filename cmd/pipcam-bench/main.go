// Command pipcam-bench is the scoreboard: it measures the built pipcam from
// the outside and prints one table. Sections (all by default, or -only):
//
//	size     bytes/s of pipcam's H.264 vs MJPEG of the same composite at
//	         equal SSIM, for a static, a print-head and a noise scene
//	latency  capture → viewer on loopback and behind a 300 kbit/s link
//	join     first decodable frame after connect
//	load     CPU and RSS at 1, 20 and 50 WebRTC viewers, plus 5 FLV;
//	         50 again with 49 viewers that send no RTCP
//	capacity the most viewers served at full frame rate (100, 200, 400)
//	soak     RSS and live GStreamer buffers over a long 30 fps run
//
// `make bench` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pipcam/pipcam/internal/netem"
	"github.com/pipcam/pipcam/internal/viewer"
)

// progress is where sections say what they are doing; the table goes to
// stdout at the end.
var progress io.Writer = os.Stderr

var sections = []string{"size", "latency", "join", "load", "capacity", "fixed", "jpeg", "overlay", "moonraker", "cameras", "outputs", "soak"}

func main() {
	netem.MaybeRunViewer() // this binary again, as the viewer inside a namespace
	bin := flag.String("pipcam", "bin/pipcam", "the pipcam binary to measure")
	levels := flag.String("viewers", "1,20,50", "WebRTC viewer counts of the load section")
	flv := flag.Int("flv", 5, "FLV clients added to the largest viewer count")
	joins := flag.Int("joins", 20, "joins timed for the first-frame figure")
	window := flag.Duration("window", 8*time.Second, "how long each CPU window is")
	rounds := flag.Int("rounds", 3, "alternating rounds of the load section")
	silent := flag.Bool("silent", true, "the load section also measures the largest viewer count with viewers that send no RTCP (ICE checks as usual): what sending alone costs")
	soak := flag.Duration("soak", 10*time.Minute, "how long the 30 fps soak runs (0: skip it)")
	flag.StringVar(&extraYAML, "yaml", "", "settings added to every daemon's config (YAML, e.g. to compare with encoder.adaptive off)")
	before := flag.String("before", "", "an earlier pipcam binary the fixed section measures beside -pipcam")
	only := flag.String("only", "", "comma-separated sections to run: "+strings.Join(sections, ", ")+" (default: all)")
	flag.Parse()

	run := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !slices.Contains(sections, s) {
				fmt.Fprintf(os.Stderr, "pipcam-bench: no section %q (sections: %s)\n", s, strings.Join(sections, ", "))
				os.Exit(2)
			}
			run[s] = true
		}
	}
	want := func(s string) bool { return len(run) == 0 || run[s] }
	plan := loadPlan{flv: *flv, silent: *silent, rounds: *rounds, window: *window}
	for _, f := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "pipcam-bench: -viewers %q: want counts such as 1,20,50\n", *levels)
			os.Exit(2)
		}
		plan.levels = append(plan.levels, n)
	}

	var sb scoreboard
	fmt.Fprintf(progress, "pipcam-bench: %s on built-in defaults (640x480@15, 400 kbit/s, x264enc ultrafast), %d cores\n", *bin, numCPU())
	steps := []struct {
		name string
		run  func() error
	}{
		{"size", func() error { return runSize(*bin, &sb) }},
		{"latency", func() error { return runLatency(*bin, &sb) }},
		{"join", func() error { return runJoin(*bin, *joins, &sb) }},
		{"load", func() error { return runLoad(*bin, plan, &sb) }},
		{"capacity", func() error { return runCapacity(*bin, *window, &sb) }},
		{"fixed", func() error { return runFixed(*bin, *before, *rounds, *window, &sb) }},
		{"jpeg", func() error { return measureJPEG(*bin, *rounds, *window, &sb) }},
		{"overlay", func() error { return runOverlay(*bin, *rounds, *window, &sb) }},
		{"moonraker", func() error { return moonrakerToPicture(*bin, 10, &sb) }},
		{"cameras", func() error { return runCameras(*bin, *rounds, *window, &sb) }},
		{"outputs", func() error { return runOutputs(*bin, *rounds, *window, &sb) }},
		{"soak", func() error {
			if *soak <= 0 {
				return nil
			}
			return runSoak(*bin, *soak, &sb)
		}},
	}
	failed := false
	for _, s := range steps {
		if !want(s.name) {
			continue
		}
		if err := s.run(); err != nil {
			fmt.Fprintf(os.Stderr, "pipcam-bench: %s: %v\n", s.name, err)
			sb.add(s.name, "(failed)", "", "%v", err)
			failed = true
		}
	}
	fmt.Printf("\npipcam-bench %s (%s)\n\n", strings.Join(os.Args[1:], " "), time.Now().UTC().Format("2006-01-02"))
	sb.print(os.Stdout)
	if failed {
		os.Exit(1)
	}
}

func waitDecodable(ctx context.Context, v *viewer.Viewer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return v.WaitFirstDecodable(ctx)
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	i = min(max(i-1, 0), len(s)-1)
	return s[i].Round(time.Millisecond)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
