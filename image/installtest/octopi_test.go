//go:build imagetest

package installtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// oldStreamers are the units OctoPi images start their camera with:
// mjpg-streamer's webcamd and the HLS streamer (OctoPi 0.18 and 1.0),
// camera-streamer and its per-camera instances (OctoPi-UpToDate).
var oldStreamers = []string{"webcamd.service", "ffmpeg_hls.service", "streamer_select.service",
	"camera-streamer.service", "camera-streamer-usb@default.service"}

// The CustomPiOS module in a clean bookworm root dressed as OctoPi:
// OctoPi's haproxy.cfg layout, OctoPrint's config.yaml and venv in
// /opt/octopi/oprint, the old streamers enabled. After the module's
// start_chroot_script: pipcam installed and enabled, its plugin in
// OctoPrint's venv, /webcam/ routed to pipcam (haproxy -c accepts it),
// OctoPrint's webcam set to pipcam, the old streamers disabled; running
// the set-up again changes nothing; purging pipcam takes the plugin out.
func TestOctoPiModule(t *testing.T) {
	deb := packageFor(t, "amd64")
	r := newRoot(t, "amd64")
	r.apt("install", "--no-install-recommends", "haproxy", "python3-venv", "python3-yaml")
	octoPi(t, r)

	r.copyIn(deb, "/filesystem/debs/"+filepath.Base(deb))
	module := filepath.Join(top(), "image", "octopi")
	r.copyIn(filepath.Join(module, "config"), "/module/config")
	r.copyIn(filepath.Join(module, "start_chroot_script"), "/module/start_chroot_script")
	// CustomPiOS sources the module's config and runs the script in the chroot.
	out := r.run("env", "BASE_USER=pi", "bash", "-c", `source /module/config && export ${!PIPCAM_@} && bash /module/start_chroot_script`)
	t.Logf("start_chroot_script:\n%s", grep(out, "octopi-setup:"))

	// pipcam, enabled; its plugin in OctoPrint's venv, owned by OctoPrint's user.
	if out, _ := r.try("systemctl", "is-enabled", "pipcam.service"); strings.TrimSpace(out) != "enabled" {
		t.Errorf("pipcam.service: %q, want enabled", out)
	}
	if out, err := r.try("runuser", "-u", "pi", "--", "/opt/octopi/oprint/bin/pip", "show", "-f", "OctoPrint-pipcam"); err != nil {
		t.Errorf("the plugin is not in OctoPrint's venv: %v\n%s", err, out)
	} else if owner := strings.TrimSpace(r.run("sh", "-c", "stat -c %U /opt/octopi/oprint/lib/python3*/site-packages/octoprint_pipcam")); owner != "pi" {
		t.Errorf("the plugin's files belong to %s, want pi (OctoPrint's user)", owner)
	}

	checkHaproxy(t, r, "8080")
	checkOctoPrintConfig(t, r, "8080")
	for _, u := range oldStreamers {
		if out, _ := r.try("systemctl", "is-enabled", u); strings.TrimSpace(out) == "enabled" {
			t.Errorf("%s still enabled", u)
		}
	}

	// Again: nothing changes.
	haproxyCfg, octoCfg := r.read("/etc/haproxy/haproxy.cfg"), r.read("/home/pi/.octoprint/config.yaml")
	r.run("/usr/share/pipcam/octopi-setup")
	if r.read("/etc/haproxy/haproxy.cfg") != haproxyCfg || r.read("/home/pi/.octoprint/config.yaml") != octoCfg {
		t.Errorf("a second octopi-setup changed the files")
	}
	// Another port: the route follows it.
	r.run("env", "PIPCAM_HTTP_PORT=8090", "/usr/share/pipcam/octopi-setup")
	checkHaproxy(t, r, "8090")
	checkOctoPrintConfig(t, r, "8090")

	r.apt("purge", "pipcam")
	if _, err := r.try("/opt/octopi/oprint/bin/pip", "show", "OctoPrint-pipcam"); err == nil {
		t.Errorf("purge left the plugin in OctoPrint's venv")
	}
}

// octoPi dresses the root as an OctoPi image before the pipcam module.
func octoPi(t *testing.T, r *root) {
	t.Helper()
	testdata := filepath.Join("testdata", "octopi")
	r.run("useradd", "--create-home", "--shell", "/bin/bash", "pi")
	r.copyIn(filepath.Join(testdata, "haproxy.cfg"), "/etc/haproxy/haproxy.cfg")
	for _, e := range []string{"503-no-octoprint.http", "503-no-webcam.http", "503-no-webcam-hls.http"} {
		r.copyIn(filepath.Join(testdata, e), "/etc/haproxy/errors/"+e)
	}
	r.write("/etc/ssl/snakeoil.pem", snakeoil(t), 0o600) // OctoPi's gencert makes it at first boot
	r.copyIn(filepath.Join(testdata, "config.yaml"), "/home/pi/.octoprint/config.yaml")
	r.run("chown", "-R", "pi:pi", "/home/pi/.octoprint")
	r.run("install", "-d", "-o", "pi", "-g", "pi", "/opt/octopi")
	// OctoPrint's venv; PyYAML from Debian stands in for the one OctoPrint brings.
	r.run("runuser", "-u", "pi", "--", "python3", "-m", "venv", "--system-site-packages", "/opt/octopi/oprint")
	for _, u := range []string{"webcamd.service", "ffmpeg_hls.service", "streamer_select.service", "camera-streamer.service", "camera-streamer-usb@.service"} {
		r.write("/etc/systemd/system/"+u, "[Unit]\nDescription=old streamer "+u+"\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n", 0o644)
	}
	r.run(append([]string{"systemctl", "enable"}, oldStreamers...)...)
	for _, u := range oldStreamers {
		if out, _ := r.try("systemctl", "is-enabled", u); strings.TrimSpace(out) != "enabled" {
			t.Fatalf("%s: %q: the old streamer could not be enabled for the test", u, out)
		}
	}
}

// checkHaproxy: haproxy accepts the config, /webcam/ goes to pipcam on port
// with the prefix stripped, once, and the rest of OctoPi's config is as it was.
func checkHaproxy(t *testing.T, r *root, port string) {
	t.Helper()
	if out, err := r.try("haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg"); err != nil {
		t.Errorf("haproxy -c: %v\n%s", err, out)
	}
	cfg := r.read("/etc/haproxy/haproxy.cfg")
	sections := haproxySections(cfg)
	if got := sections["frontend public"]; strings.Count(got, "use_backend webcam if { path_beg /webcam/ }") != 1 {
		t.Errorf("frontend public should route /webcam/ once:\n%s", got)
	}
	webcam := sections["backend webcam"]
	for _, want := range []string{"http-request replace-path /webcam/(.*) /\\1", "server webcam1 127.0.0.1:" + port + "\n", "errorfile 503 /etc/haproxy/errors/503-no-webcam.http"} {
		if strings.Count(webcam, want) != 1 {
			t.Errorf("backend webcam should have %q once:\n%s", want, webcam)
		}
	}
	if n := regexp.MustCompile(`(?m)^\s*server\s`).FindAllStringIndex(webcam, -1); len(n) != 1 {
		t.Errorf("backend webcam has %d servers, want 1:\n%s", len(n), webcam)
	}
	orig := haproxySections(readTestdata(t, "haproxy.cfg"))
	for name, body := range orig {
		if name != "backend webcam" && sections[name] != body {
			t.Errorf("%s changed:\n%s\nwas:\n%s", name, sections[name], body)
		}
	}
}

// haproxySections splits a haproxy config into its sections, keyed by their
// header line, comments and blank lines dropped.
func haproxySections(cfg string) map[string]string {
	out := map[string]string{}
	var name string
	for _, line := range strings.Split(cfg, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			name = strings.Join(strings.Fields(trimmed), " ")
			continue
		}
		out[name] += strings.Join(strings.Fields(trimmed), " ") + "\n"
	}
	return out
}

// checkOctoPrintConfig: pipcam is the default and snapshot webcam, the
// classic webcam uses pipcam's MJPEG and snapshots, OctoPi's other settings
// stay, and the file still belongs to OctoPrint's user.
func checkOctoPrintConfig(t *testing.T, r *root, port string) {
	t.Helper()
	var cfg struct {
		Webcam struct {
			Enabled  bool   `yaml:"webcamEnabled"`
			Default  string `yaml:"defaultWebcam"`
			Snapshot string `yaml:"snapshotWebcam"`
			Stream   string `yaml:"stream"`
			Snap     string `yaml:"snapshot"`
			FFmpeg   string `yaml:"ffmpeg"`
		} `yaml:"webcam"`
		Plugins struct {
			Classic   struct{ Stream, Snapshot string } `yaml:"classicwebcam"`
			Discovery struct {
				PublicPort int `yaml:"publicPort"`
			} `yaml:"discovery"`
		} `yaml:"plugins"`
		Server struct {
			Commands map[string]string `yaml:"commands"`
		} `yaml:"server"`
	}
	if err := yaml.Unmarshal([]byte(r.read("/home/pi/.octoprint/config.yaml")), &cfg); err != nil {
		t.Fatalf("OctoPrint's config.yaml: %v", err)
	}
	snapshot := "http://127.0.0.1:" + port + "/?action=snapshot"
	w, c := cfg.Webcam, cfg.Plugins.Classic
	if !w.Enabled || w.Default != "pipcam" || w.Snapshot != "pipcam" {
		t.Errorf("webcam: enabled %v, default %q, snapshot webcam %q; want pipcam for both", w.Enabled, w.Default, w.Snapshot)
	}
	if w.Stream != "/webcam/?action=stream" || w.Snap != snapshot || c.Stream != w.Stream || c.Snapshot != snapshot {
		t.Errorf("classic webcam: %+v / %+v, want /webcam/?action=stream and %s", w, c, snapshot)
	}
	if w.FFmpeg != "/usr/bin/ffmpeg" || cfg.Plugins.Discovery.PublicPort != 80 || cfg.Server.Commands["serverRestartCommand"] == "" {
		t.Errorf("OctoPi's other settings were lost: %+v", cfg)
	}
	if owner := strings.TrimSpace(r.run("stat", "-c", "%U", "/home/pi/.octoprint/config.yaml")); owner != "pi" {
		t.Errorf("config.yaml belongs to %s now, want pi", owner)
	}
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	r := &root{t: t, dir: filepath.Join("testdata", "octopi")}
	return r.read(name)
}

// snakeoil is a self-signed certificate and key in one PEM, like the one
// OctoPi's gencert makes for haproxy's https listener.
func snakeoil(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "octopi.local"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

func grep(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
