package compositor

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pipcam/pipcam/configs"
)

// everyGraphKind renders the graph for every source kind with every
// encoder, on a Pi (its hardware elements exist) and off one, so a test
// sees every element pipcam may ask GStreamer for, cards included.
func everyGraphKind(t *testing.T) map[string][]string {
	t.Helper()
	sources := map[string]configs.Camera{
		"test":       {Name: "a", Type: configs.CameraTest, Pattern: configs.PatternSMPTE},
		"v4l2 mjpeg": {Name: "a", Type: configs.CameraV4L2, Device: "/dev/video0", Format: configs.FormatMJPEG},
		"v4l2 raw":   {Name: "a", Type: configs.CameraV4L2, Device: "/dev/video0", Format: configs.FormatRaw},
		"v4l2 auto":  {Name: "a", Type: configs.CameraV4L2, Device: "/dev/video0", Format: configs.FormatAuto},
		"libcamera":  {Name: "a", Type: configs.CameraLibcamera},
		"mjpeg":      {Name: "a", Type: configs.CameraMJPEG, URL: "http://cam/stream", Username: "u"},
		"snapshot":   {Name: "a", Type: configs.CameraSnapshot, URL: "http://cam/capture"},
		"rtsp":       {Name: "a", Type: configs.CameraRTSP, URL: "rtsp://cam/s", Transport: configs.TransportUDP},
		"turned":     {Name: "a", Type: configs.CameraTest, Pattern: configs.PatternSMPTE, Rotate: 90, Flip: configs.FlipVertical, Crop: configs.Crop{Left: 8}},
	}
	machines := map[string]func(string) bool{
		"pi": func(string) bool { return true },
		"pc": func(f string) bool { return !slices.Contains(hardwareOnly, f) },
	}
	encoders := []configs.EncoderElement{configs.EncoderX264, configs.EncoderV4L2, configs.EncoderOMX}
	out := map[string][]string{}
	for kind, cam := range sources {
		for _, enc := range encoders {
			for machine, exists := range machines {
				if machine == "pc" && enc != configs.EncoderX264 {
					continue
				}
				cfg := configs.Default()
				cfg.Cameras[0] = cam
				cfg.Encoder.Element = enc
				plan, err := Build(cfg, exists)
				if err != nil {
					t.Fatalf("%s with %s: %v", kind, enc, err)
				}
				out[kind+" + "+string(enc)+" on "+machine] = plan.Factories()
			}
		}
	}
	return out
}

// depsPackages is what scripts/deps.sh installs.
func depsPackages(t *testing.T) []string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "scripts", "deps.sh")
	out, err := exec.Command("bash", script, "--list").Output()
	if err != nil {
		t.Fatalf("%s --list: %v", script, err)
	}
	return strings.Fields(string(out))
}

// installedPackage asks GStreamer which plugin file has the element and
// dpkg which package installed that file.
func installedPackage(t *testing.T, factory string) string {
	t.Helper()
	out, err := exec.Command("gst-inspect-1.0", factory).Output()
	if err != nil {
		t.Fatalf("gst-inspect-1.0 %s: %v (is gstreamer1.0-tools installed? run make deps)", factory, err)
	}
	var file string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "Filename" {
			file = f[1]
			break
		}
	}
	if file == "" {
		t.Fatalf("gst-inspect-1.0 %s names no plugin file", factory)
	}
	// Debian is usr-merged: dpkg may know the file under /usr/lib or /lib.
	candidates := []string{file, "/usr" + file}
	if real, err := filepath.EvalSymlinks(file); err == nil {
		candidates = append(candidates, real)
	}
	for _, c := range candidates {
		if out, err := exec.Command("dpkg", "-S", c).Output(); err == nil {
			pkg, _, _ := strings.Cut(strings.TrimSpace(string(out)), ":")
			return pkg
		}
	}
	t.Fatalf("dpkg -S finds no package for %s (%s)", file, factory)
	return ""
}

// Every element of every graph kind maps to a package, that mapping is
// what dpkg says, and scripts/deps.sh installs it: a new element without
// its package fails here, not on a user's fresh machine.
func TestEveryElementHasItsPackageInstalledByDeps(t *testing.T) {
	deps := depsPackages(t)
	checked := map[string]bool{}
	for kind, factories := range everyGraphKind(t) {
		for _, f := range factories {
			want := PackageOf(f)
			if want == "" {
				t.Errorf("%s: element %s has no package in elementPackages", kind, f)
				continue
			}
			if checked[f] || slices.Contains(hardwareOnly, f) {
				continue // the Pi's encoders cannot be installed here
			}
			checked[f] = true
			if got := installedPackage(t, f); got != want {
				t.Errorf("element %s comes from %s, elementPackages says %s", f, got, want)
			}
			if !slices.Contains(deps, want) {
				t.Errorf("element %s needs %s, which scripts/deps.sh does not install", f, want)
			}
		}
	}
	for _, p := range RuntimePackages() {
		if !slices.Contains(deps, p) {
			t.Errorf("runtime package %s is not installed by scripts/deps.sh", p)
		}
	}
}

func TestCheckElementsNamesTheMissingPackage(t *testing.T) {
	cfg := configs.Default()
	cfg.Encoder.Element = configs.EncoderX264
	plan, err := Build(cfg, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckElements(plan, func(string) bool { return true }); err != nil {
		t.Fatalf("all installed: %v", err)
	}
	err = CheckElements(plan, func(f string) bool { return f != "textoverlay" && f != "x264enc" })
	if err == nil {
		t.Fatal("no error for missing textoverlay and x264enc")
	}
	for _, want := range []string{
		"textoverlay: not installed (apt install gstreamer1.0-x)",
		"x264enc: not installed (apt install gstreamer1.0-plugins-ugly)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
