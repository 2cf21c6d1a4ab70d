package configs

import "go.yaml.in/yaml/v3"

// CaptureFormat is what a V4L2 camera is asked to deliver.
type CaptureFormat string

const (
	// FormatAuto picks from the modes the camera offers: raw where raw
	// keeps the frame rate at a small size, MJPEG at larger sizes (where
	// USB 2.0 cannot carry raw pictures fast enough).
	FormatAuto  CaptureFormat = "auto"
	FormatRaw   CaptureFormat = "raw"   // uncompressed; USB 2.0 limits it to small sizes
	FormatMJPEG CaptureFormat = "mjpeg" // what most USB webcams do at 720p and up
)

var captureFormats = []CaptureFormat{FormatAuto, FormatRaw, FormatMJPEG}

func (f CaptureFormat) check() error { return checkEnum(f, "capture format", captureFormats) }

// UnmarshalYAML accepts "" as "not set": the camera defaults make it auto.
func (f *CaptureFormat) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "capture format", captureFormats, true)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

func (f *CaptureFormat) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *f, "capture format", captureFormats)
	if err != nil {
		return err
	}
	*f = v
	return nil
}
