package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/pipcam/pipcam/configs"
)

// controlToken is the token control endpoints need, and where it lives.
type controlToken struct {
	Token configs.Secret
	// Where says where it came from: "http.token" or a file path.
	Where string
	// Note is something the owner should hear (a fallback, loose file
	// permissions); "" if nothing.
	Note string
}

// minTokenLen refuses a token file holding a few characters: that guards
// nothing. Generated tokens are 43 characters.
const minTokenLen = 16

// loadControlToken returns http.token when it is set; else the token kept in
// http.token_file, made at first start; when that file does not exist and
// cannot be made (not running as root, a read-only /var), the same in the
// user's state directory. With token_file "" there is no token.
//
// makeFallback is false for `pipcam token`, which makes no token at all:
// one made by the caller (root, or another user) would not be the daemon's.
func loadControlToken(h configs.HTTP, makeFallback bool) (controlToken, error) {
	if h.Token.Reveal() != "" {
		return controlToken{Token: h.Token, Where: "http.token"}, nil
	}
	if h.TokenFile == "" {
		return controlToken{}, nil
	}
	path := string(h.TokenFile)
	get := readOrMakeToken
	if !makeFallback {
		// `pipcam token` only reads: a token it made (as root, say) could
		// be one the daemon's own user cannot read, or not the daemon's.
		get = readOnly
	}
	tok, note, err := get(path)
	if err == nil {
		return controlToken{Token: tok, Where: path, Note: note}, nil
	}
	var cannotMake *makeError
	if !errors.As(err, &cannotMake) {
		return controlToken{}, err // it exists but is unusable: say so, do not hide it
	}
	fallback, ferr := userTokenFile()
	if ferr != nil {
		return controlToken{}, fmt.Errorf("%w; no fallback either: %w", err, ferr)
	}
	if makeFallback {
		tok, note, ferr = readOrMakeToken(fallback)
	} else {
		tok, note, ferr = readToken(fallback)
		if errors.Is(ferr, fs.ErrNotExist) {
			return controlToken{}, fmt.Errorf("no control token yet: %w; pipcam makes one when it starts (run this as the user pipcam runs as, or with sudo)", err)
		}
	}
	if ferr != nil {
		return controlToken{}, fmt.Errorf("%w; fallback: %w", err, ferr)
	}
	if note == "" {
		note = fmt.Sprintf("%s cannot be written (%v), so the token is kept here", path, errors.Unwrap(err))
	}
	return controlToken{Token: tok, Where: fallback, Note: note}, nil
}

// readOnly is readToken that reports a missing file the way a file that
// could not be made is reported, so the fallback is looked at next.
func readOnly(path string) (configs.Secret, string, error) {
	tok, note, err := readToken(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", &makeError{path, err}
	}
	return tok, note, err
}

// makeError is a token file that does not exist and could not be made.
type makeError struct {
	path string
	err  error
}

func (e *makeError) Error() string { return "make token file " + e.path + ": " + e.err.Error() }
func (e *makeError) Unwrap() error { return e.err }

// readOrMakeToken reads the token in path or, if there is no such file,
// makes one: 32 random bytes, URL-safe base64, mode 0600 in a 0700
// directory. It is created under a temporary name and linked into place,
// so two pipcam processes starting at once end up with the same token and
// nobody ever reads a half-written file.
func readOrMakeToken(path string) (configs.Secret, string, error) {
	tok, note, err := readToken(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return tok, note, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", &makeError{path, err}
	}
	tmp, err := os.CreateTemp(dir, ".token-*") // mode 0600
	if err != nil {
		return "", "", &makeError{path, err}
	}
	defer os.Remove(tmp.Name())
	secret, err := newToken()
	if err == nil {
		_, err = io.WriteString(tmp, secret+"\n")
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", &makeError{path, err}
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", "", &makeError{path, err}
	}
	// Ours, or the one another process linked first: read what is there.
	return readToken(path)
}

func readToken(path string) (configs.Secret, string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrPermission) {
		return "", "", fmt.Errorf("read token file %s: %w (pipcam keeps it readable by the user it runs as only; try: sudo pipcam token)", path, err)
	}
	if err != nil {
		return "", "", fmt.Errorf("read token file %s: %w", path, err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < minTokenLen || strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", "", fmt.Errorf("token file %s holds no usable token (want at least %d printable characters, no spaces): delete it and pipcam makes a new one", path, minTokenLen)
	}
	note := ""
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		note = fmt.Sprintf("%s is readable by other users (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	return configs.Secret(tok), note, nil
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// userTokenFile is the fallback: $XDG_STATE_HOME/pipcam/token, by default
// ~/.local/state/pipcam/token.
func userTokenFile() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(dir) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory for the token: %w", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "pipcam", "token"), nil
}

// applyControlToken puts the control token into the config the daemon
// runs with, and says where it is kept (never what it is).
func applyControlToken(cfg *configs.Config, log *slog.Logger) error {
	ct, err := loadControlToken(cfg.HTTP, true)
	if err != nil {
		return err
	}
	cfg.HTTP.Token = ct.Token
	switch {
	case ct.Where == "":
		log.Info("no control token (http.token and http.token_file are empty)")
	case ct.Where != "http.token":
		log.Info("control token ready; `pipcam token` shows it", "file", ct.Where)
	}
	if ct.Note != "" {
		log.Warn("control token", "note", ct.Note)
	}
	return nil
}

// printToken is `pipcam token`: the token on stdout (for scripts and for
// pasting into the dashboard or the OctoPrint plugin), the rest on stderr.
func printToken(stdout, stderr io.Writer, cfg *configs.Config, source string) int {
	ct, err := loadControlToken(cfg.HTTP, false)
	if err != nil {
		fmt.Fprintln(stderr, "pipcam token:", err)
		return 1
	}
	if ct.Where == "" {
		fmt.Fprintf(stderr, "pipcam token: no control token: http.token and http.token_file are empty in %s\n", source)
		return 1
	}
	fmt.Fprintln(stdout, ct.Token.Reveal())
	where := ct.Where
	if where == "http.token" {
		where = "http.token in " + source
	}
	fmt.Fprintf(stderr, "(from %s; send it as \"Authorization: Bearer <token>\", or paste it into the dashboard or the OctoPrint plugin)\n", where)
	if ct.Note != "" {
		fmt.Fprintln(stderr, "note:", ct.Note)
	}
	return 0
}
