package congestion

import (
	"math"
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// Rate control constants (draft-ietf-rmcat-gcc-02, section 5.5 and 6).
const (
	decreaseFactor = 0.85 // of the rate that arrived, on overuse
	growthPerSec   = 1.08 // multiplicative increase far from the last decrease
	ackedLimit     = 1.5  // the estimate may run ahead of what arrives by this much
	ackedSlack     = 10_000
	lossHigh       = 0.10 // loss above this lowers the estimate
	lossLow        = 0.02 // average loss above this holds it
	lossHeavy      = 0.30 // above this, what arrives is taken as the link's rate
	lossReport     = 30   // packets reported before loss is judged
	lossAveraging  = 0.3  // weight of each judgment in the average
	rateWindow     = 500_000
	// Retransmissions may take this share of the estimate, saved up for
	// at most retransmitBurst, or for the largest frame of the last two
	// frameWindows if that is more.
	retransmitShare       = 0.25
	retransmitShareQueued = 0.1
	retransmitBurst       = 500 * time.Millisecond
	frameWindow           = 2 * time.Second
	// A round trip this much over the lowest recent one is a standing
	// queue; the lowest is forgotten after minRTTWindow (routes change).
	standingQueue = 150 * time.Millisecond
	minRTTWindow  = 10 * time.Second
	rateBuckets   = 10
	// PacketOverhead is what a packet carries besides its payload on the
	// wire: RTP header with extensions, SRTP tag, UDP and IP.
	PacketOverhead = 12 + 16 + 16 + 8 + 20
)

// Estimator is one viewer's send-side bandwidth estimate. Send is called
// for every RTP packet (from any goroutine), Feedback for every
// transport-wide feedback packet; Target reads the estimate.
type Estimator struct {
	mu    sync.Mutex
	start time.Time
	min   int
	max   int

	seq  uint16
	sent history

	newestRTP                       uint16 // newest RTP sequence number sent
	haveRTP                         bool
	retransmitTokens                float64 // bytes
	retransmitAt                    time.Time
	retransmits, retransmitsDropped uint64
	resent                          [64]resent // when each recent RTP sequence number was last retransmitted
	frames                          largestFrame

	ref      referenceClock
	scrap    Feedback // FeedbackRTCP's
	delay    delayDetector
	acked    ackedRate
	rtt      time.Duration
	minRTT   time.Duration // lowest round trip seen within minRTTWindow
	minRTTAt time.Time
	target   int // bit/s

	lost, report int
	lossFrom     uint32  // µs: packets sent before the last loss decrease do not count
	lossAvg      float64 // judged loss, averaged

	lastChange     time.Time // last increase or decrease of target
	lastDecrease   time.Time
	decreaseAvg    float64 // the acknowledged rates decreases came from
	decreaseVar    float64
	feedbacks      uint64
	lastLossFactor float64
}

// New starts an estimate at initial bit/s, kept within [min, max].
func New(initial, min, max int) *Estimator {
	return &Estimator{
		start: time.Now(), min: min, max: max,
		target: initial,
		delay:  newDelayDetector(),
		rtt:    100 * time.Millisecond,
	}
}

// Send decides whether an RTP packet goes out and, if so, notes it and
// returns the transport-wide sequence number it carries. New packets
// always go. Retransmissions (an RTP sequence number not newer than the
// newest sent) go while they stay within retransmitShare of the estimate:
// a viewer behind a link that drops most of what it gets would otherwise
// ask for every lost packet again and again, and the answers would crowd
// out the pictures in the link's queue.
func (e *Estimator) Send(rtpSeq uint16, size int, now time.Time) (uint16, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.haveRTP && int16(rtpSeq-e.newestRTP) <= 0 {
		if !e.admitRetransmit(rtpSeq, size, now) {
			return 0, false
		}
	} else {
		e.newestRTP, e.haveRTP = rtpSeq, true
	}
	seq := e.seq
	e.seq++
	e.sent.add(seq, micros(e.start, now), size)
	return seq, true
}

// Resend decides whether a retransmission of rtpSeq goes out, as Send
// does, for a packet sent again with the transport-wide number it first
// carried: the very packet again, so that SRTP never encrypts two
// different packets under one index (with AES-GCM that would give away
// the authentication key). Its arrival is then not measured again.
func (e *Estimator) Resend(rtpSeq uint16, size int, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.admitRetransmit(rtpSeq, size, now)
}

func (e *Estimator) admitRetransmit(rtpSeq uint16, size int, now time.Time) bool {
	last := &e.resent[rtpSeq%uint16(len(e.resent))]
	if last.seq == rtpSeq && !last.at.IsZero() && now.Sub(last.at) < e.rtt {
		// Asked again before the first answer could have arrived: the
		// viewer repeats its NACKs until the packet comes.
		e.retransmitsDropped++
		return false
	}
	if !e.retransmitBudget(size, now) {
		e.retransmitsDropped++
		return false
	}
	e.retransmits++
	*last = resent{seq: rtpSeq, at: now}
	return true
}

type resent struct {
	seq uint16
	at  time.Time
}

// largestFrame is the largest frame sent in the current frameWindow and
// the one before: 2 to 4 s back, a keyframe interval at the defaults.
type largestFrame struct {
	cur, prev int
	start     time.Time
}

func (f *largestFrame) add(size int, now time.Time) {
	if since := now.Sub(f.start); since >= frameWindow {
		f.prev = f.cur
		if since >= 2*frameWindow {
			f.prev = 0 // no frame in the whole window before
		}
		f.cur, f.start = 0, now
	}
	f.cur = max(f.cur, size)
}

func (f *largestFrame) largest() int { return max(f.cur, f.prev) }

// FrameSent notes the size of a frame (an access unit's packets, on the
// wire) as it went to the viewer.
func (e *Estimator) FrameSent(size int, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.frames.add(size, now)
}

// retransmitBudget takes size bytes from a bucket filled at
// retransmitShare of the estimate, holding at most retransmitBurst of it
// but never less than the largest recent frame. A frame lost whole (a
// WiFi burst often takes all of one) is then answered in one round:
// answered in several, each round costs the viewer another NACK timeout
// (a receive-only Chrome has no round-trip time and waits about 100 ms),
// and the picture freezes meanwhile. At 400 kbit/s half a second's share
// is 5 packets, and a keyframe is 8 or more.
func (e *Estimator) retransmitBudget(size int, now time.Time) bool {
	share := retransmitShare
	if e.standing() {
		share = retransmitShareQueued // answers would only lengthen the queue
	}
	rate := share * float64(e.target) / 8 // bytes/s
	limit := max(retransmitBurst.Seconds()*rate, 2*1200, float64(e.frames.largest()))
	if e.retransmitAt.IsZero() {
		e.retransmitTokens = limit // the first loss finds the bucket full
	} else {
		e.retransmitTokens += now.Sub(e.retransmitAt).Seconds() * rate
	}
	e.retransmitAt = now
	e.retransmitTokens = min(e.retransmitTokens, limit)
	if e.retransmitTokens < float64(size) {
		return false
	}
	e.retransmitTokens -= float64(size)
	return true
}

// Target is the estimate in bit/s.
func (e *Estimator) Target() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.target
}

// Stats is the estimate's state, as its tests read it.
type Stats struct {
	TargetBps   int
	AckedBps    int
	Loss        float64 // fraction lost in the last judged report
	RTT         time.Duration
	Feedbacks   uint64
	Retransmits uint64 // retransmissions sent
	Refused     uint64 // retransmissions over the budget, not sent
}

// Stats returns the estimate's state.
func (e *Estimator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Stats{
		TargetBps: e.target,
		AckedBps:  e.acked.rate(), Loss: e.lastLossFactor, RTT: e.rtt,
		Feedbacks: e.feedbacks, Retransmits: e.retransmits, Refused: e.retransmitsDropped,
	}
}

// Feedback takes one transport-wide feedback packet received at now.
func (e *Estimator) Feedback(f *Feedback, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.feedback(f, now)
}

// FeedbackRTCP is Feedback for a packet pion parsed.
func (e *Estimator) FeedbackRTCP(fb *rtcp.TransportLayerCC, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.scrap.fromRTCP(fb)
	e.feedback(&e.scrap, now)
}

func (e *Estimator) feedback(f *Feedback, now time.Time) {
	e.feedbacks++
	base := e.ref.unwrap(f.reference)
	nowUs := micros(e.start, now)
	var lastArrival int64
	var lastSent uint32
	haveLast := false
	for _, s := range f.list {
		s.arrival += base
		p, ok := e.sent.take(s.seq)
		if !ok {
			continue // not ours any more, or reported twice
		}
		if int32(p.at-e.lossFrom) >= 0 {
			e.report++
			if !s.received {
				e.lost++
			}
		}
		if !s.received {
			continue
		}
		e.acked.add(s.arrival, int(p.size))
		e.delay.packet(p.at, s.arrival)
		if !haveLast || s.arrival >= lastArrival {
			lastArrival, lastSent, haveLast = s.arrival, p.at, true
		}
	}
	if haveLast {
		// The newest packet's round trip, sent to now: an upper bound, by
		// up to the viewer's feedback interval (50 to 100 ms).
		if rtt := time.Duration(int32(nowUs-lastSent)) * time.Microsecond; rtt > 0 && rtt < 10*time.Second {
			e.rtt = (7*e.rtt + rtt) / 8
			if e.minRTT == 0 || rtt < e.minRTT || now.Sub(e.minRTTAt) > minRTTWindow {
				e.minRTT, e.minRTTAt = rtt, now
			}
		}
	}
	e.judgeLoss(nowUs)
	e.control(now)
}

// judgeLoss applies the loss rule once enough packets were reported:
// heavy loss lowers the estimate, as much as half the loss. A decrease is
// judged again only on packets sent after it: those still in flight were
// sent at the old rate, and a full drop-tail queue keeps losing them for a
// while.
func (e *Estimator) judgeLoss(nowUs uint32) {
	if e.report < lossReport {
		return
	}
	loss := float64(e.lost) / float64(e.report)
	e.lastLossFactor = loss
	e.lossAvg += lossAveraging * (loss - e.lossAvg)
	e.lost, e.report = 0, 0
	if loss <= lossHigh {
		return
	}
	next := int(float64(e.target) * (1 - loss/2))
	acked := e.acked.rate()
	if loss > lossHeavy {
		// A link that drops this much is full: what gets through is its
		// rate. One step there, so that a hopeless viewer's estimate does
		// not pass through every rate on its way down; and no further
		// for a viewer on keyframes only, whose every burst overflows
		// the link's queue. Not knowing yet what gets through, hold.
		if acked == 0 {
			return
		}
		next = acked
		if e.standing() {
			next = min(e.target, acked) // overflowing: never up from here
		}
	} else if acked > 0 && !e.standing() {
		// Never under what arrives while no queue stands: random loss on
		// a link that takes the rate must not wear the estimate down to
		// nothing. Loss with a standing queue is the queue overflowing:
		// then down from the estimate, as GCC does.
		next = max(next, min(acked, e.target))
	}
	e.target = min(max(next, e.min), e.max)
	e.lossFrom = nowUs
}

// standing reports a queue on the path: the round trip well over the
// lowest seen lately.
func (e *Estimator) standing() bool {
	return e.minRTT > 0 && e.rtt-e.minRTT > standingQueue
}

// control moves the delay-based rate by the detector's verdict: down to
// what arrived (less a margin) on overuse, held on underuse, and up
// otherwise: multiplicatively while far from the rate of the last
// decrease, by a packet per round trip near it.
func (e *Estimator) control(now time.Time) {
	state := e.delay.usage
	if e.standing() {
		// A queue that filled too slowly for the gradient to show (a
		// few per cent over the link) stands full, losing a little all
		// the time: as good as overuse.
		state = overuse
	}
	acked := e.acked.rate()
	switch state {
	case overuse:
		if !e.lastDecrease.IsZero() && now.Sub(e.lastDecrease) < e.rtt+100*time.Millisecond {
			return // the last decrease has not taken effect yet
		}
		from := acked
		if from == 0 {
			from = e.target
		}
		e.target = min(e.target, int(decreaseFactor*float64(from)))
		e.noteDecrease(float64(from))
		e.lastDecrease, e.lastChange = now, now
	case underuse:
		e.lastChange = now
	default:
		if e.lossAvg > lossLow {
			e.lastChange = now // losing a little: hold
			break
		}
		e.target = e.increase(now, acked)
		e.lastChange = now
	}
	e.target = min(max(e.target, e.min), e.max)
}

func (e *Estimator) increase(now time.Time, acked int) int {
	dt := 0.0
	if !e.lastChange.IsZero() {
		dt = min(now.Sub(e.lastChange).Seconds(), 1)
	}
	var next float64
	if e.nearLastDecrease(acked) {
		// A packet per response time: 30 pictures a second, at most one
		// 1200-byte packet each.
		perFrame := float64(e.target) / 30
		packet := perFrame / math.Ceil(perFrame/(1200*8))
		response := (100*time.Millisecond + e.rtt).Seconds()
		next = float64(e.target) + max(1000, 0.5*min(dt/response, 1)*packet)
	} else {
		next = float64(e.target) * math.Pow(growthPerSec, dt)
	}
	// Do not run far ahead of what the viewer is shown to receive; but an
	// estimate already over that limit (the encoder sends less than the
	// link takes) stays.
	if acked > 0 {
		limit := ackedLimit*float64(acked) + ackedSlack
		if next > limit {
			next = max(limit, float64(e.target))
		}
	}
	return int(next)
}

// noteDecrease keeps a running mean and variance of the rates decreases
// came from: near it, the link's capacity is probably close.
func (e *Estimator) noteDecrease(rate float64) {
	const alpha = 0.95
	if e.decreaseAvg == 0 {
		e.decreaseAvg = rate
		return
	}
	x := rate - e.decreaseAvg
	e.decreaseAvg += alpha * x
	e.decreaseVar = (1 - alpha) * (e.decreaseVar + alpha*x*x)
}

func (e *Estimator) nearLastDecrease(acked int) bool {
	if e.decreaseAvg == 0 || acked == 0 {
		return false
	}
	band := 3 * max(math.Sqrt(e.decreaseVar), 0.03*e.decreaseAvg)
	return math.Abs(float64(acked)-e.decreaseAvg) < band
}

// ackedRate is what arrived at the viewer over the last rateWindow of its
// clock, in buckets.
type ackedRate struct {
	bytes  [rateBuckets]int
	newest int64 // bucket number of the newest arrival
	first  int64 // arrival of the first packet, µs
	seen   bool
	latest int64
}

const bucketSpan = rateWindow / rateBuckets

func (r *ackedRate) add(arrival int64, size int) {
	b := arrival / bucketSpan
	if r.seen && arrival-r.latest > rateWindow {
		// After a silence (a viewer on keyframes only) the rate is
		// measured from the burst's start, not over the silence.
		*r = ackedRate{}
	}
	if !r.seen {
		r.newest, r.first, r.latest, r.seen = b, arrival, arrival, true
	}
	if b > r.newest {
		for i := r.newest + 1; i <= b && i <= r.newest+rateBuckets; i++ {
			r.bytes[mod(i, rateBuckets)] = 0
		}
		r.newest = b
	}
	if b <= r.newest-rateBuckets {
		return // older than the window
	}
	r.bytes[mod(b, rateBuckets)] += size
	r.latest = max(r.latest, arrival)
}

// rate is bit/s over the window; 0 until it has seen half of one.
func (r *ackedRate) rate() int {
	if !r.seen {
		return 0
	}
	// From the start of the oldest bucket kept (or the first arrival) to
	// the newest arrival.
	from := max(r.first, (r.newest-rateBuckets+1)*bucketSpan)
	span := r.latest - from
	if span < rateWindow/2 {
		return 0
	}
	total := 0
	for _, b := range r.bytes {
		total += b
	}
	return int(float64(total*8) / (float64(span) / 1e6))
}

func mod(a, n int64) int {
	m := a % n
	if m < 0 {
		m += n
	}
	return int(m)
}
