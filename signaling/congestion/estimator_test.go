package congestion

import (
	"testing"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
)

// bottleneck is a link of a given rate with a drop-tail queue, the shape
// of a weak WiFi hop or a tc tbf: packets wait for the ones before them,
// and a packet that would wait longer than maxQueue is dropped.
type bottleneck struct {
	bps      float64
	delay    time.Duration // one way, without queuing
	maxQueue time.Duration
	free     time.Duration // when the link is next idle
	dropNth  int           // also drop every Nth packet (0: none)
	n        int
}

func (l *bottleneck) send(at time.Duration, size int) (time.Duration, bool) {
	l.n++
	if l.dropNth > 0 && l.n%l.dropNth == 0 {
		return 0, false
	}
	start := max(at, l.free)
	if start-at > l.maxQueue {
		return 0, false
	}
	l.free = start + time.Duration(float64(size*8)/l.bps*float64(time.Second))
	return l.free + l.delay, true
}

// call is one simulated viewer: an encoder that sends what the estimate
// allows (less 10 % headroom, at most ceiling), 15 pictures a second,
// through link; the viewer records arrivals with pion's own transport-wide
// CC recorder and reports every 100 ms; reports come back after the link's
// delay, through the RTCP wire format.
type call struct {
	t       *testing.T
	est     *Estimator
	link    *bottleneck
	base    time.Time
	now     time.Duration
	ceiling int
	rec     *twcc.Recorder
	frames  int // pictures sent
	rtp     uint16
	pending []arrival
	reports []report
}

type arrival struct {
	at  time.Duration
	seq uint16
}

type report struct {
	at  time.Duration
	raw []byte // one transport-wide feedback packet, as sent
}

func newCall(t *testing.T, link *bottleneck, ceiling int) *call {
	return &call{
		t: t, link: link, ceiling: ceiling, base: time.Now(),
		est: New(int(float64(ceiling)/0.9)+1000, 30_000, 2*ceiling),
		rec: twcc.NewRecorder(1),
	}
}

// run advances the call by d, and returns the estimates sampled every
// 500 ms.
func (c *call) run(d time.Duration) []int {
	const frame = time.Second / 15
	var samples []int
	end := c.now + d
	for c.now < end {
		c.now += time.Millisecond
		if c.now >= time.Duration(c.frames)*frame {
			c.frames++
			c.sendPicture()
		}
		c.deliver()
		if c.now%(100*time.Millisecond) == 0 {
			c.report()
		}
		if c.now%(500*time.Millisecond) == 0 {
			samples = append(samples, c.est.Target())
		}
	}
	return samples
}

func (c *call) sendPicture() {
	bits := min(int(float64(c.est.Target())*0.9), c.ceiling) / 15
	for left := bits / 8; left > 0; left -= 1200 {
		size := min(left, 1200) + PacketOverhead
		c.rtp++
		seq, ok := c.est.Send(c.rtp, size, c.base.Add(c.now))
		if !ok {
			c.t.Fatal("a new packet was refused")
		}
		if at, ok := c.link.send(c.now, size); ok {
			c.pending = append(c.pending, arrival{at: at, seq: seq})
		}
	}
}

// deliver records what arrived by now and hands over reports due now.
func (c *call) deliver() {
	kept := c.pending[:0]
	for _, a := range c.pending {
		if a.at <= c.now {
			c.rec.Record(2, a.seq, a.at.Microseconds())
		} else {
			kept = append(kept, a)
		}
	}
	c.pending = kept
	due := c.reports[:0]
	for _, r := range c.reports {
		if r.at <= c.now {
			var f Feedback
			if _, err := f.Parse(r.raw); err != nil {
				c.t.Fatal(err)
			}
			c.est.Feedback(&f, c.base.Add(c.now))
		} else {
			due = append(due, r)
		}
	}
	c.reports = due
}

// report builds the viewer's feedback and sends it back over the wire
// format, as a browser or pion client would.
func (c *call) report() {
	for _, p := range c.rec.BuildFeedbackPacket() {
		raw, err := p.Marshal()
		if err != nil {
			c.t.Fatal(err)
		}
		if IsFeedback(raw) {
			c.reports = append(c.reports, report{at: c.now + c.link.delay, raw: raw})
		}
	}
}

func countUnder(samples []int, limit int) int {
	n := 0
	for _, s := range samples {
		if s < limit {
			n++
		}
	}
	return n
}

// A link narrower than the stream: the estimate goes under it and stays
// there without collapsing; when the link widens it climbs back until the
// encoder gets its configured rate again.
func TestEstimateFollowsANarrowLinkAndClimbsBack(t *testing.T) {
	link := &bottleneck{bps: 300_000, delay: 25 * time.Millisecond, maxQueue: 400 * time.Millisecond}
	c := newCall(t, link, 400_000)
	first := c.run(10 * time.Second)
	if countUnder(first, 300_000) == 0 {
		t.Fatalf("estimate not under a 300 kbit/s link within 10 s; samples %v", first)
	}
	held := c.run(20 * time.Second)
	if n := countUnder(held, 330_000); n < len(held)*9/10 {
		t.Errorf("estimate under 330 kbit/s in only %d of %d samples: %v", n, len(held), held)
	}
	if low := countUnder(held, 150_000); low > 0 {
		t.Errorf("estimate fell under half the link %d times: %v", low, held)
	}
	t.Logf("behind 300 kbit/s: first 10 s %v; next 20 s %v", first, held)
	link.bps = 10_000_000
	back := c.run(20 * time.Second)
	t.Logf("link widened: %v", back)
	if got := int(float64(back[len(back)-1]) * 0.9); got < 400_000 {
		t.Errorf("20 s after the link widened the encoder would get %d bit/s; samples %v", got, back)
	}
	st := c.est.Stats()
	if st.Feedbacks == 0 || st.AckedBps == 0 || st.RTT <= 0 {
		t.Errorf("stats %+v", st)
	}
}

// A wide link that loses every 5th packet: the loss rule lowers the
// estimate though no queue builds.
func TestLossLowersTheEstimate(t *testing.T) {
	link := &bottleneck{bps: 10_000_000, delay: 10 * time.Millisecond, maxQueue: time.Second, dropNth: 5}
	c := newCall(t, link, 400_000)
	start := c.est.Target()
	samples := c.run(10 * time.Second)
	t.Logf("20 %% loss: %v", samples)
	if last := samples[len(samples)-1]; last > start*3/4 {
		t.Fatalf("estimate %d bit/s with 20 %% loss (started at %d); samples %v", last, start, samples)
	}
	if st := c.est.Stats(); st.Loss < 0.15 || st.Loss > 0.25 {
		t.Errorf("loss judged %.2f, want about 0.20", st.Loss)
	}
}

// A link far too narrow for the stream, with a deep queue, as the
// hopeless viewer's: the estimate goes there in one step, not through the
// rates between, which would drag every other viewer's picture down on
// the way.
func TestHopelessLinkIsFoundInOneStep(t *testing.T) {
	link := &bottleneck{bps: 80_000, delay: 25 * time.Millisecond, maxQueue: time.Second}
	c := newCall(t, link, 400_000)
	samples := c.run(10 * time.Second)
	t.Logf("behind 80 kbit/s: %v", samples)
	for i, s := range samples {
		if s > 160_000 && s < 360_000 {
			t.Fatalf("estimate passed through %d bit/s (sample %d): %v", s, i, samples)
		}
	}
	if last := samples[len(samples)-1]; last > 100_000 {
		t.Fatalf("estimate %d bit/s after 10 s behind 80 kbit/s: %v", last, samples)
	}
}

// A clean wide link: the estimate does not drop.
func TestCleanLinkKeepsTheEstimate(t *testing.T) {
	link := &bottleneck{bps: 10_000_000, delay: 10 * time.Millisecond, maxQueue: time.Second}
	c := newCall(t, link, 400_000)
	start := c.est.Target()
	for _, s := range c.run(20 * time.Second) {
		if s < start {
			t.Fatalf("estimate fell to %d bit/s (from %d) on a clean link", s, start)
		}
	}
}

// Statuses decode what pion's recorder encodes: which packets arrived,
// and when, relative to each other.
func TestFeedbackDecodesArrivalsAndLosses(t *testing.T) {
	rec := twcc.NewRecorder(1)
	arrivals := map[uint16]int64{}
	for seq := uint16(65530); seq != 20; seq++ { // across the wrap
		if seq%7 == 3 {
			continue // lost
		}
		at := 1_000_000 + int64(uint16(seq-65530))*1_500
		arrivals[seq] = at
		rec.Record(9, seq, at)
	}
	var got []status
	for _, p := range rec.BuildFeedbackPacket() {
		raw, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := rtcp.Unmarshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		fb := parsed[0].(*rtcp.TransportLayerCC)
		var clock referenceClock
		got = append(got, statuses(fb, clock.unwrap(fb.ReferenceTime), nil)...)
	}
	var first *status
	seen := 0
	for i, s := range got {
		want, ok := arrivals[s.seq]
		if s.received != ok {
			t.Fatalf("seq %d received=%v, want %v", s.seq, s.received, ok)
		}
		if !ok {
			continue
		}
		seen++
		if first == nil {
			first = &got[i]
			continue
		}
		// Deltas are in 250 µs steps.
		if d := (s.arrival - first.arrival) - (want - arrivals[first.seq]); d < -250 || d > 250 {
			t.Errorf("seq %d arrival off by %d µs", s.seq, d)
		}
	}
	if seen != len(arrivals) {
		t.Errorf("decoded %d received packets, recorded %d", seen, len(arrivals))
	}
}

func TestReferenceClockUnwraps(t *testing.T) {
	var c referenceClock
	steps := []struct {
		ref  uint32
		want int64
	}{
		{referenceWrap - 2, (referenceWrap - 2) * referenceUnit},
		{referenceWrap - 1, (referenceWrap - 1) * referenceUnit},
		{1, (referenceWrap + 1) * referenceUnit},
		{referenceWrap - 1, (referenceWrap - 1) * referenceUnit}, // late, from before the wrap
		{2, (referenceWrap + 2) * referenceUnit},
	}
	for _, s := range steps {
		if got := c.unwrap(s.ref); got != s.want {
			t.Fatalf("unwrap(%d) = %d, want %d", s.ref, got, s.want)
		}
	}
}

// A report about a packet is used once; one about a packet overwritten
// since finds nothing.
func TestHistoryTakesEachPacketOnce(t *testing.T) {
	var h history
	h.add(5, 100, 1200)
	if p, ok := h.take(5); !ok || p.at != 100 || p.size != 1200 {
		t.Fatalf("take(5) = %+v, %v", p, ok)
	}
	if _, ok := h.take(5); ok {
		t.Fatal("seq 5 taken twice")
	}
	h.add(7, 1, 1)
	h.add(7+historySize, 2, 2)
	if _, ok := h.take(7); ok {
		t.Fatal("an overwritten packet was found")
	}
}

// New packets always go; retransmissions go within their budget, and a
// packet asked for again before its first answer could have arrived is
// not sent twice.
func TestRetransmissionsStayWithinTheirBudget(t *testing.T) {
	e := New(100_000, 30_000, 800_000)
	now := time.Now()
	for seq := uint16(1); seq <= 100; seq++ {
		if _, ok := e.Send(seq, 1200, now); !ok {
			t.Fatalf("new packet %d refused", seq)
		}
	}
	// A viewer that lost everything asks for all of it at once.
	sent := 0
	for seq := uint16(1); seq <= 100; seq++ {
		if _, ok := e.Send(seq, 1200, now); ok {
			sent++
		}
	}
	// At 100 kbit/s the bucket holds retransmitShare of half a second:
	// about 3 KB, so 2 packets of 1200 bytes.
	burst := int(max(retransmitBurst.Seconds()*retransmitShare*100_000/8, 2*1200) / 1200)
	if sent != burst {
		t.Fatalf("%d retransmissions went at once, want the bucket's %d", sent, burst)
	}
	// The same packets asked for again at once: nothing more goes.
	if _, ok := e.Send(1, 1200, now.Add(time.Millisecond)); ok {
		t.Fatal("packet 1 retransmitted twice within a round trip")
	}
	// A second later the bucket has refilled a second's share.
	later := now.Add(time.Second)
	sent = 0
	for seq := uint16(50); seq <= 100; seq++ {
		if _, ok := e.Send(seq, 1200, later); ok {
			sent++
		}
	}
	if sent == 0 || sent > burst {
		t.Fatalf("%d retransmissions a second later, want 1..%d", sent, burst)
	}
	if st := e.Stats(); st.Retransmits == 0 || st.Refused == 0 {
		t.Errorf("stats %+v", st)
	}
	// New packets are never held back by the budget.
	if _, ok := e.Send(101, 1200, later); !ok {
		t.Fatal("a new packet was refused after the budget ran out")
	}
}

// A frame lost whole is answered in one round even when it is larger than
// the budget's half second (at 400 kbit/s about 5 packets): the bucket
// holds the largest recent frame. The share over time stays: a second
// frame lost right after waits for the bucket to refill.
func TestAWholeLostFrameIsAnsweredAtOnce(t *testing.T) {
	const pkts, size = 9, 1200
	e := New(400_000, 30_000, 800_000)
	now := time.Now()
	seq := uint16(1)
	sendFrame := func(at time.Time) (first uint16) {
		first = seq
		for range pkts {
			if _, ok := e.Send(seq, size, at); !ok {
				t.Fatalf("new packet %d refused", seq)
			}
			seq++
		}
		e.FrameSent(pkts*size, at)
		return first
	}
	resend := func(first uint16, at time.Time) (sent int) {
		for s := first; s < first+pkts; s++ {
			if _, ok := e.Send(s, size, at); ok {
				sent++
			}
		}
		return sent
	}
	if half := int(retransmitBurst.Seconds() * retransmitShare * 400_000 / 8 / size); half >= pkts {
		t.Fatalf("the test's frame (%d packets) fits half a second's share (%d): it shows nothing", pkts, half)
	}
	a := sendFrame(now)
	b := sendFrame(now.Add(66 * time.Millisecond))
	at := now.Add(200 * time.Millisecond)
	if got := resend(a, at); got != pkts {
		t.Fatalf("%d of a lost frame's %d packets answered at once", got, pkts)
	}
	if got := resend(b, at); got >= pkts {
		t.Fatalf("a second whole frame right after was answered too (%d packets): the budget has no limit", got)
	}
	// Frames are forgotten: 4 s of small frames later, the floor is
	// half a second's share again.
	later := now
	for i := range 70 {
		later = now.Add(time.Duration(i) * 66 * time.Millisecond)
		for range 2 {
			e.Send(seq, size, later)
			seq++
		}
		e.FrameSent(2*size, later)
	}
	if got := e.frames.largest(); got != 2*size {
		t.Fatalf("the largest recent frame is %d bytes, want the small frames' %d", got, 2*size)
	}
}
