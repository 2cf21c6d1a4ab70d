// Package moonrakertest runs a real Klipper and a real Moonraker with no
// printer, for tests and the bench: Klipper's Linux-process MCU (its GPIO
// faked by an LD_PRELOAD shim), Klippy with an extruder and a bed whose
// temperature sensors are files a small thermal model drives, and
// Moonraker 0.11.0, all built once by scripts/moonraker.sh and started on
// loopback with a throwaway data dir. Helpers upload G-code, start, pause,
// resume and cancel prints, trip a Klippy shutdown by overheating, and
// kill, freeze and restart Moonraker.
package moonrakertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Options change how Start runs the stack; the zero value is the usual.
type Options struct {
	// RequireAPIKey makes Moonraker trust no client: every request needs
	// the API key (Server.APIKey). Without it loopback is trusted.
	RequireAPIKey bool
	// ExtruderHeatRate is how fast the extruder heats, °C per second
	// (0: 60, GCode's heating then takes about 3 s); slower makes the
	// heating phase of a print longer.
	ExtruderHeatRate float64
}

// Server is one running Klipper + Moonraker.
type Server struct {
	URL    string // Moonraker, http://127.0.0.1:PORT, no trailing slash
	APIKey string // Moonraker's API key
	Dir    string // the data dir: configs, G-code, logs, sockets

	paths     Paths
	port      int
	mcu       *proc
	klippy    *proc
	moonraker *proc
	thermal   *thermal
	client    *http.Client
}

// Start builds the stack if it is not yet (Install) and starts it,
// returning once Klippy is ready behind Moonraker. ctx bounds the start
// only. An error wrapping ErrNoKlipper means Klipper's source is absent.
func Start(ctx context.Context, opt Options) (*Server, error) {
	paths, err := Install(ctx)
	if err != nil {
		return nil, err
	}
	// Short: unix socket paths must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "moonraker-")
	if err != nil {
		return nil, fmt.Errorf("moonraker data dir: %w", err)
	}
	s := &Server{Dir: dir, paths: paths, client: &http.Client{Timeout: 10 * time.Second}}
	if err := s.start(ctx, opt); err != nil {
		err = fmt.Errorf("%w\n%s", err, s.LogTail(3000))
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, opt Options) error {
	var err error
	if s.port, err = freePort(); err != nil {
		return err
	}
	s.URL = "http://127.0.0.1:" + strconv.Itoa(s.port)
	if err := s.writeConfigs(opt); err != nil {
		return err
	}
	heat := opt.ExtruderHeatRate
	if heat <= 0 {
		heat = 60
	}
	var sensors []*sensor
	for _, h := range []struct {
		object     string
		heat, cool float64
	}{{"extruder", heat, 15}, {"heater_bed", 20, 5}} {
		sn, err := newSensor(s.sensorPath(h.object), h.object, h.heat, h.cool)
		if err != nil {
			return err
		}
		sensors = append(sensors, sn)
	}
	s.thermal = startThermal(s.klippySock(), sensors)

	if s.mcu, err = startProc("MCU", s.logPath("mcu"), []string{"LD_PRELOAD=" + s.paths.GPIOShim},
		s.paths.MCU, "-I", s.pty()); err != nil {
		return err
	}
	if err := waitFile(ctx, s.pty(), s.mcu); err != nil {
		return fmt.Errorf("no pty from the MCU: %w", err)
	}
	if s.klippy, err = startProc("Klippy", s.logPath("klippy-console"), nil, s.paths.KlippyPython,
		filepath.Join(s.paths.Klipper, "klippy", "klippy.py"), s.printerCfg(),
		"-a", s.klippySock(), "-l", s.logPath("klippy")); err != nil {
		return err
	}
	if err := waitFile(ctx, s.klippySock(), s.klippy); err != nil {
		return fmt.Errorf("no API socket from Klippy: %w", err)
	}
	return s.StartMoonraker(ctx)
}

// StartMoonraker starts Moonraker (after KillMoonraker) and waits until
// Klippy is ready behind it.
func (s *Server) StartMoonraker(ctx context.Context) error {
	if s.moonraker != nil && s.moonraker.running() {
		return errors.New("moonraker is running")
	}
	_ = os.Remove(s.moonrakerSock())
	var err error
	if s.moonraker, err = startProc("Moonraker", s.logPath("moonraker-console"), nil, s.paths.Moonraker,
		"-d", s.Dir, "-c", s.moonrakerCfg(), "-l", s.logPath("moonraker")); err != nil {
		return err
	}
	if err := waitFile(ctx, s.moonrakerSock(), s.moonraker); err != nil {
		return fmt.Errorf("no unix socket from Moonraker: %w", err)
	}
	if s.APIKey == "" {
		if s.APIKey, err = s.readAPIKey(ctx); err != nil {
			return err
		}
	}
	return s.WaitKlippy(ctx, "ready")
}

// readAPIKey asks Moonraker's unix socket, which needs no authorization.
func (s *Server) readAPIKey(ctx context.Context) (string, error) {
	c, err := dialListening(ctx, s.moonrakerSock(), s.moonraker)
	if err != nil {
		return "", fmt.Errorf("moonraker unix socket: %w", err)
	}
	defer c.close()
	var key string
	if err := c.call("access.get_api_key", nil, true, 10*time.Second, &key); err != nil {
		return "", fmt.Errorf("moonraker API key: %w", err)
	}
	return key, nil
}

// dialListening dials a unix socket that p has just created. The file
// appears when p binds it and is refused until p listens on it (a CI run
// dialled between the two), so a refusal is tried again while p runs.
func dialListening(ctx context.Context, path string, p *proc) (*udsClient, error) {
	for {
		c, err := dialUDS(ctx, path)
		if !errors.Is(err, syscall.ECONNREFUSED) || !p.running() {
			return c, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// KillMoonraker ends Moonraker with SIGKILL; Klippy keeps running.
func (s *Server) KillMoonraker() error {
	err := s.moonraker.kill()
	s.client.CloseIdleConnections()
	return err
}

// FreezeMoonraker stops Moonraker (SIGSTOP): it keeps its port and
// accepts connections but answers nothing, as a hung server does.
func (s *Server) FreezeMoonraker() error { return s.moonraker.signal(syscall.SIGSTOP) }

// ThawMoonraker resumes a frozen Moonraker.
func (s *Server) ThawMoonraker() error { return s.moonraker.signal(syscall.SIGCONT) }

// Close stops everything and removes the data dir.
func (s *Server) Close() error {
	var errs []error
	for _, p := range []*proc{s.moonraker, s.klippy, s.mcu} {
		errs = append(errs, p.kill())
	}
	if s.thermal != nil {
		s.thermal.close()
	}
	s.client.CloseIdleConnections()
	errs = append(errs, os.RemoveAll(s.Dir))
	return errors.Join(errs...)
}

func (s *Server) logPath(name string) string { return filepath.Join(s.logDir(), name+".log") }

// LogTail returns the last n bytes of Moonraker's and Klippy's logs.
func (s *Server) LogTail(n int) string {
	var out string
	for _, name := range []string{"mcu", "klippy-console", "klippy", "moonraker-console", "moonraker"} {
		data, err := os.ReadFile(s.logPath(name))
		if err != nil || len(data) == 0 {
			continue
		}
		if len(data) > n {
			data = data[len(data)-n:]
		}
		out += "--- " + name + ".log\n" + string(data) + "\n"
	}
	return out
}

// waitFile waits for path to appear while p runs.
func waitFile(ctx context.Context, path string, p *proc) error {
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited", p.name)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
