package signaling

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// newID returns 128 random bits, URL-safe base64 without padding (22 chars).
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// shortID is the prefix of an id shown in logs and status.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
