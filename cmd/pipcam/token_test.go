package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pipcam/pipcam/configs"
)

var tokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`) // 32 bytes, URL-safe base64

func tokenConfig(t *testing.T, tokenFile string) string {
	t.Helper()
	return writeConfig(t, "http:\n  token_file: "+tokenFile+"\n")
}

// The first start makes the token, later starts and `pipcam token` read
// the same one, and nobody but the owner can read the file.
func TestTokenIsMadeOnceAndShown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "token")
	cfg := configs.Default()
	cfg.HTTP.TokenFile = configs.TokenFile(path)

	ct, err := loadControlToken(cfg.HTTP, true)
	if err != nil {
		t.Fatal(err)
	}
	tok := ct.Token.Reveal()
	if !tokenRe.MatchString(tok) || ct.Where != path || ct.Note != "" {
		t.Fatalf("made %q in %q (note %q), want 43 URL-safe characters in %s", tok, ct.Where, ct.Note, path)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Fatalf("token directory mode %v, want 0700", di.Mode().Perm())
	}
	again, err := loadControlToken(cfg.HTTP, true)
	if err != nil || again.Token.Reveal() != tok {
		t.Fatalf("second start read %q (%v), want the same token", again.Token.Reveal(), err)
	}

	var out, errOut bytes.Buffer
	if code := run([]string{"token", "-config", tokenConfig(t, path)}, &out, &errOut); code != 0 {
		t.Fatalf("pipcam token: exit %d: %s", code, errOut.String())
	}
	if out.String() != tok+"\n" {
		t.Fatalf("pipcam token printed %q, want the token alone", out.String())
	}
	if !strings.Contains(errOut.String(), path) || strings.Contains(errOut.String(), tok) {
		t.Fatalf("pipcam token's note %q: want the file named and the token only on stdout", errOut.String())
	}
}

// Daemons starting at the same moment agree on one token.
func TestTokenRaceMakesOneToken(t *testing.T) {
	h := configs.HTTP{TokenFile: configs.TokenFile(filepath.Join(t.TempDir(), "token"))}
	toks := make([]string, 8)
	var wg sync.WaitGroup
	for i := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ct, err := loadControlToken(h, true)
			if err != nil {
				t.Error(err)
			}
			toks[i] = ct.Token.Reveal()
		}()
	}
	wg.Wait()
	for i, tok := range toks {
		if tok != toks[0] || tok == "" {
			t.Fatalf("process %d got %q, process 0 %q", i, tok, toks[0])
		}
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(string(h.TokenFile)), ".token-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

// A token file that cannot be made falls back to the user's state
// directory; `pipcam token` reads it there but never makes one there.
func TestTokenFallsBackToTheUserStateDir(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	h := configs.HTTP{TokenFile: "/proc/pipcam-test/token"} // no directory can be made in /proc
	want := filepath.Join(state, "pipcam", "token")

	var out, errOut bytes.Buffer
	if code := run([]string{"token", "-config", tokenConfig(t, string(h.TokenFile))}, &out, &errOut); code == 0 ||
		!strings.Contains(errOut.String(), "no control token yet") {
		t.Fatalf("pipcam token before any start: exit %d, %q; want a failure saying there is no token yet", code, errOut.String())
	}
	if _, err := os.Stat(want); err == nil {
		t.Fatal("pipcam token made a token in the caller's state directory")
	}

	ct, err := loadControlToken(h, true)
	if err != nil {
		t.Fatal(err)
	}
	if ct.Where != want || !tokenRe.MatchString(ct.Token.Reveal()) || !strings.Contains(ct.Note, "/proc/pipcam-test/token") {
		t.Fatalf("fallback: %q in %q (note %q), want a token in %s and a note naming the file that failed", ct.Token.Reveal(), ct.Where, ct.Note, want)
	}
	out.Reset()
	if code := run([]string{"token", "-config", tokenConfig(t, string(h.TokenFile))}, &out, &errOut); code != 0 || out.String() != ct.Token.Reveal()+"\n" {
		t.Fatalf("pipcam token after the start: exit %d, %q", code, out.String())
	}
}

func TestTokenFileProblemsAreNamed(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loose := filepath.Join(dir, "loose")
	if err := os.WriteFile(loose, []byte("0123456789abcdef0123\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path, wantErr, wantNote string
	}{
		{"too short", short, "delete it and pipcam makes a new one", ""},
		// Exists but cannot be read: an error, never a silent new token elsewhere.
		{"a directory", dir, "read token file " + dir, ""},
		{"readable by others", loose, "", "chmod 600"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := loadControlToken(configs.HTTP{TokenFile: configs.TokenFile(tt.path)}, true)
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case !strings.Contains(ct.Note, tt.wantNote):
				t.Fatalf("note %q, want %q", ct.Note, tt.wantNote)
			}
		})
	}
}

func TestConfiguredTokenWins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	ct, err := loadControlToken(configs.HTTP{Token: "from-the-config-0123", TokenFile: configs.TokenFile(path)}, true)
	if err != nil || ct.Token.Reveal() != "from-the-config-0123" || ct.Where != "http.token" {
		t.Fatalf("got %+v %v", ct, err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a token file was made although http.token is set")
	}
	off, err := loadControlToken(configs.HTTP{}, true)
	if err != nil || off.Token != "" {
		t.Fatalf("token_file \"\": %+v %v, want no token", off, err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"token", "-config", tokenConfig(t, `""`)}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no control token") {
		t.Fatalf("pipcam token with no token: exit %d %q", code, errOut.String())
	}
}

// Out of the box the daemon guards control with the generated token, on a
// loopback listener too (behind OctoPi's haproxy every LAN client is
// loopback), and never logs it.
func TestDaemonUsesTheGeneratedToken(t *testing.T) {
	cfg := testConfig()
	cfg.HTTP.TokenFile = configs.TokenFile(filepath.Join(t.TempDir(), "token"))
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := applyControlToken(cfg, log); err != nil {
		t.Fatal(err)
	}
	tok := cfg.HTTP.Token.Reveal()
	if !tokenRe.MatchString(tok) {
		t.Fatalf("daemon config token %q", tok)
	}
	d := startTestDaemon(t, cfg)
	url := "http://" + d.HTTPAddr() + "/api/layout"
	put := func(auth string) int {
		req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(`{"corner":"top-left"}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put(""); code != http.StatusUnauthorized {
		t.Fatalf("PUT /api/layout without the token on loopback: %d, want 401", code)
	}
	if code := put("Bearer " + tok); code != http.StatusOK {
		t.Fatalf("PUT /api/layout with the generated token: %d", code)
	}
	if strings.Contains(logs.String(), tok) || !strings.Contains(logs.String(), string(cfg.HTTP.TokenFile)) {
		t.Fatalf("log leaks the token or does not say where it is:\n%s", logs.String())
	}
}

// `pipcam token` never makes a token: one made by whoever runs it (root)
// could be unreadable to the daemon's own user, or simply not the daemon's.
func TestTokenCommandMakesNoToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "token")
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	var out, errOut bytes.Buffer
	code := run([]string{"token", "-config", tokenConfig(t, path)}, &out, &errOut)
	if code == 0 || out.Len() != 0 {
		t.Fatalf("pipcam token with no token yet: exit %d, printed %q", code, out.String())
	}
	if !strings.Contains(errOut.String(), "no control token yet") {
		t.Fatalf("pipcam token said %q, want it to say there is no token yet", errOut.String())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("pipcam token made %s (%v)", path, err)
	}
}
