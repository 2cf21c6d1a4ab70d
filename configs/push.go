package configs

import "fmt"

// Push is where pipcam publishes its one encode: RTMP or RTMPS servers
// (YouTube Live, Twitch, a self-hosted nginx-rtmp or MediaMTX) that serve
// it on to any number of viewers. Nothing is encoded again for them.
type Push struct {
	Destinations []PushDestination `yaml:"destinations"`
}

// PushDestination is one RTMP or RTMPS server.
type PushDestination struct {
	// Name identifies it in the API and status: 1-32 of a-z, 0-9, _ and -.
	Name string `yaml:"name"`
	// URL is the server and its application, without the stream key:
	// rtmp://a.rtmp.youtube.com/live2. Without a key it names the stream
	// too (rtmp://nas.local/live/printer).
	URL string `yaml:"url"`
	// Key is the stream key: the stream name, kept apart from the URL so
	// that it never shows in logs or status.
	Key Secret `yaml:"key"`
	// Start is when pipcam pushes: always, while a print runs, or only
	// when asked through the API.
	Start PushStart `yaml:"start"`
	// Audio is the audio track sent with the video: a silent AAC track
	// (services that want audio) or none.
	Audio PushAudio `yaml:"audio"`
}

// fillDefaults sets what a destination given in the file left out.
func (d *PushDestination) fillDefaults() {
	if d.Start == "" {
		d.Start = PushAlways
	}
	if d.Audio == "" {
		d.Audio = AudioSilent
	}
}

func (p Push) problems(printer PrinterType) []*FieldError {
	return namedList("destinations", p.Destinations, func(d PushDestination) string { return d.Name },
		func(d PushDestination) []*FieldError { return d.problems(printer) })
}

// namedList checks each entry of a list (its problems under list[i]) and
// that no two entries share a name.
func namedList[T any](list string, items []T, name func(T) string, problems func(T) []*FieldError) []*FieldError {
	var errs []*FieldError
	first := map[string]int{}
	for i, it := range items {
		path := fmt.Sprintf("%s[%d]", list, i)
		errs = append(errs, prefixed(path, problems(it))...)
		if n := name(it); n != "" {
			if j, dup := first[n]; dup {
				errs = append(errs, fieldErrorf(path+".name", "%q is already the name of %s[%d]", n, list, j))
			} else {
				first[n] = i
			}
		}
	}
	return errs
}

func (d PushDestination) problems(printer PrinterType) []*FieldError {
	var errs []*FieldError
	if err := checkName(d.Name); err != nil {
		errs = append(errs, &FieldError{Field: "name", Err: err})
	}
	if err := checkRTMPURL(d.URL, d.Key != ""); err != nil {
		errs = append(errs, &FieldError{Field: "url", Err: err})
	}
	if d.Key != "" {
		// The message never quotes the key.
		if err := checkAPIKey(d.Key.Reveal()); err != nil {
			errs = append(errs, &FieldError{Field: "key", Err: err})
		}
	}
	if err := d.Start.check(); err != nil {
		errs = append(errs, &FieldError{Field: "start", Err: err})
	} else if d.Start == PushPrinting && printer == PrinterNone {
		errs = append(errs, fieldErrorf("start", "printing needs a printer to follow (printer.type is none)"))
	}
	if err := d.Audio.check(); err != nil {
		errs = append(errs, &FieldError{Field: "audio", Err: err})
	}
	return errs
}
