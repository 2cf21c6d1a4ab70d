package recordings

import (
	"path"
	"regexp"
	"strings"
	"time"
)

// timeLayout starts every name: sorting names sorts by start time, and
// the name says when the print started without reading the file.
const timeLayout = "2006-01-02_15-04-05"

// maxStem bounds the G-code part of a name.
const maxStem = 80

var (
	unsafeRun = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	nameRE    = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{2}-[0-9]{2}-[0-9]{2}_[A-Za-z0-9._-]{1,90}\.mp4$`)
)

// FileName is the recording's name for a print of gcode (OctoPrint's file
// name, perhaps with a folder) started at at, in local time:
// 2024-05-01_14-03-09_benchy.mp4. Only A-Z, a-z, 0-9, '.', '_' and '-'
// are kept, so a name is safe in a path, a URL and a shell.
func FileName(gcode string, at time.Time) string {
	return at.Local().Format(timeLayout) + "_" + stem(gcode) + Ext
}

// stem is the G-code file's name without folder and extension, made safe.
func stem(gcode string) string {
	s := path.Base(strings.ReplaceAll(gcode, `\`, "/"))
	for _, ext := range []string{".gcode", ".gco", ".g", ".bgcode"} {
		if len(s) > len(ext) && strings.EqualFold(s[len(s)-len(ext):], ext) {
			s = s[:len(s)-len(ext)]
			break
		}
	}
	s = strings.Trim(unsafeRun.ReplaceAllString(s, "_"), "._-")
	if len(s) > maxStem {
		s = strings.TrimRight(s[:maxStem], "._-")
	}
	if s == "" {
		return "print"
	}
	return s
}

// parseName reports whether name is a recording's and when it started.
func parseName(name string) (time.Time, bool) {
	if !nameRE.MatchString(name) {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(timeLayout, name[:len(timeLayout)], time.Local)
	return t, err == nil
}
