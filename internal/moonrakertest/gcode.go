package moonrakertest

import (
	"fmt"
	"strings"
	"time"
)

// StepTime is what one step of GCode takes on this printer: a 100 ms G4
// and a short extrusion (measured; see TestServer).
const StepTime = 100 * time.Millisecond

// Heating targets of GCode, °C.
const (
	ExtruderTarget = 200
	BedTarget      = 60
)

// GCode returns a print whose moving part takes about d: a Cura header
// with the slicer's time estimate and layer count (Moonraker's metadata
// reads them), the bed and extruder heated and waited for (a few seconds
// with the thermal model), an M117 message, then steps of a short
// extrusion and a 100 ms dwell, a new layer (SET_PRINT_STATS_INFO) every
// ten, and the heaters off. Progress rises evenly.
func GCode(d time.Duration) []byte {
	steps := max(int(d/StepTime), 10)
	layers := (steps + 9) / 10
	var b strings.Builder
	fmt.Fprintf(&b, ";Generated with Cura_SteamEngine 5.0.0\n;FLAVOR:Marlin\n;TIME:%d\n;LAYER_COUNT:%d\n", int(d.Seconds()), layers)
	fmt.Fprintf(&b, "M140 S%d\nM104 S%d\nM190 S%d\nM109 S%d\n", BedTarget, ExtruderTarget, BedTarget, ExtruderTarget)
	fmt.Fprintf(&b, "SET_PRINT_STATS_INFO TOTAL_LAYER=%d\nM117 pipcam test print\nG92 E0\n", layers)
	for i := range steps {
		if i%10 == 0 {
			fmt.Fprintf(&b, ";LAYER:%d\nSET_PRINT_STATS_INFO CURRENT_LAYER=%d\n", i/10, i/10+1)
		}
		b.WriteString("G1 E0.1 F600\nG4 P100\n")
	}
	b.WriteString("M104 S0\nM140 S0\n")
	return []byte(b.String())
}
