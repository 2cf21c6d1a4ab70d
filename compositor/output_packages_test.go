package compositor

import (
	"slices"
	"testing"

	"github.com/pipcam/pipcam/configs"
)

// The push and recording pipelines' elements have their packages in
// elementPackages, as dpkg knows them, installed by scripts/deps.sh.
func TestOutputElementsHaveTheirPackages(t *testing.T) {
	tgt := configs.RTMPTarget{Scheme: "rtmp", Host: "h", Port: 1935, Application: "a", Stream: "s"}
	push, err := pushDescription(tgt, configs.AudioSilent, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recordDescription(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	silence, err := silenceDescription()
	if err != nil {
		t.Fatal(err)
	}
	deps := depsPackages(t)
	for _, f := range slices.Concat(push.Factories(), rec.Factories(), silence.Factories()) {
		want := PackageOf(f)
		if want == "" {
			t.Errorf("element %s has no package in elementPackages", f)
			continue
		}
		if got := installedPackage(t, f); got != want {
			t.Errorf("element %s comes from %s, elementPackages says %s", f, got, want)
		}
		if !slices.Contains(deps, want) {
			t.Errorf("element %s needs %s, which scripts/deps.sh does not install", f, want)
		}
	}
	if err := checkFactories(push.Factories(), func(f string) bool { return f != "rtmp2sink" }); err == nil ||
		err.Error() != "GStreamer elements missing: rtmp2sink: not installed (apt install gstreamer1.0-plugins-bad)" {
		t.Errorf("a missing rtmp2sink: %v", err)
	}
}
