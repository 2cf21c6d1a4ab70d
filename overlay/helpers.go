package overlay

import (
	"fmt"
	"math"
	"path"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// unknown is what a helper prints for a value the printer did not report.
const unknown = "?"

// funcs are the template helpers; configs.OverlayFuncNames lists the same
// names (a test keeps them equal). now is the clock, so tests can fix it.
func funcs(now func() time.Time) template.FuncMap {
	return template.FuncMap{
		"clock":    func(layout ...string) string { return clock(now(), layout...) },
		"decimal":  decimal,
		"duration": duration,
		"eta":      func(left any) string { return eta(now(), left) },
		"percent":  percent,
		"short":    short,
		"temp":     temp,
		"temps":    temps,
	}
}

// deref follows pointers; ok is false for nil (an unknown value).
func deref(v any) (reflect.Value, bool) {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return rv, false
		}
		rv = rv.Elem()
	}
	return rv, rv.IsValid()
}

// asFloat accepts any number, or a pointer to one.
func asFloat(v any) (float64, bool) {
	rv, ok := deref(v)
	if !ok {
		return 0, false
	}
	switch {
	case rv.CanFloat():
		f := rv.Float()
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	case rv.CanInt():
		return float64(rv.Int()), true
	case rv.CanUint():
		return float64(rv.Uint()), true
	}
	return 0, false
}

// asDuration accepts a time.Duration (or pointer), or a number of seconds.
func asDuration(v any) (time.Duration, bool) {
	rv, ok := deref(v)
	if !ok {
		return 0, false
	}
	if d, isDur := rv.Interface().(time.Duration); isDur {
		return d, true
	}
	s, ok := asFloat(rv.Interface())
	if !ok || math.Abs(s) > 1e9 {
		return 0, false
	}
	return time.Duration(s * float64(time.Second)), true
}

// duration: 1h05m, 12m, 3m20s (under ten minutes), 45s. Rounded to the
// unit shown; negative is 0s.
func duration(v any) string {
	d, ok := asDuration(v)
	if !ok {
		return unknown
	}
	d = max(d, 0)
	switch {
	case d >= time.Hour-30*time.Second:
		m := int64(d.Round(time.Minute) / time.Minute)
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	case d >= 10*time.Minute-500*time.Millisecond:
		return fmt.Sprintf("%dm", int64(d.Round(time.Minute)/time.Minute))
	case d >= time.Minute-500*time.Millisecond:
		s := int64(d.Round(time.Second) / time.Second)
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%ds", int64(d.Round(time.Second)/time.Second))
}

// percent: 42%. Rounded down and held within 0-100, so a print shows 100%
// only once it is done.
func percent(v any) string {
	p, ok := asFloat(v)
	if !ok {
		return unknown
	}
	return strconv.Itoa(int(math.Floor(min(max(p, 0), 100)))) + "%"
}

// decimal prints a number with n decimals: {{decimal 2 .Job.Z}}.
func decimal(n int, v any) string {
	f, ok := asFloat(v)
	if !ok {
		return unknown
	}
	return strconv.FormatFloat(f, 'f', min(max(n, 0), 6), 64)
}

// temp: 210/210°C, or 25°C when the heater is off or has no target.
func temp(t Temp) string {
	a, ok := asFloat(t.Actual)
	if !ok {
		return unknown + "°C"
	}
	if target, ok := asFloat(t.Target); ok && target > 0 {
		return fmt.Sprintf("%.0f/%.0f°C", a, target)
	}
	return fmt.Sprintf("%.0f°C", a)
}

// temps: "E 210/210°C B 60/60°C"; heaters with no reading are left out.
func temps(ts []Temp) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		if t.Actual != nil {
			parts = append(parts, t.Name+" "+temp(t))
		}
	}
	return strings.Join(parts, " ")
}

// clock is the time of day, 15:04 unless a Go layout is given.
func clock(now time.Time, layout ...string) string {
	if len(layout) > 0 && layout[0] != "" {
		return now.Format(layout[0])
	}
	return now.Format("15:04")
}

// eta is the time of day the print should end: now plus the time left.
func eta(now time.Time, left any) string {
	d, ok := asDuration(left)
	if !ok {
		return unknown
	}
	return clock(now.Add(max(d, 0)).Round(time.Minute))
}

// ellipsis marks where short cut a name.
const ellipsis = "…"

// short cuts s to at most n characters (runes) with an ellipsis in the
// middle, keeping the extension: "benchy_…_v2.gcode". Pipe-friendly:
// {{.Job.File | short 24}}.
func short(n int, s string) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	ext := path.Ext(s)
	if e := utf8.RuneCountInString(ext); e > 8 || e == utf8.RuneCountInString(s) || e+3 > n {
		ext = "" // no extension, a silly one, or no room for it
	}
	base := []rune(strings.TrimSuffix(s, ext))
	room := n - utf8.RuneCountInString(ext) - 1 // one rune for the ellipsis
	if room <= 0 {
		return string(base[:n])
	}
	head := (room + 1) / 2
	tail := room - head
	return string(base[:head]) + ellipsis + string(base[len(base)-tail:]) + ext
}
