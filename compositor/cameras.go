package compositor

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/go-gst/go-gst/gst"
)

// CameraInfo is one V4L2 capture device found on this machine.
type CameraInfo struct {
	Name   string   // what the driver calls it
	Device string   // /dev/videoN
	ByID   string   // the stable /dev/v4l/by-id link, best for the config
	Caps   []string // the formats it offers, as GStreamer caps
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
