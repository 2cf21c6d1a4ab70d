package configs

import "go.yaml.in/yaml/v3"

// CameraType selects the GStreamer source of a camera.
type CameraType string

const (
	CameraTest      CameraType = "test"      // videotestsrc: no hardware needed
	CameraV4L2      CameraType = "v4l2"      // v4l2src: USB camera (or a CSI one with a V4L2 driver)
	CameraLibcamera CameraType = "libcamera" // libcamerasrc: the Raspberry Pi camera module
	CameraMJPEG     CameraType = "mjpeg"     // HTTP multipart MJPEG: ESP32-CAM, mjpg-streamer, camera-streamer
	CameraSnapshot  CameraType = "snapshot"  // a JPEG URL polled a few times a second
	CameraRTSP      CameraType = "rtsp"      // an RTSP camera sending H.264
)

var cameraTypes = []CameraType{CameraTest, CameraV4L2, CameraLibcamera, CameraMJPEG, CameraSnapshot, CameraRTSP}

func (t CameraType) check() error { return checkEnum(t, "camera type", cameraTypes) }

// IsIP reports whether the camera is reached over the network by URL.
func (t CameraType) IsIP() bool {
	return t == CameraMJPEG || t == CameraSnapshot || t == CameraRTSP
}

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
