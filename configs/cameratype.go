package configs

import "go.yaml.in/yaml/v3"

// CameraType selects the GStreamer source of a camera.
type CameraType string

const (
	CameraTest CameraType = "test" // videotestsrc: no hardware needed
	CameraV4L2 CameraType = "v4l2" // v4l2src: USB or CSI camera
)

var cameraTypes = []CameraType{CameraTest, CameraV4L2}

func (t CameraType) check() error { return checkEnum(t, "camera type", cameraTypes) }

// UnmarshalYAML accepts "" as "not set": the camera defaults make it test.
func (t *CameraType) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "camera type", cameraTypes, true)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

func (t *CameraType) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *t, "camera type", cameraTypes)
	if err != nil {
		return err
	}
	*t = v
	return nil
}
