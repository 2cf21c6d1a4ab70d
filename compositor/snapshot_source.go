package compositor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-gst/go-gst/gst"
	"github.com/go-gst/go-gst/gst/app"

	"github.com/pipcam/pipcam/configs"
)

// maxSnapshot bounds one fetched picture: a camera's JPEG is well under it.
const maxSnapshot = 16 << 20

// startSnapshotPoller fetches a snapshot camera's JPEG URL at its frame
// rate and pushes each picture into the pipeline's appsrc, until stop. A
// failed fetch (refused, 401, timeout) ends the run through fail, and the
// camera reconnects as for any other source.
func startSnapshotPoller(cam configs.Camera, out configs.Output, src *gst.Element, fail func(error)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	_, _, fps := cam.EffectiveSize(out)
	client := &http.Client{Timeout: cam.StallAfter()}
	appsrc := app.SrcFromElement(src)
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / time.Duration(max(fps, 1)))
		defer tick.Stop()
		for {
			data, err := fetchSnapshot(ctx, client, cam)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				fail(err)
				return
			}
			if ret := appsrc.PushBuffer(gst.NewBufferFromBytes(data)); ret != gst.FlowOK {
				return // flushing: the pipeline is stopping
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

func fetchSnapshot(ctx context.Context, client *http.Client, cam configs.Camera) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cam.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("snapshot request: %w", err)
	}
	if cam.Username != "" {
		req.SetBasicAuth(cam.Username, cam.Password.Reveal())
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch snapshot: %s", shortNetError(err))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, fmt.Errorf("fetch snapshot: HTTP %s: check username and password", resp.Status)
	default:
		return nil, fmt.Errorf("fetch snapshot: HTTP %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSnapshot+1))
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	if len(data) > maxSnapshot || len(data) < 4 {
		return nil, errors.New("fetch snapshot: not a picture (size)")
	}
	return data, nil
}
