package moonrakertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MaxExtruderTemp and MaxBedTemp are the printer's limits: a sensor beyond
// them shuts Klippy down (see Overheat).
const (
	MaxExtruderTemp = 280
	MaxBedTemp      = 130
)

// printerConfig is Klipper's printer.cfg: no kinematics (no axes to home),
// an extruder and a bed whose sensors are the thermal model's files, and
// what Moonraker's print API needs (virtual_sdcard, pause_resume,
// display_status), with CANCEL_PRINT turning the heaters off as the usual
// client macros do. Pins are lines of the shim's fake GPIO chip. The
// extruder's rotation_distance is so long that a test print never makes a
// step: the host MCU is no real-time process, and on a busy machine a
// step scheduled late shuts Klippy down ("Stepper too far in past"); the
// extrusion still counts (print_stats' print time starts with it).
const printerConfig = `[mcu]
serial: {{.pty}}

[printer]
kinematics: none
max_velocity: 1000
max_accel: 10000

[extruder]
step_pin: gpio0
dir_pin: gpio1
enable_pin: !gpio2
microsteps: 16
rotation_distance: 100000
nozzle_diameter: 0.400
filament_diameter: 1.750
max_extrude_only_distance: 1000
heater_pin: gpio3
sensor_type: temperature_host
sensor_path: {{.extruder}}
control: watermark
min_temp: 0
max_temp: {{.maxExtruder}}
min_extrude_temp: 0

[heater_bed]
heater_pin: gpio4
sensor_type: temperature_host
sensor_path: {{.bed}}
control: watermark
min_temp: 0
max_temp: {{.maxBed}}

# Cool drops the sensors to room temperature at once, which the heater
# checks would take for a failing heater.
[verify_heater extruder]
max_error: 100000
check_gain_time: 600

[verify_heater heater_bed]
max_error: 100000
check_gain_time: 600

[virtual_sdcard]
path: {{.gcodes}}

[display_status]

[pause_resume]

[gcode_macro CANCEL_PRINT]
rename_existing: CANCEL_PRINT_BASE
gcode:
  TURN_OFF_HEATERS
  CANCEL_PRINT_BASE
`

// moonrakerConfig is moonraker.conf. Without RequireAPIKey, loopback is a
// trusted client (as on a Pi running Mainsail); with it, every request
// needs the API key.
const moonrakerConfig = `[server]
host: 127.0.0.1
port: {{.port}}
klippy_uds_address: {{.klippySock}}

[machine]
provider: none

[authorization]
{{.trusted}}
`

// writeConfigs writes both files into s.dir.
func (s *Server) writeConfigs(opt Options) error {
	for _, d := range []string{s.gcodes(), s.configDir(), s.logDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("moonraker data dir: %w", err)
		}
	}
	trusted := "trusted_clients:\n  127.0.0.0/8"
	if opt.RequireAPIKey {
		trusted = ""
	}
	files := map[string]string{
		s.printerCfg(): fill(printerConfig, map[string]any{
			"pty": s.pty(), "extruder": s.sensorPath("extruder"), "bed": s.sensorPath("heater_bed"),
			"maxExtruder": MaxExtruderTemp, "maxBed": MaxBedTemp, "gcodes": s.gcodes(),
		}),
		s.moonrakerCfg(): fill(moonrakerConfig, map[string]any{
			"port": s.port, "klippySock": s.klippySock(), "trusted": trusted,
		}),
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Base(path), err)
		}
	}
	return nil
}

// fill replaces {{.name}} with its value (the configs are not Go
// templates' business: Klipper's own use {% %}).
func fill(text string, vals map[string]any) string {
	for k, v := range vals {
		text = strings.ReplaceAll(text, "{{."+k+"}}", fmt.Sprint(v))
	}
	return text
}

// The data dir's layout: Moonraker's (config, gcodes, logs, comms,
// database) plus the MCU's pty, Klippy's socket and the sensor files.
func (s *Server) configDir() string          { return filepath.Join(s.Dir, "config") }
func (s *Server) gcodes() string             { return filepath.Join(s.Dir, "gcodes") }
func (s *Server) logDir() string             { return filepath.Join(s.Dir, "logs") }
func (s *Server) printerCfg() string         { return filepath.Join(s.configDir(), "printer.cfg") }
func (s *Server) moonrakerCfg() string       { return filepath.Join(s.configDir(), "moonraker.conf") }
func (s *Server) pty() string                { return filepath.Join(s.Dir, "mcu-pty") }
func (s *Server) klippySock() string         { return filepath.Join(s.Dir, "klippy.sock") }
func (s *Server) moonrakerSock() string      { return filepath.Join(s.Dir, "comms", "moonraker.sock") }
func (s *Server) sensorPath(o string) string { return filepath.Join(s.Dir, o+".temp") }
