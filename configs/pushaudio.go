package configs

import "go.yaml.in/yaml/v3"

// PushAudio is the audio track pushed with the video.
type PushAudio string

const (
	// AudioSilent adds a silent AAC track: YouTube and Facebook want
	// audio in a live stream (the default).
	AudioSilent PushAudio = "silent"
	// AudioNone pushes the video alone (nginx-rtmp, MediaMTX, Twitch).
	AudioNone PushAudio = "none"
)

var pushAudios = []PushAudio{AudioSilent, AudioNone}

func (a PushAudio) check() error { return checkEnum(a, "push audio", pushAudios) }

// UnmarshalYAML accepts "" as "not set": silent.
func (a *PushAudio) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "push audio", pushAudios, true)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

func (a *PushAudio) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *a, "push audio", pushAudios)
	if err != nil {
		return err
	}
	*a = v
	return nil
}
