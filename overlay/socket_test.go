package overlay

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/pipcam/pipcam/configs"
)

// A socket that cannot be opened says why without the one-shot token its
// URL carried (Moonraker's).
func TestOpenSocketScrubsTheToken(t *testing.T) {
	f, err := newFollower("Moonraker", configs.Printer{Type: configs.PrinterMoonraker, URL: "http://127.0.0.1:1"}, os.Getenv, defaultTiming, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	const token = "c2VjcmV0LXRva2Vu"
	_, err = f.openSocket(context.Background(), f.client.endpoint("/websocket")+"?token="+token, token)
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "REDACTED") {
		t.Errorf("error %v", err)
	}
}
