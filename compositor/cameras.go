package compositor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-gst/go-gst/gst"
)

// CameraInfo is one V4L2 capture device found on this machine.
type CameraInfo struct {
	Name   string     // what the driver calls it
	Device string     // /dev/videoN
	ByID   string     // the stable /dev/v4l/by-id link, best for the config
	Caps   []string   // the formats it offers, as GStreamer caps
	Modes  []V4L2Mode // the same, as modes
}

// ListCameras asks GStreamer's device monitor for video sources and pairs
// each with its stable /dev/v4l/by-id name.
func ListCameras() []CameraInfo {
	initGStreamer()
	mon := gst.NewDeviceMonitor()
	// go-gst dereferences the caps: "any" rather than nil.
	mon.AddFilter("Video/Source", gst.NewAnyCaps())
	byID := stableNames("/dev/v4l/by-id")
	var out []CameraInfo
	for _, d := range mon.GetDevices() {
		info := CameraInfo{Name: d.GetDisplayName()}
		if props := d.GetProperties(); props != nil {
			if v, err := props.GetValue("device.path"); err == nil {
				info.Device, _ = v.(string)
			}
		}
		if info.Device == "" { // providers differ in what they put in properties
			if el := d.CreateElement(""); el != nil {
				if v, err := el.GetProperty("device"); err == nil {
					info.Device, _ = v.(string)
				}
			}
		}
		info.ByID = byID[info.Device]
		if caps := d.GetCaps(); caps != nil {
			for i := 0; i < caps.GetSize(); i++ {
				info.Caps = append(info.Caps, caps.GetStructureAt(i).String())
			}
		}
		info.Modes = ParseV4L2Caps(info.Caps)
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Device < out[j].Device })
	return out
}

// stableNames maps /dev/videoN to the by-id link that points at it.
func stableNames(dir string) map[string]string {
	m := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return m
	}
	for _, e := range entries {
		link := filepath.Join(dir, e.Name())
		target, err := filepath.EvalSymlinks(link)
		if err != nil || !strings.HasPrefix(target, "/dev/video") {
			continue
		}
		// index0 is the capture node; index1 is metadata on UVC cameras.
		if _, seen := m[target]; !seen || strings.HasSuffix(link, "index0") {
			m[target] = link
		}
	}
	return m
}

// ConfigSnippet is the camera as a cameras entry of pipcam.yaml, ready to
// paste: its stable by-id path, format auto, and the best MJPEG and raw
// modes it offers (the larger one as the capture size). A raw sensor node
// (the Pi camera behind unicam) is pointed to type libcamera instead.
func (c CameraInfo) ConfigSnippet() string {
	var b strings.Builder
	dev := c.ByID
	if dev == "" {
		dev = c.Device
	}
	fmt.Fprintf(&b, "  # %s (%s)\n", c.Name, c.Device)
	if _, err := ChooseV4L2Mode(c.Modes, "auto", 640, 480, 15); errors.Is(err, ErrRawSensor) {
		fmt.Fprintf(&b, "  # a camera sensor that only libcamera can drive:\n  - name: %s\n    type: libcamera\n", configName(c))
		return b.String()
	}
	mj, raw := BestV4L2Modes(c.Modes)
	best := mj
	for _, m := range []*V4L2Mode{mj, raw} {
		if m != nil {
			fmt.Fprintf(&b, "  #   best %-6s %dx%d at %s fps\n", m.Kind()+":", m.Width, m.Height, rateText(m.MaxRate()))
		}
	}
	if best == nil || raw != nil && area(*raw) > area(*best) {
		best = raw
	}
	fmt.Fprintf(&b, "  - name: %s\n    type: v4l2\n    device: %s\n    format: auto\n", configName(c), dev)
	if best != nil {
		fmt.Fprintf(&b, "    width: %d\n    height: %d\n    framerate: %d\n", best.Width, best.Height, int(best.MaxRate()))
	}
	return b.String()
}

// configName makes a camera name for the config from what the driver
// calls the camera: a-z, 0-9 and -, at most 32.
func configName(c CameraInfo) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(c.Name) {
		if b.Len() >= 32 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.TrimRight(b.String(), "-")
	if name == "" {
		return "camera"
	}
	return name
}
