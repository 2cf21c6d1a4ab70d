package media

import (
	"bytes"
	"slices"
	"testing"
)

func TestSplitNALUs(t *testing.T) {
	sps := []byte{0x67, 0x42, 0xe0, 0x1f}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	idr := []byte{0x65, 0x88, 0x84, 0x00, 0x10}
	p := []byte{0x41, 0x9a, 0x00, 0x00, 0x03, 0x01}
	tests := []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"empty", nil, nil},
		{"no start code", []byte{1, 2, 3}, nil},
		{"3-byte start codes", join([]byte{0, 0, 1}, sps, pps, idr), [][]byte{sps, pps, idr}},
		{"4-byte start codes", join([]byte{0, 0, 0, 1}, sps, pps, idr), [][]byte{sps, pps, idr}},
		{"emulation prevention stays inside a NAL", join([]byte{0, 0, 0, 1}, p), [][]byte{p}},
	}
	for _, tt := range tests {
		got := SplitNALUs(tt.in)
		if len(got) != len(tt.want) {
			t.Fatalf("%s: %d NAL units, want %d", tt.name, len(got), len(tt.want))
		}
		for i := range got {
			if !bytes.Equal(got[i], tt.want[i]) {
				t.Errorf("%s: NAL %d = %x, want %x", tt.name, i, got[i], tt.want[i])
			}
		}
	}
}

func TestDecodableStart(t *testing.T) {
	sps, pps, idr, slice := []byte{0x67, 1}, []byte{0x68, 1}, []byte{0x65, 1}, []byte{0x41, 1}
	aud := []byte{0x09, 0xf0}
	sc := []byte{0, 0, 0, 1}
	if got := Types(join(sc, aud, sps, pps, idr)); !slices.Equal(got, []int{NALAUD, NALSPS, NALPPS, NALIDR}) {
		t.Fatalf("types %v", got)
	}
	if !IsDecodableStart(join(sc, aud, sps, pps, idr)) {
		t.Fatal("SPS+PPS+IDR not a decodable start")
	}
	for _, au := range [][]byte{join(sc, idr), join(sc, sps, pps, slice), join(sc, pps, idr), nil} {
		if IsDecodableStart(au) {
			t.Fatalf("%x taken for a decodable start", au)
		}
	}
}

func join(sc []byte, nalus ...[]byte) []byte {
	var b []byte
	for _, n := range nalus {
		b = append(append(b, sc...), n...)
	}
	return b
}
