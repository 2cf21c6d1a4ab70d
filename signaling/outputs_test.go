package signaling

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipcam/pipcam/configs"
	"github.com/pipcam/pipcam/recordings"
)

// fakePush is a PushControl with named destinations that records what it
// was told.
type fakePush struct {
	mu sync.Mutex
	on map[string]bool
}

func (f *fakePush) SetPush(name string, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.on[name]; !ok {
		return fmt.Errorf("%w: no push destination %q", fs.ErrNotExist, name)
	}
	f.on[name] = on
	return nil
}

func (f *fakePush) Status() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return map[string]bool{"youtube": f.on["youtube"]}
}

const outputsToken = "tok-outputs-1"

func bearerHdr() map[string]string {
	return map[string]string{"Authorization": "Bearer " + outputsToken}
}

func TestPushEndpoints(t *testing.T) {
	push := &fakePush{on: map[string]bool{"youtube": true}}
	_, hs := startServer(t, newIdleSource(), func(o *Options) {
		o.HTTP = configs.HTTP{Listen: ":8080", Token: outputsToken}
		o.Push = push
	})
	if resp, body := do(t, "GET", hs.URL+"/api/push", "", "", nil); resp.StatusCode != 200 || !strings.Contains(body, `"youtube":true`) {
		t.Fatalf("GET /api/push: %d %s", resp.StatusCode, body)
	}
	put := func(name, body string, hdr map[string]string) (int, string) {
		resp, b := do(t, "PUT", hs.URL+"/api/push/"+name, "application/json", body, hdr)
		return resp.StatusCode, b
	}
	if code, _ := put("youtube", `{"enabled":false}`, nil); code != http.StatusUnauthorized {
		t.Fatalf("PUT without the token: %d", code)
	}
	if code, body := put("youtube", `{"enabled":false}`, bearerHdr()); code != 200 || !strings.Contains(body, `"youtube":false`) {
		t.Fatalf("PUT off: %d %s", code, body)
	}
	if code, body := put("twitch", `{"enabled":true}`, bearerHdr()); code != 404 || !strings.Contains(body, `no push destination \"twitch\"`) {
		t.Fatalf("unknown destination: %d %s", code, body)
	}
	for _, bad := range []string{``, `{}`, `{"enabled":"yes"}`, `{"enabled":true,"key":"x"}`, `{"enabled":true}{}`, `[true]`} {
		if code, body := put("youtube", bad, bearerHdr()); code != 400 || !strings.Contains(body, `{\"enabled\": true}`) {
			t.Errorf("body %q: %d %s", bad, code, body)
		}
	}
	if push.on["youtube"] {
		t.Fatal("a refused PUT changed the push")
	}
	_, bare := startServer(t, newIdleSource(), nil)
	if resp, _ := do(t, "GET", bare.URL+"/api/push", "", "", nil); resp.StatusCode != http.StatusNotImplemented {
		t.Fatalf("no push: %d", resp.StatusCode)
	}
}

func TestRecordingEndpoints(t *testing.T) {
	store, err := recordings.New(configs.Recording{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2024, 5, 1, 8, 0, 0, 0, time.Local)
	var names []string
	for i, content := range []string{"first print", "second print"} {
		path, err := store.Begin("cube.gcode", day.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := store.End(); err != nil {
				t.Fatal(err)
			}
		}
		names = append(names, path[strings.LastIndexByte(path, '/')+1:])
	}
	// names[1] is still being recorded.
	_, hs := startServer(t, newIdleSource(), func(o *Options) {
		o.HTTP = configs.HTTP{Listen: ":8080", Token: outputsToken}
		o.Recordings = store
	})
	resp, body := do(t, "GET", hs.URL+"/api/recordings", "", "", nil)
	var list []recordings.File
	if err := json.Unmarshal([]byte(body), &list); resp.StatusCode != 200 || err != nil || len(list) != 2 {
		t.Fatalf("GET /api/recordings: %d %s (%v)", resp.StatusCode, body, err)
	}
	if list[0].Name != names[1] || !list[0].Recording || list[1].Name != names[0] || list[1].Size != int64(len("first print")) {
		t.Fatalf("listed %+v, want the newest first, marked as recording", list)
	}

	resp, body = do(t, "GET", hs.URL+"/recordings/"+names[0], "", "", nil)
	if resp.StatusCode != 200 || body != "first print" || resp.Header.Get("Content-Type") != "video/mp4" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="`+names[0]+`"` {
		t.Fatalf("download: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = do(t, "GET", hs.URL+"/recordings/"+names[0], "", "", map[string]string{"Range": "bytes=6-"})
	if resp.StatusCode != http.StatusPartialContent || body != "print" {
		t.Fatalf("range: %d %q", resp.StatusCode, body)
	}
	for path, want := range map[string]int{
		"/recordings/notes.txt":                       400,
		"/recordings/..%2F..%2Fetc%2Fpasswd":          400,
		"/recordings/2020-01-01_00-00-00_gone.mp4":    404,
		"/recordings/2020-01-01_00-00-00_a%00.mp4":    400,
		"/recordings/" + strings.Repeat("a", 300):     400,
		"/recordings/" + names[0] + "/../" + names[1]: 404,
	} {
		if resp, body := do(t, "GET", hs.URL+path, "", "", nil); resp.StatusCode != want {
			t.Errorf("GET %s: %d %s, want %d", path, resp.StatusCode, body, want)
		}
	}

	if resp, _ := do(t, "DELETE", hs.URL+"/api/recordings/"+names[0], "", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("DELETE without the token: %d", resp.StatusCode)
	}
	if resp, body := do(t, "DELETE", hs.URL+"/api/recordings/"+names[1], "", "", bearerHdr()); resp.StatusCode != http.StatusConflict {
		t.Fatalf("DELETE of the recording under way: %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, "DELETE", hs.URL+"/api/recordings/"+names[0], "", "", bearerHdr()); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, "GET", hs.URL+"/recordings/"+names[0], "", "", nil); resp.StatusCode != 404 {
		t.Fatalf("deleted, still served: %d", resp.StatusCode)
	}

	_, off := startServer(t, newIdleSource(), nil)
	if resp, body := do(t, "GET", off.URL+"/api/recordings", "", "", nil); resp.StatusCode != 404 || !strings.Contains(body, "recording.enabled") {
		t.Fatalf("recording off: %d %s", resp.StatusCode, body)
	}
}
