package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds what Parse reads; a real config is a few KiB.
const maxFileSize = 1 << 20

// Load reads and parses a config file (see Parse).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(data, path)
}

// Parse reads a YAML config onto Default(): settings the file leaves out
// keep their defaults, except that a cameras list replaces the default
// list (each camera filling its own unset fields) and layout.main/inset
// follow the cameras given unless set. Unknown keys and wrong types are
// errors, then Validate runs. Every problem is reported, each as a
// *FieldError "file:line: field: reason", joined with errors.Join. file
// only labels messages ("<config>" when empty). Empty input means defaults.
func Parse(data []byte, file string) (*Config, error) {
	if file == "" {
		file = "<config>"
	}
	cfg := Default()
	root, ferr := parseDocument(data)
	if ferr != nil {
		ferr.File = file
		return nil, joinFieldErrors([]*FieldError{ferr})
	}
	d := newDecoder()
	if root != nil {
		d.decode(root, reflect.ValueOf(cfg).Elem(), "", 0)
	}
	for i := range cfg.Cameras {
		cfg.Cameras[i].fillDefaults()
	}
	for i := range cfg.Push.Destinations {
		cfg.Push.Destinations[i].fillDefaults()
	}
	deriveLayout(cfg, d.lines)
	derivePrinterURL(cfg, d.lines)

	errs := d.errs
	for _, e := range cfg.problems() {
		if !shadowed(e.Field, d.failed) {
			e.Line = d.lines.lookup(e.Field)
			if l := templateLine(root, e); l > 0 {
				e.Line = l
			}
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		for _, e := range errs {
			e.File = file
		}
		return nil, joinFieldErrors(errs)
	}
	return cfg, nil
}

// parseDocument returns the root node of the one YAML document in data,
// nil when there is none.
func parseDocument(data []byte) (*yaml.Node, *FieldError) {
	if len(data) > maxFileSize {
		return nil, &FieldError{Err: fmt.Errorf("file is %d bytes; a config is at most %d", len(data), maxFileSize)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, syntaxError(err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, &FieldError{Line: next.Line, Err: errors.New("a second YAML document (---); pipcam reads one")}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// syntaxError turns yaml.v3's "yaml: line 5: did not find expected key"
// into a FieldError on line 5.
func syntaxError(err error) *FieldError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	fe := &FieldError{Err: fmt.Errorf("invalid YAML: %s", msg)}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, reason, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(num); err == nil {
				fe.Line, fe.Err = line, fmt.Errorf("invalid YAML: %s", reason)
			}
		}
	}
	return fe
}

// shadowed reports whether a validation error at path is likely a
// consequence of a value that failed to decode and so kept its default
// (e.g. "device: only for v4l2 cameras" after "type: v4l3" was refused);
// such errors are left out rather than piled on. The rules follow the
// cross-field checks in Validate.
func shadowed(path string, failed []string) bool {
	for _, f := range failed {
		switch {
		case within(path, f):
		case strings.HasSuffix(f, ".type") && within(path, parentPath(f)):
		case within(f, "cameras") && (path == "layout.main" || path == "layout.inset"):
		case f == "layout.mode" && path == "layout.inset":
		case within(f, "http") && path == "flv.listen":
		case strings.HasPrefix(f, "webrtc.ice_servers[") && strings.Contains(f, ".urls") &&
			within(path, f[:strings.Index(f, ".urls")]):
		default:
			continue
		}
		return true
	}
	return false
}

// within reports whether path is root or inside it.
func within(path, root string) bool {
	return root == "" || path == root || strings.HasPrefix(path, root+".") || strings.HasPrefix(path, root+"[")
}
