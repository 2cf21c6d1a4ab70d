package configs

import "slices"

// Clone returns a deep copy: changing it never changes c.
func (c Config) Clone() *Config {
	c.Cameras = slices.Clone(c.Cameras)
	c.WebRTC.ICEServers = slices.Clone(c.WebRTC.ICEServers)
	for i := range c.WebRTC.ICEServers {
		c.WebRTC.ICEServers[i].URLs = slices.Clone(c.WebRTC.ICEServers[i].URLs)
	}
	c.WebRTC.AdditionalHosts = slices.Clone(c.WebRTC.AdditionalHosts)
	c.Push.Destinations = slices.Clone(c.Push.Destinations)
	return &c
}
