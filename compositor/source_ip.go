package compositor

import (
	"github.com/pipcam/pipcam/configs"
)

// IP camera chains. The username goes in the description; the password
// never does (the description is printed and logged): it is set on the
// source element after parsing, see setCredentials.

// mjpegChain reads an HTTP multipart MJPEG stream (ESP32-CAM,
// mjpg-streamer, camera-streamer, another pipcam's /?action=stream).
func mjpegChain(cp CameraPlan, jpegDecoder string) []Item {
	props := []Prop{
		{"location", Str(cp.Camera.URL)},
		// Live: it plays at once, without waiting to preroll a picture.
		{"is-live", Bool(true)},
		{"do-timestamp", Bool(true)},
		// pipcam retries a lost camera itself, with backoff and a card.
		{"retries", Int(0)},
	}
	props = append(props, userProp(cp.Camera)...)
	return []Item{
		Element{Factory: "souphttpsrc", Name: cp.SourceName, Props: props},
		Element{Factory: "multipartdemux", Props: []Prop{{"single-stream", Bool(true)}}},
		Caps{Media: "image/jpeg"},
		decoder(jpegDecoder),
	}
}

// snapshotChain decodes the JPEGs a Go poller fetches from the camera's
// URL and pushes into the appsrc (see snapshotPoller).
func snapshotChain(cp CameraPlan, jpegDecoder string) []Item {
	return []Item{
		Element{Factory: "appsrc", Name: cp.SourceName, Props: []Prop{
			{"is-live", Bool(true)},
			{"do-timestamp", Bool(true)},
			{"format", Enum("time")},
			{"caps", Str("image/jpeg")},
			// One picture at most waits; a newer one replaces it.
			{"max-buffers", Int(1)},
			{"leaky-type", Enum("downstream")},
		}},
		decoder(jpegDecoder),
	}
}

// rtspChain receives an RTSP camera's H.264, over TCP or UDP.
func rtspChain(cp CameraPlan, h264Decoder string) []Item {
	transport := cp.Camera.Transport
	if transport == "" {
		transport = configs.TransportTCP
	}
	props := []Prop{
		{"location", Str(cp.Camera.URL)},
		{"protocols", Enum(string(transport))},
		// Milliseconds the jitter buffer holds packets: enough to reorder
		// on a LAN, not the 2 s default.
		{"latency", Int(100)},
	}
	props = append(props, userProp(cp.Camera)...)
	return []Item{
		Element{Factory: "rtspsrc", Name: cp.SourceName, Props: props},
		Element{Factory: "rtph264depay"},
		Element{Factory: "h264parse"},
		decoder(h264Decoder),
	}
}

func userProp(cam configs.Camera) []Prop {
	if cam.Username == "" {
		return nil
	}
	return []Prop{{"user-id", Str(cam.Username)}}
}
