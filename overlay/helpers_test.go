package overlay

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func ptr[T any](v T) *T { return &v }

func TestDuration(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{(*time.Duration)(nil), "?"},
		{nil, "?"},
		{"soon", "?"},
		{time.Duration(0), "0s"},
		{-5 * time.Second, "0s"},
		{45 * time.Second, "45s"},
		{59*time.Second + 600*time.Millisecond, "1m00s"},
		{3*time.Minute + 20*time.Second, "3m20s"},
		{9*time.Minute + 59*time.Second + 600*time.Millisecond, "10m"},
		{12*time.Minute + 29*time.Second, "12m"},
		{59*time.Minute + 40*time.Second, "1h00m"},
		{ptr(72 * time.Minute), "1h12m"},
		{time.Hour + 5*time.Minute + 29*time.Second, "1h05m"},
		{26 * time.Hour, "26h00m"},
		{4320.0, "1h12m"}, // seconds, as OctoPrint gives them
		{ptr(90), "1m30s"},
		{1e12, "?"},
	}
	for _, tt := range tests {
		if got := duration(tt.in); got != tt.want {
			t.Errorf("duration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{(*float64)(nil), "?"},
		{ptr(0.0), "0%"},
		{ptr(41.99), "41%"},
		{ptr(99.9), "99%"}, // 100% only once done
		{100.0, "100%"},
		{120.0, "100%"},
		{-3.0, "0%"},
		{42, "42%"},
		{"42", "?"},
	}
	for _, tt := range tests {
		if got := percent(tt.in); got != tt.want {
			t.Errorf("percent(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTemp(t *testing.T) {
	tests := []struct {
		in   Temp
		want string
	}{
		{Temp{Name: "E", Actual: ptr(209.6), Target: ptr(210.0)}, "210/210°C"},
		{Temp{Name: "E", Actual: ptr(24.6)}, "25°C"},                     // no target
		{Temp{Name: "E", Actual: ptr(150.2), Target: ptr(0.0)}, "150°C"}, // heater off
		{Temp{Name: "E", Target: ptr(210.0)}, "?°C"},                     // no reading
	}
	for _, tt := range tests {
		if got := temp(tt.in); got != tt.want {
			t.Errorf("temp(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	all := []Temp{
		{Name: "E0", Actual: ptr(210.0), Target: ptr(210.0)},
		{Name: "E1", Actual: nil},
		{Name: "B", Actual: ptr(60.0), Target: ptr(60.0)},
	}
	if got := temps(all); got != "E0 210/210°C B 60/60°C" {
		t.Errorf("temps = %q", got)
	}
	if got := temps(nil); got != "" {
		t.Errorf("temps(nil) = %q", got)
	}
}

func TestShort(t *testing.T) {
	long := strings.Repeat("benchy_", 28) + "v2.gcode" // 204 characters
	tests := []struct {
		n    int
		in   string
		want string
	}{
		{32, "benchy.gcode", "benchy.gcode"},
		{12, "benchy.gcode", "benchy.gcode"},
		{11, "benchy.gcode", "be…hy.gcode"},
		{20, long, "benchy_…chy_v2.gcode"},
		{10, "no_extension_here", "no_ex…here"},
		{8, "a.verylongextension", "a.ve…ion"}, // an extension over 8 is cut like the rest
		{6, "model.gcode", "mod…de"},           // no room for the extension
		{1, "model.gcode", "m"},
		{0, "model.gcode", ""},
		{12, "Würfelturm_größer.gcode", "Wür…er.gcode"},
		{7, "日本語のファイル名.gcode", "日本語…ode"},
	}
	for _, tt := range tests {
		got := short(tt.n, tt.in)
		if got != tt.want {
			t.Errorf("short(%d, %q) = %q, want %q", tt.n, tt.in, got, tt.want)
		}
		if n := utf8.RuneCountInString(got); n > max(tt.n, 0) || !utf8.ValidString(got) {
			t.Errorf("short(%d, %q) = %q: %d runes", tt.n, tt.in, got, n)
		}
	}
}

func TestClockHelpers(t *testing.T) {
	now := time.Date(2026, 3, 1, 14, 7, 42, 0, time.UTC)
	f := funcs(func() time.Time { return now })
	clockFn := f["clock"].(func(...string) string)
	etaFn := f["eta"].(func(any) string)
	if got := clockFn(); got != "14:07" {
		t.Errorf("clock = %q", got)
	}
	if got := clockFn("15:04:05"); got != "14:07:42" {
		t.Errorf("clock layout = %q", got)
	}
	if got := etaFn(ptr(72 * time.Minute)); got != "15:20" {
		t.Errorf("eta = %q", got)
	}
	if got := etaFn((*time.Duration)(nil)); got != "?" {
		t.Errorf("eta unknown = %q", got)
	}
	if got := decimal(2, ptr(0.6)); got != "0.60" {
		t.Errorf("decimal = %q", got)
	}
	if got := decimal(1, (*float64)(nil)); got != "?" {
		t.Errorf("decimal unknown = %q", got)
	}
}
