// Command pipcam captures two cameras, mixes them picture-in-picture, encodes
// H.264 once and serves it over WebRTC (WHEP, camera-streamer) and FLV/TCP.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pipcam/pipcam/compositor"
	"github.com/pipcam/pipcam/configs"
)

// version is set at build time: -ldflags "-X main.version=…".
var version = "dev"

// defaultConfigPath is read when it exists and no -config is given.
const defaultConfigPath = "/etc/pipcam/pipcam.yaml"

const usage = `usage: pipcam <command> [-config FILE]

commands:
  run             run the daemon (default)
  check-config    validate the config and print the effective settings
  print-pipeline  print the GStreamer graph as a gst-launch-1.0 line
  list-cameras    list the V4L2 cameras GStreamer can see
  token           print the control token for the dashboard and plugin
  version         print the version

Without -config, pipcam reads ` + defaultConfigPath + ` if it exists,
else runs on built-in defaults (two test-pattern cameras).
`

func main() {
	if isDaemon(os.Args[1:]) {
		tuneGoRuntime() // goruntime.go
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("pipcam "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	configPath := fs.String("config", "", "config file (YAML)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pipcam %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}

	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "pipcam", version)
		return 0
	case "list-cameras":
		return listCameras(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}

	cfg, source, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	switch cmd {
	case "check-config":
		return checkConfig(stdout, cfg, source)
	case "print-pipeline":
		return printPipeline(stdout, stderr, cfg)
	case "token":
		return printToken(stdout, stderr, cfg, source)
	case "run":
		log := newLogger(stderr, cfg.Log.Level.Level())
		if err := applyControlToken(cfg, log); err != nil {
			log.Error("pipcam stopped", "error", err)
			return 1
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := runDaemon(ctx, cfg, source, log); err != nil {
			log.Error("pipcam stopped", "error", err)
			return 1
		}
		return 0
	default:
		fmt.Fprintf(stderr, "pipcam: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// loadConfig reads the given file, else the default path if present, else
// returns the built-in defaults. source says which, for messages.
func loadConfig(path string) (*configs.Config, string, error) {
	return loadConfigFrom(path, defaultConfigPath)
}

// loadConfigFrom is loadConfig with the default path given. Only a default
// file that does not exist means "use the built-in defaults": one that
// exists but cannot be read is an error, never a silent fall-back to test
// patterns.
func loadConfigFrom(path, defaultPath string) (*configs.Config, string, error) {
	if path == "" {
		_, err := os.Stat(defaultPath)
		switch {
		case err == nil:
			path = defaultPath
		case !errors.Is(err, fs.ErrNotExist):
			return nil, defaultPath, fmt.Errorf("config %s: %w", defaultPath, err)
		}
	}
	if path == "" {
		cfg := configs.Default()
		return cfg, "built-in defaults", cfg.Validate()
	}
	cfg, err := configs.Load(path)
	return cfg, path, err
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func checkConfig(stdout io.Writer, cfg *configs.Config, source string) int {
	// The config is only usable if this machine has every element its graph
	// needs; say which package is missing now, not at the next start.
	plan, err := compositor.Build(cfg, compositor.Exists)
	if err == nil {
		err = compositor.CheckElements(plan, compositor.Exists)
	}
	if err != nil {
		fmt.Fprintf(stdout, "%s: %v\n", source, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", source)
	for _, c := range cfg.Cameras {
		w, h, fps := c.EffectiveSize(cfg.Output)
		where := string(c.Pattern)
		if c.Type == configs.CameraV4L2 {
			where = c.Device + " " + string(c.Format)
		}
		fmt.Fprintf(stdout, "  camera %-8s %-5s %s %dx%d@%d\n", c.Name, c.Type, where, w, h, fps)
	}
	l := cfg.Layout
	fmt.Fprintf(stdout, "  output %dx%d@%d, layout %s main=%s inset=%s %s %.0f%%\n",
		cfg.Output.Width, cfg.Output.Height, cfg.Output.Framerate, l.Mode, l.Main, l.Inset, l.Corner, l.Size*100)
	fmt.Fprintf(stdout, "  encoder %s %d kbit/s, keyframe every %s\n",
		cfg.Encoder.Element, cfg.Encoder.BitrateKbps, cfg.Encoder.KeyframeInterval.D())
	fmt.Fprintf(stdout, "  http %s (token %s), flv %s\n", cfg.HTTP.Listen, tokenState(cfg.HTTP), cfg.FLV.Listen)
	return 0
}

func tokenState(h configs.HTTP) string {
	switch {
	case h.Token.Reveal() != "":
		return "set"
	case h.TokenFile != "":
		return "kept in " + string(h.TokenFile) + ", made at first start; pipcam token shows it"
	case h.IsLoopback():
		return "not needed on loopback"
	default:
		return "not set: control endpoints are refused"
	}
}

func printPipeline(stdout, stderr io.Writer, cfg *configs.Config) int {
	plan, err := compositor.Build(cfg, compositor.Exists)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "# encoder: %s; the overlay text is set at run time\n", plan.Encoder)
	words := []string{"gst-launch-1.0"}
	for _, w := range plan.Description.Args() {
		words = append(words, shellQuote(w))
	}
	fmt.Fprintln(stdout, strings.Join(words, " "))
	return 0
}

// shellQuote leaves a plain word alone and wraps anything else in single
// quotes for sh.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:=+!") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// listCameras prints each V4L2 camera found as a cameras entry for
// pipcam.yaml, ready to paste: its /dev/v4l/by-id path and its best MJPEG
// and raw modes.
func listCameras(stdout io.Writer) int {
	cams := compositor.ListCameras()
	if len(cams) == 0 {
		fmt.Fprintln(stdout, "no V4L2 cameras found")
		return 0
	}
	fmt.Fprintln(stdout, "# V4L2 cameras found; paste the ones you want under cameras: in pipcam.yaml")
	for _, c := range cams {
		fmt.Fprint(stdout, c.ConfigSnippet())
	}
	return 0
}
