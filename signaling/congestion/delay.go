package congestion

import "math"

// usage is what the delay detector says of the link.
type usage int

const (
	normal   usage = iota
	overuse        // queues are building: send less
	underuse       // queues are draining: hold, do not add to them
)

// Delay detector constants (draft-ietf-rmcat-gcc-02 and the trendline
// filter browsers use).
const (
	burstSpan       = 5_000 // µs: packets sent within this are one group
	trendWindow     = 20    // groups in the slope's regression
	trendSmoothing  = 0.9
	trendGain       = 4.0
	trendMaxDeltas  = 60
	thresholdStart  = 12.5 // ms
	thresholdMin    = 6.0
	thresholdMax    = 600.0
	thresholdUp     = 0.0087
	thresholdDown   = 0.039
	overuseTime     = 10.0 // ms the trend must stay over the threshold
	maxThresholdDt  = 100.0
	thresholdIgnore = 15.0 // a jump this far over the threshold is not learned from
)

// group is packets sent in one burst (one picture's packets, mostly).
type group struct {
	firstSent, lastSent uint32 // µs, sender's clock
	lastArrival         int64  // µs, viewer's clock
	valid               bool
}

// delayDetector turns acknowledged packets into a usage signal: how the
// time between groups grows on the way (queuing), smoothed and fitted
// with a line over the last groups, against a threshold that adapts to
// the link's own jitter.
type delayDetector struct {
	cur, prev group

	// trendline
	firstArrival int64
	accumulated  float64
	smoothed     float64
	points       [trendWindow]struct{ x, y float64 }
	npoints      int // filled, up to trendWindow
	next         int // ring position
	deltas       int
	prevTrend    float64

	// overuse detector
	threshold   float64
	lastUpdate  int64 // µs of the last threshold update; 0: none
	overTime    float64
	overCount   int
	usage       usage
	initialized bool
}

func newDelayDetector() delayDetector {
	return delayDetector{threshold: thresholdStart}
}

// packet adds one acknowledged packet (in sequence order). It reports
// whether a group was completed, which is when usage may change.
func (d *delayDetector) packet(sentAt uint32, arrival int64) bool {
	if !d.cur.valid {
		d.cur = group{firstSent: sentAt, lastSent: sentAt, lastArrival: arrival, valid: true}
		return false
	}
	if int32(sentAt-d.cur.firstSent) < 0 {
		return false // sent before the group began: reordered, skip
	}
	if int32(sentAt-d.cur.firstSent) <= burstSpan {
		d.cur.lastSent = sentAt
		d.cur.lastArrival = max(d.cur.lastArrival, arrival)
		return false
	}
	done := false
	if d.prev.valid {
		sendDelta := float64(int32(d.cur.lastSent-d.prev.lastSent)) / 1000
		arrivalDelta := float64(d.cur.lastArrival-d.prev.lastArrival) / 1000
		d.update(arrivalDelta-sendDelta, sendDelta, d.cur.lastArrival)
		done = true
	}
	d.prev = d.cur
	d.cur = group{firstSent: sentAt, lastSent: sentAt, lastArrival: arrival, valid: true}
	return done
}

// update adds one group's delay variation (ms) and re-judges the link.
func (d *delayDetector) update(variation, sendDelta float64, arrival int64) {
	if !d.initialized {
		d.firstArrival, d.initialized = arrival, true
	}
	d.deltas = min(d.deltas+1, trendMaxDeltas)
	d.accumulated += variation
	d.smoothed = trendSmoothing*d.smoothed + (1-trendSmoothing)*d.accumulated
	d.points[d.next] = struct{ x, y float64 }{float64(arrival-d.firstArrival) / 1000, d.smoothed}
	d.next = (d.next + 1) % trendWindow
	d.npoints = min(d.npoints+1, trendWindow)
	trend := d.prevTrend
	if d.npoints == trendWindow {
		if s, ok := slope(d.points[:]); ok {
			trend = s
		}
	}
	d.detect(trend, sendDelta, arrival)
	d.prevTrend = trend
}

// slope fits a line through the points by least squares.
func slope(pts []struct{ x, y float64 }) (float64, bool) {
	var sx, sy float64
	for _, p := range pts {
		sx += p.x
		sy += p.y
	}
	mx, my := sx/float64(len(pts)), sy/float64(len(pts))
	var num, den float64
	for _, p := range pts {
		num += (p.x - mx) * (p.y - my)
		den += (p.x - mx) * (p.x - mx)
	}
	if den == 0 {
		return 0, false
	}
	return num / den, true
}

// detect compares the trend, scaled by how many groups back it reaches,
// with the threshold, and moves the threshold towards it.
func (d *delayDetector) detect(trend, sendDelta float64, arrival int64) {
	m := float64(d.deltas) * trend * trendGain
	switch {
	case m > d.threshold:
		if d.overTime < 0 {
			d.overTime = sendDelta / 2 // first time over: half a group
		} else {
			d.overTime += sendDelta
		}
		d.overCount++
		if d.overTime > overuseTime && d.overCount > 1 && trend >= d.prevTrend {
			d.overTime, d.overCount = 0, 0
			d.usage = overuse
		}
	case m < -d.threshold:
		d.overTime, d.overCount = -1, 0
		d.usage = underuse
	default:
		d.overTime, d.overCount = -1, 0
		d.usage = normal
	}
	d.adapt(m, arrival)
}

func (d *delayDetector) adapt(m float64, arrival int64) {
	if d.lastUpdate == 0 {
		d.lastUpdate = arrival
	}
	if math.Abs(m) > d.threshold+thresholdIgnore {
		d.lastUpdate = arrival
		return
	}
	k := thresholdDown
	if math.Abs(m) > d.threshold {
		k = thresholdUp
	}
	dt := min(float64(arrival-d.lastUpdate)/1000, maxThresholdDt)
	d.threshold += k * (math.Abs(m) - d.threshold) * dt
	d.threshold = min(max(d.threshold, thresholdMin), thresholdMax)
	d.lastUpdate = arrival
}
