package configs

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// PrinterAPIKeyEnv is the environment variable that can hold the printer's
// API key, so that it need not sit in the YAML (systemd: Environment= or
// EnvironmentFile=).
const PrinterAPIKeyEnv = "PIPCAM_PRINTER_API_KEY"

// maxAPIKeyFile bounds api_key_file: a key is a few dozen bytes.
const maxAPIKeyFile = 4096

func (p Printer) problems() []*FieldError {
	var errs []*FieldError
	if err := p.Type.check(); err != nil {
		errs = append(errs, &FieldError{Field: "type", Err: err})
	}
	if err := p.Transport.check(); err != nil {
		errs = append(errs, &FieldError{Field: "transport", Err: err})
	}
	switch {
	case p.URL == "" && p.Type != PrinterNone:
		errs = append(errs, fieldErrorf("url", "required for printer type %s", p.Type))
	case p.URL != "":
		if err := checkPrinterURL(p.URL); err != nil {
			errs = append(errs, &FieldError{Field: "url", Err: err})
		}
	}
	if p.APIKey != "" {
		if err := checkAPIKey(p.APIKey.Reveal()); err != nil {
			errs = append(errs, &FieldError{Field: "api_key", Err: err})
		}
		if p.APIKeyFile != "" {
			errs = append(errs, fieldErrorf("api_key_file", "give api_key or api_key_file, not both"))
		}
	}
	if p.APIKeyFile != "" {
		if err := checkKeyFile(p.APIKeyFile); err != nil {
			errs = append(errs, &FieldError{Field: "api_key_file", Err: err})
		}
	}
	return errs
}

// checkPrinterURL wants http(s)://host[:port][/prefix]. Credentials in the
// URL are refused: URLs appear in logs and errors, the key has its own
// setting.
func checkPrinterURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL such as http://127.0.0.1:5000")
	}
	if u.User != nil {
		return errors.New("must not contain a user or password (they would show in logs); use api_key")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%q names no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return fmt.Errorf("%q must not have a query or fragment", raw)
	}
	return nil
}

// checkAPIKey keeps the key fit for an HTTP header. The message never
// quotes the key.
func checkAPIKey(k string) error {
	if len(k) > 256 {
		return fmt.Errorf("too long: %d bytes, at most 256", len(k))
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return errors.New("must be printable ASCII without spaces")
		}
	}
	return nil
}

func checkKeyFile(path string) error {
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%q must be an absolute path", path)
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once
		}
		return fmt.Errorf("%s: %w", path, err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	case fi.Size() > maxAPIKeyFile:
		return fmt.Errorf("%s is %d bytes; a key file holds only the key", path, fi.Size())
	}
	return nil
}

// ResolveAPIKey returns the API key: api_key if set, else the contents of
// api_key_file (surrounding white space removed), else the environment
// variable PrinterAPIKeyEnv, looked up with getenv (os.Getenv in the
// daemon). It reads the file on every call, so a rotated key is picked up
// on the next connect. ("", nil) means no key is given anywhere.
func (p Printer) ResolveAPIKey(getenv func(string) string) (Secret, error) {
	if p.APIKey != "" {
		return p.APIKey, nil
	}
	if p.APIKeyFile != "" {
		if err := checkKeyFile(p.APIKeyFile); err != nil {
			return "", fmt.Errorf("printer.api_key_file: %w", err)
		}
		data, err := os.ReadFile(p.APIKeyFile)
		if err != nil {
			return "", fmt.Errorf("printer.api_key_file: %w", err)
		}
		key := strings.TrimSpace(string(data))
		if err := checkAPIKey(key); err != nil {
			return "", fmt.Errorf("printer.api_key_file %s: %w", p.APIKeyFile, err)
		}
		return Secret(key), nil
	}
	key := strings.TrimSpace(getenv(PrinterAPIKeyEnv))
	if err := checkAPIKey(key); err != nil {
		return "", fmt.Errorf("$%s: %w", PrinterAPIKeyEnv, err)
	}
	return Secret(key), nil
}
