//go:build race

package signaling

// raceEnabled: the race detector slows pion several times over, so
// latency figures are logged but not held to their bounds.
const raceEnabled = true
