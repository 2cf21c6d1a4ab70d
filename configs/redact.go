package configs

// Redact returns a deep copy with every set Secret replaced by "REDACTED".
// Use it wherever a config is shown or logged (check-config, /api/status,
// debug logs); c itself is left intact.
func (c Config) Redact() *Config {
	r := c.Clone()
	r.HTTP.Token = r.HTTP.Token.redact()
	r.Printer.APIKey = r.Printer.APIKey.redact()
	for i := range r.Cameras {
		r.Cameras[i].Password = r.Cameras[i].Password.redact()
	}
	for i := range r.WebRTC.ICEServers {
		r.WebRTC.ICEServers[i].Credential = r.WebRTC.ICEServers[i].Credential.redact()
	}
	for i := range r.Push.Destinations {
		r.Push.Destinations[i].Key = r.Push.Destinations[i].Key.redact()
	}
	return r
}
