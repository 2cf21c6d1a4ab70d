package configs

import "go.yaml.in/yaml/v3"

// EncoderElement is the GStreamer H.264 encoder to use.
type EncoderElement string

const (
	EncoderAuto EncoderElement = "auto"        // the first of v4l2h264enc, omxh264enc, x264enc that exists
	EncoderX264 EncoderElement = "x264enc"     // software; fine for 640x480 on a Pi 4
	EncoderV4L2 EncoderElement = "v4l2h264enc" // Pi hardware encoder (Bullseye and later)
	EncoderOMX  EncoderElement = "omxh264enc"  // Pi hardware encoder on old (Buster) images
)

var encoderElements = []EncoderElement{EncoderAuto, EncoderX264, EncoderV4L2, EncoderOMX}

func (e EncoderElement) check() error { return checkEnum(e, "encoder element", encoderElements) }

func (e *EncoderElement) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "encoder element", encoderElements, false)
	if err != nil {
		return err
	}
	*e = v
	return nil
}

func (e *EncoderElement) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *e, "encoder element", encoderElements)
	if err != nil {
		return err
	}
	*e = v
	return nil
}
