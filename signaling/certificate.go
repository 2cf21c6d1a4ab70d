package signaling

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// certificates hands every peer the same DTLS certificate instead of
// generating a key pair per join (pion's default), and renews it a day
// before it expires (pion makes them valid for a month).
type certificates struct {
	mu   sync.Mutex
	cert *webrtc.Certificate
}

func (c *certificates) current() (webrtc.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cert == nil || time.Until(c.cert.Expires()) < 24*time.Hour {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return webrtc.Certificate{}, fmt.Errorf("DTLS key: %w", err)
		}
		cert, err := webrtc.GenerateCertificate(key)
		if err != nil {
			return webrtc.Certificate{}, fmt.Errorf("DTLS certificate: %w", err)
		}
		c.cert = cert
	}
	return *c.cert, nil
}
