package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/internal/netem"
)

// namespaceLink makes a network namespace joined to this one (root only;
// skipped in -short), removed when the test ends.
func namespaceLink(t *testing.T, name string, subnet int) *netem.Link {
	t.Helper()
	if testing.Short() {
		t.Skip("network namespaces: not in -short")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the namespace tests need root (network namespaces, tc, nft): run make test as root")
	}
	link, err := netem.New(name, subnet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = link.Close() })
	return link
}

// behindNamespace starts a daemon with cfg reachable from a fresh network
// namespace and returns the link, the base URL and the daemon's ICE port.
func behindNamespace(t *testing.T, name string, subnet int, cfg *configs.Config) (*netem.Link, string, int) {
	t.Helper()
	link := namespaceLink(t, name, subnet)
	cfg.HTTP.Listen = link.HostIP + ":0"
	d := startTestDaemon(t, cfg)
	base := "http://" + d.HTTPAddr()
	return link, base, iceStatusOf(t, base).ICE.Port
}

type iceDoc struct {
	ICE struct {
		Port            int      `json:"port"`
		AdditionalHosts []string `json:"additional_hosts"`
	} `json:"ice"`
	Sessions []struct {
		Pair *struct {
			Protocol string `json:"protocol"`
			Local    string `json:"local"`
			Remote   string `json:"remote"`
		} `json:"candidate_pair"`
	} `json:"sessions"`
}

func iceStatusOf(t *testing.T, base string) iceDoc {
	t.Helper()
	return statusAs[iceDoc](t, base)
}

// statusAs reads /api/status into a T that names the fields it needs.
func statusAs[T any](t *testing.T, base string) T {
	t.Helper()
	var st T
	resp, err := http.Get(base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitRemotePair waits for the viewer in the namespace to show a picture
// and returns its selected pair.
func waitRemotePair(t *testing.T, r *netem.Remote) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for r.Pair() == "" {
		if done, stderr := r.Exited(); done {
			t.Fatalf("viewer in the namespace ended: %s", stderr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("viewer in the namespace got no picture within 20 s: %s", r.Stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r.Pair()
}

// A viewer that reaches pipcam only through a port forward (nftables DNAT
// from a public address to the ICE port; the daemon's own address on that
// port is blocked) connects because additional_hosts offers the public
// address, and its media flows through the forward.
func TestPortForwardWithAdditionalHosts(t *testing.T) {
	const public = "203.0.113.10" // TEST-NET-3: routed only inside the namespace
	cfg := testConfig()
	cfg.WebRTC.AdditionalHosts = []configs.AdditionalHost{public}
	link, base, port := behindNamespace(t, "pipcam-fwd", 83, cfg)
	if err := link.ForwardPort(public, port); err != nil {
		t.Fatal(err)
	}
	r, err := link.StartViewerWith(base, netem.ViewerOptions{Direct: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	pair := waitRemotePair(t, r)
	t.Logf("viewer's pair: %s", pair)
	if want := fmt.Sprintf("%s:%d", public, port); !strings.Contains(pair, want) {
		t.Errorf("viewer's pair %q does not go to %s", pair, want)
	}
	if st := iceStatusOf(t, base); len(st.ICE.AdditionalHosts) != 1 || st.ICE.AdditionalHosts[0] != public {
		t.Errorf("status ice %+v, want additional host %s", st.ICE, public)
	}
}

// A viewer on a network that drops all UDP connects over ICE-TCP to the
// same port number, and status shows the TCP pair.
func TestICETCPWhenUDPIsBlocked(t *testing.T) {
	link, base, port := behindNamespace(t, "pipcam-tcp", 84, testConfig())
	if err := link.BlockUDP(); err != nil {
		t.Fatal(err)
	}
	r, err := link.StartViewerWith(base, netem.ViewerOptions{Direct: true, TCPOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	pair := waitRemotePair(t, r)
	t.Logf("viewer's pair: %s", pair)
	if want := fmt.Sprintf("%s:%d", link.HostIP, port); !strings.Contains(pair, "tcp") || !strings.Contains(pair, want) {
		t.Errorf("viewer's pair %q, want tcp to %s", pair, want)
	}
	st := iceStatusOf(t, base)
	if len(st.Sessions) != 1 || st.Sessions[0].Pair == nil || st.Sessions[0].Pair.Protocol != "tcp" {
		t.Errorf("status sessions %+v, want one on a tcp pair", st.Sessions)
	}
}
