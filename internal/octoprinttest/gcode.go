package octoprinttest

import (
	"fmt"
	"strings"
	"time"
)

// stepTime is what one dwell step of GCode takes on the virtual printer:
// a 100 ms G4 plus the serial round trips of it and its move (measured).
const stepTime = 103 * time.Millisecond

// GCode returns a print that takes about d on the virtual printer: heater
// targets without waiting for them, then 100 ms dwells with a small move
// each, a new layer every ten (Cura's ;LAYER: comments and a Z move).
// Progress, which OctoPrint counts by file position, rises evenly.
func GCode(d time.Duration) []byte {
	steps := max(int(d/stepTime), 10)
	layers := (steps + 9) / 10
	var b strings.Builder
	fmt.Fprintf(&b, ";FLAVOR:Marlin\n;LAYER_COUNT:%d\nM104 S210\nM140 S60\nG28\nG90\nM83\n", layers)
	for i := range steps {
		if i%10 == 0 {
			fmt.Fprintf(&b, ";LAYER:%d\nG1 Z%.1f F600\n", i/10, 0.2*float64(i/10+1))
		}
		fmt.Fprintf(&b, "G1 X%d Y%d E0.5 F3000\nG4 P100\n", 10+i%2*10, 10+i%2*10)
	}
	b.WriteString("M104 S0\nM140 S0\n")
	return []byte(b.String())
}
