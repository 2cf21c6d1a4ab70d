package signaling

import (
	"strings"
	"testing"
)

func TestParseTrickleFrag(t *testing.T) {
	frag := "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n" +
		"a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:1\r\n" +
		"a=candidate:3471623853 1 udp 2122194687 198.51.100.1 61765 typ host generation 0 ufrag EsAw network-id 2\r\n" +
		"a=end-of-candidates\r\n"
	f, err := parseTrickleFrag(frag)
	if err != nil {
		t.Fatal(err)
	}
	if f.UFrag != "EsAw" || f.Pwd != "P2uYro0UCOQ4zxjKXaWCBui1" || !f.End || len(f.Candidates) != 2 {
		t.Fatalf("parsed %+v", f)
	}
	c := f.Candidates[1]
	if !strings.HasPrefix(c.Candidate, "candidate:3471623853 ") || *c.SDPMid != "1" || *c.SDPMLineIndex != 1 || *c.UsernameFragment != "EsAw" {
		t.Errorf("second candidate %+v", c)
	}
	for _, bad := range []string{"hello", "a=candidate:", strings.Repeat("a=candidate:x\n", maxCandidates+1)} {
		if _, err := parseTrickleFrag(bad); err == nil {
			t.Errorf("parseTrickleFrag(%.20q) succeeded", bad)
		}
	}
}

func TestVideoRecvOnly(t *testing.T) {
	in := "v=0\r\nm=video 9 UDP 96\r\na=sendrecv\r\nm=audio 9 UDP 111\r\na=sendrecv\r\n"
	want := "v=0\r\nm=video 9 UDP 96\r\na=recvonly\r\nm=audio 9 UDP 111\r\na=sendrecv\r\n"
	if got := videoRecvOnly(in); got != want {
		t.Errorf("got %q", got)
	}
}
