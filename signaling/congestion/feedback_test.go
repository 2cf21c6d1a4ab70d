package congestion

import (
	"math/rand/v2"
	"testing"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
)

// recordedFeedback is what pion's recorder (the encoder the viewers in
// the tests use) builds for a random stream: losses alone and in runs,
// arrivals close together and far apart, some out of order (negative
// deltas), marshalled as sent. events is how many packets it records
// or skips (0: 50 to 450).
func recordedFeedback(t testing.TB, seed uint64, events int) [][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	rec := twcc.NewRecorder(1)
	at := int64(1_000_000)
	seq := uint16(rng.IntN(1 << 16))
	if events == 0 {
		events = 50 + rng.IntN(400)
	}
	for range events {
		switch r := rng.IntN(100); {
		case r < 10: // one lost
		case r < 13: // a run lost (a run-length chunk)
			seq += uint16(rng.IntN(40))
		default:
			switch d := rng.IntN(100); {
			case d < 80:
				at += int64(rng.IntN(64_000)) // a small delta
			case d < 90:
				at += int64(64_000 + rng.IntN(1_000_000)) // a large one
			default:
				at -= int64(rng.IntN(20_000)) // out of order
			}
			rec.Record(9, seq, at)
		}
		seq++
	}
	var out [][]byte
	for _, p := range rec.BuildFeedbackPacket() {
		raw, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// pionReads is the same packet through pion's Unmarshal.
func pionReads(t testing.TB, raw []byte) (Feedback, bool) {
	t.Helper()
	var fb rtcp.TransportLayerCC
	if err := fb.Unmarshal(raw); err != nil {
		return Feedback{}, false
	}
	var f Feedback
	f.fromRTCP(&fb)
	return f, true
}

func sameFeedback(t *testing.T, got, want Feedback) {
	t.Helper()
	if got.reference != want.reference || len(got.list) != len(want.list) {
		t.Fatalf("reference %d with %d statuses, pion reads %d with %d", got.reference, len(got.list), want.reference, len(want.list))
	}
	for i, g := range got.list {
		w := want.list[i]
		if g.seq != w.seq || g.received != w.received || g.arrival != w.arrival {
			t.Fatalf("status %d: seq %d received %v arrival %d µs; pion reads seq %d received %v arrival %d µs",
				i, g.seq, g.received, g.arrival, w.seq, w.received, w.arrival)
		}
	}
}

// Parse reads every packet the way pion's Unmarshal does: the same
// sequence numbers, losses and arrival times, through all three chunk
// kinds and both delta sizes.
func TestParseReadsWhatPionReads(t *testing.T) {
	var packets, statuses, lost int
	kinds := map[string]bool{}
	var f Feedback // reused, as the tap reuses it
	for seed := range uint64(200) {
		for _, raw := range recordedFeedback(t, seed, 0) {
			want, ok := pionReads(t, raw)
			if !ok {
				t.Fatalf("pion cannot read what its recorder built (seed %d)", seed)
			}
			n, err := f.Parse(raw)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			if n != len(raw) {
				t.Fatalf("seed %d: Parse took %d of %d bytes", seed, n, len(raw))
			}
			sameFeedback(t, f, want)
			packets++
			statuses += len(f.list)
			for _, s := range f.list {
				if !s.received {
					lost++
				}
				kinds[map[uint8]string{0: "none", 1: "small delta", 2: "large delta"}[s.delta]] = true
			}
			var fb rtcp.TransportLayerCC
			_ = fb.Unmarshal(raw)
			for _, c := range fb.PacketChunks {
				switch c := c.(type) {
				case *rtcp.RunLengthChunk:
					kinds["run length"] = true
				case *rtcp.StatusVectorChunk:
					kinds[map[uint16]string{rtcp.TypeTCCSymbolSizeOneBit: "one-bit vector", rtcp.TypeTCCSymbolSizeTwoBit: "two-bit vector"}[c.SymbolSize]] = true
				}
			}
		}
	}
	for _, k := range []string{"none", "small delta", "large delta", "run length", "one-bit vector", "two-bit vector"} {
		if !kinds[k] {
			t.Errorf("no packet had a %s: the comparison did not cover it", k)
		}
	}
	t.Logf("%d packets, %d statuses (%d lost) read alike", packets, statuses, lost)
}

// A packet cut short anywhere is refused, never read past its end.
func TestParseRefusesATruncatedPacket(t *testing.T) {
	raw := recordedFeedback(t, 7, 0)[0]
	var f Feedback
	for n := range len(raw) {
		cut := append([]byte(nil), raw[:n]...)
		if _, err := f.Parse(cut); err == nil {
			t.Fatalf("took %d of %d bytes as a whole packet", n, len(raw))
		}
	}
	// Its length field says more than there is: refused too.
	long := append([]byte(nil), raw...)
	long[3]++
	if _, err := f.Parse(long); err == nil {
		t.Fatal("took a packet whose length runs past the datagram")
	}
}

// Parse agrees with pion on whatever pion reads; on anything it never
// reads past the packet (the fuzzer finds out-of-range reads as panics).
func FuzzParse(f *testing.F) {
	for seed := range uint64(5) {
		for _, raw := range recordedFeedback(f, seed, 0) {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var got Feedback
		n, err := got.Parse(raw)
		if err != nil {
			return
		}
		if n > len(raw) {
			t.Fatalf("Parse says %d bytes of %d", n, len(raw))
		}
		// pion refuses a last chunk that ends exactly at the packet's end;
		// Parse takes it. Elsewhere both must read the same.
		if want, ok := pionReads(t, raw[:n]); ok {
			sameFeedback(t, got, want)
		}
	})
}

// Reading a viewer's feedback packet: Parse against pion's Unmarshal
// (with the walk over its chunks and deltas the estimate then needed). A
// viewer of 400 kbit/s at 15 pictures a second reports about 8 packets in
// each feedback packet.
func BenchmarkFeedbackParse(b *testing.B) {
	var raws [][]byte
	for seed := range uint64(16) {
		raws = append(raws, recordedFeedback(b, seed, 8)...)
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		var f Feedback
		for i := 0; b.Loop(); i++ {
			if _, err := f.Parse(raws[i%len(raws)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pion", func(b *testing.B) {
		b.ReportAllocs()
		var f Feedback
		for i := 0; b.Loop(); i++ {
			pkts, err := rtcp.Unmarshal(raws[i%len(raws)])
			if err != nil {
				b.Fatal(err)
			}
			f.fromRTCP(pkts[0].(*rtcp.TransportLayerCC))
		}
	})
}
