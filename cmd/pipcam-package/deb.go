package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"

	"github.com/pipcam/pipcam/compositor"
)

// build says what goes into one .deb.
type build struct {
	Top     string    // the repository: configs/pipcam.yaml, image/debian/
	Binary  string    // pipcam built for Arch
	Arch    string    // Debian architecture: amd64, arm64, armhf
	Version string    // what git describe printed (pipcam version prints it too)
	Root    string    // the root Binary was linked against (its dpkg database)
	Wheel   string    // the OctoPrint plugin, built by pip wheel
	MTime   time.Time // file times in the package: the commit's, so builds repeat
}

// recommendedElements are elements a Raspberry Pi may use that no graph
// needs: their packages are recommended, not required.
var recommendedElements = []string{
	"libcamerasrc", // Pi camera modules through libcamera (Raspberry Pi OS)
}

// depends is the package's Depends: the libraries the binary links and
// every GStreamer package a graph needs (compositor's one list, the same the
// start-up check names).
func (b build) depends() ([]string, error) {
	libs, err := sharedLibDepends(b.Binary, b.Arch, b.Root)
	if err != nil {
		return nil, err
	}
	deps := libs
	for _, p := range compositor.RuntimePackages() {
		if !slices.ContainsFunc(deps, func(d string) bool { return depName(d) == p }) {
			deps = append(deps, p)
		}
	}
	return deps, nil
}

// recommends lists the packages of recommendedElements that compositor
// knows and that are not dependencies already.
func recommends(deps []string) []string {
	var out []string
	for _, e := range recommendedElements {
		p := compositor.PackageOf(e)
		if p != "" && !slices.Contains(out, p) &&
			!slices.ContainsFunc(deps, func(d string) bool { return depName(d) == p }) {
			out = append(out, p)
		}
	}
	return out
}

// depName is the package name of a Depends entry ("libc6 (>= 2.36)" →
// "libc6"), with any architecture qualifier ("libc6:arm64").
func depName(dep string) string {
	for i, r := range dep {
		if r == ' ' || r == '(' {
			return dep[:i]
		}
	}
	return dep
}

// info is the nfpm description of the package.
func (b build) info() (*nfpm.Info, error) {
	version, err := debVersion(b.Version)
	if err != nil {
		return nil, err
	}
	deps, err := b.depends()
	if err != nil {
		return nil, err
	}
	debian := filepath.Join(b.Top, "image", "debian")
	script := func(name string) string { return filepath.Join(debian, name) }
	file := func(src, dst string, mode os.FileMode) *files.Content {
		return &files.Content{Source: src, Destination: dst, FileInfo: &files.ContentFileInfo{Mode: mode, MTime: b.MTime}}
	}
	conffile := file(filepath.Join(b.Top, "configs", "pipcam.yaml"), "/etc/pipcam/pipcam.yaml", 0o640)
	conffile.Type = files.TypeConfigNoReplace
	// Readable by the service, not by everyone: it may hold a token or an
	// OctoPrint API key. preinst makes the group before dpkg unpacks this.
	conffile.FileInfo.Group = "pipcam"

	return &nfpm.Info{
		Name:          "pipcam",
		Arch:          b.Arch,
		Platform:      "linux",
		Version:       version,
		VersionSchema: "none", // debVersion made it a Debian version already
		Section:       "video",
		Priority:      "optional",
		Maintainer:    "pipcam <pipcam@localhost>",
		Homepage:      "https://github.com/pipcam/pipcam",
		Description: "Two cameras picture-in-picture, one H.264 encode, WebRTC and FLV\n" +
			"pipcam mixes two cameras picture-in-picture in one GStreamer graph with\n" +
			"a printer status overlay, encodes H.264 once (the Pi's hardware encoder\n" +
			"where there is one) and serves it to any number of viewers over WebRTC\n" +
			"(WHEP, camera-streamer's protocol: Mainsail, Fluidd, OctoPrint) and as\n" +
			"FLV over TCP. Ships its systemd service and an OctoPrint plugin.",
		MTime: b.MTime,
		Overridables: nfpm.Overridables{
			Depends:    deps,
			Recommends: recommends(deps),
			Contents: files.Contents{
				file(b.Binary, "/usr/bin/pipcam", 0o755),
				conffile,
				file(filepath.Join(debian, "pipcam.service"), "/lib/systemd/system/pipcam.service", 0o644),
				file(filepath.Join(debian, "README.Debian"), "/usr/share/doc/pipcam/README.Debian", 0o644),
				file(b.Wheel, filepath.Join("/usr/share/pipcam", filepath.Base(b.Wheel)), 0o644),
				// The OctoPi set-up the CustomPiOS module runs; on an
				// existing OctoPi: sudo /usr/share/pipcam/octopi-setup
				file(filepath.Join(b.Top, "image", "octopi", "octopi-setup"), "/usr/share/pipcam/octopi-setup", 0o755),
			},
			Scripts: nfpm.Scripts{
				PreInstall:  script("preinst"),
				PostInstall: script("postinst"),
				PreRemove:   script("prerm"),
				PostRemove:  script("postrm"),
			},
			Deb: nfpm.Deb{Compression: "xz"},
		},
	}, nil
}

// write builds the .deb into dir and returns its path,
// pipcam_<version>_<arch>.deb as Debian names it.
func (b build) write(dir string) (string, error) {
	info, err := b.info()
	if err != nil {
		return "", err
	}
	info = nfpm.WithDefaults(info)
	if err := info.Validate(); err != nil {
		return "", fmt.Errorf("package description: %w", err)
	}
	out := filepath.Join(dir, fmt.Sprintf("pipcam_%s_%s.deb", info.Version, b.Arch))
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", tmp, err)
	}
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("build %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write %s: %w", out, err)
	}
	return out, os.Rename(tmp, out)
}
