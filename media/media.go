// Package media holds the one type that the graph and the viewers share: an
// H.264 access unit, and the few Annex-B helpers both sides need. It is a
// leaf: compositor produces access units, signaling consumes them, and
// neither imports the other.
package media

import "time"

// AccessUnit is one encoded picture in Annex-B byte-stream form (start codes
// included). Data is never modified after it is published: many viewers read
// the same slice.
type AccessUnit struct {
	Data     []byte
	PTS      time.Duration // running time of the picture
	Duration time.Duration // nominal frame duration
	Keyframe bool          // an IDR, preceded by SPS and PPS
	// Capture is the wall-clock time the picture was captured (zero when
	// unknown): viewers get it in the abs-capture-time RTP header
	// extension and measure how late their picture is.
	Capture time.Time
}

// NAL unit types that pipcam looks at (ITU-T H.264 table 7-1).
const (
	NALSlice = 1
	NALIDR   = 5
	NALSEI   = 6
	NALSPS   = 7
	NALPPS   = 8
	NALAUD   = 9
)

// SplitNALUs returns the NAL units of an Annex-B stream without their start
// codes. The returned slices share memory with b.
func SplitNALUs(b []byte) [][]byte {
	var out [][]byte
	start := -1
	i := 0
	for i+2 < len(b) {
		// A start code is 00 00 01 (a 4-byte 00 00 00 01 ends in one).
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				out = append(out, trimZeros(b[start:i]))
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

// trimZeros drops the trailing zero bytes that belong to the next 4-byte start code.
func trimZeros(n []byte) []byte {
	for len(n) > 0 && n[len(n)-1] == 0 {
		n = n[:len(n)-1]
	}
	return n
}

// NALType is the nal_unit_type of a NAL unit (0 for an empty one).
func NALType(nal []byte) int {
	if len(nal) == 0 {
		return 0
	}
	return int(nal[0] & 0x1f)
}

// Types lists the NAL unit types of an Annex-B access unit, in order.
func Types(annexB []byte) []int {
	nalus := SplitNALUs(annexB)
	t := make([]int, len(nalus))
	for i, n := range nalus {
		t[i] = NALType(n)
	}
	return t
}

// IsDecodableStart reports whether an access unit can start a decoder: it
// carries SPS, PPS and an IDR slice.
func IsDecodableStart(annexB []byte) bool {
	var sps, pps, idr bool
	for _, t := range Types(annexB) {
		switch t {
		case NALSPS:
			sps = true
		case NALPPS:
			pps = true
		case NALIDR:
			idr = true
		}
	}
	return sps && pps && idr
}
