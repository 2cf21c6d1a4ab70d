package octoprinttest

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// quietPlugins are bundled plugins turned off: they reach the internet
// (update checks, plugin repository, announcements, tracking, Python EOL
// data) or probe hardware, none of which a test wants.
var quietPlugins = []string{
	"tracking", "announcements", "discovery", "softwareupdate", "pi_support",
	"firmware_check", "file_check", "errortracking", "health_check", "pluginmanager",
}

// writeBaseDir writes config.yaml (the harness's settings with
// opt.Settings merged over them), logging.yaml and users.yaml with a new
// user, API key and password.
func (s *Server) writeBaseDir(opt Options) error {
	s.User = "pipcam"
	s.APIKey = randomHex(16)
	s.Password = randomHex(8)
	hash, err := passwordHash(s.Password)
	if err != nil {
		return err
	}
	config := map[string]any{
		"server": map[string]any{
			"firstRun":        false,
			"onlineCheck":     map[string]any{"enabled": false},
			"pluginBlacklist": map[string]any{"enabled": false},
		},
		"serial": map[string]any{
			"port":        "VIRTUAL",
			"baudrate":    115200,
			"autoconnect": opt.Autoconnect,
		},
		"plugins": map[string]any{
			"_disabled": quietPlugins,
			"virtual_printer": map[string]any{
				"enabled": true,
				// No simulated resends or errors: a test print runs clean.
				"simulated_errors": []string{},
			},
		},
	}
	merge(config, opt.Settings)
	users := map[string]any{
		"_version": 2,
		s.User: map[string]any{
			"password":    hash,
			"active":      true,
			"groups":      []string{"admins", "users"},
			"permissions": []string{},
			"apikey":      s.APIKey,
			"settings":    map[string]any{},
		},
	}
	docs := map[string]any{"config.yaml": config, "users.yaml": users}
	if len(opt.DebugLoggers) > 0 {
		loggers := map[string]any{}
		for _, name := range opt.DebugLoggers {
			loggers[name] = map[string]any{"level": "DEBUG"}
		}
		docs["logging.yaml"] = map[string]any{"loggers": loggers}
	}
	for name, doc := range docs {
		data, err := yaml.Marshal(doc)
		if err != nil {
			return fmt.Errorf("octoprint %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(s.BaseDir, name), data, 0o600); err != nil {
			return fmt.Errorf("octoprint %s: %w", name, err)
		}
	}
	return nil
}

// merge sets src's values in dst, descending into maps both have.
func merge(dst, src map[string]any) {
	for k, v := range src {
		sub, ok := v.(map[string]any)
		if have, isMap := dst[k].(map[string]any); ok && isMap {
			merge(have, sub)
			continue
		}
		dst[k] = v
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return strings.ToUpper(hex.EncodeToString(b))
}

// passwordHash is passlib's pbkdf2_sha256 form, which OctoPrint verifies:
// $pbkdf2-sha256$ROUNDS$SALT$HASH in passlib's base64 ('.' for '+', no
// padding).
func passwordHash(password string) (string, error) {
	const rounds = 1000 // a test password; speed over strength
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key, err := pbkdf2.Key(sha256.New, password, salt, rounds, 32)
	if err != nil {
		return "", fmt.Errorf("password hash: %w", err)
	}
	ab64 := func(b []byte) string {
		return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(b), "+", ".")
	}
	return fmt.Sprintf("$pbkdf2-sha256$%d$%s$%s", rounds, ab64(salt), ab64(key)), nil
}
