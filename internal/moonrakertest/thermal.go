package moonrakertest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"
)

// ambient is the room the heaters cool down to, °C.
const ambient = 25.0

// thermalStep is how often the model moves the sensors.
const thermalStep = 100 * time.Millisecond

// thermal is the printer's physics, just enough for Klipper: every step it
// asks Klippy (its API socket, so it runs while Moonraker is down) for the
// heaters' targets and moves each sensor file toward its target, heating
// at a fixed rate and cooling at another. Klippy reads the files once a
// second (temperature_host): in millidegrees, fixed width, overwritten in
// place because Klippy keeps them open.
type thermal struct {
	sock    string
	heaters []*sensor
	mu      sync.Mutex // guards the sensors' temp and pinned
	cancel  context.CancelFunc
	done    chan struct{}
}

// sensor is one heater's sensor file.
type sensor struct {
	object string // Klipper's object: extruder, heater_bed
	file   *os.File
	heat   float64 // °C per second toward a higher target
	cool   float64 // °C per second toward a lower one
	temp   float64
	pinned *float64 // set by Pin: the file says this whatever the target
}

func newSensor(path, object string, heat, cool float64) (*sensor, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sensor file: %w", err)
	}
	s := &sensor{object: object, file: f, heat: heat, cool: cool, temp: ambient}
	if err := s.write(ambient); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *sensor) write(temp float64) error {
	_, err := s.file.WriteAt(fmt.Appendf(nil, "%08d\n", int(max(temp, 0)*1000)), 0)
	return err
}

// step moves the temperature toward target over dt.
func (s *sensor) step(target float64, dt time.Duration) {
	goal := max(target, ambient)
	switch d := goal - s.temp; {
	case d > 0:
		s.temp += min(d, s.heat*dt.Seconds())
	case d < 0:
		s.temp += max(d, -s.cool*dt.Seconds())
	}
}

func startThermal(sock string, heaters []*sensor) *thermal {
	ctx, cancel := context.WithCancel(context.Background())
	m := &thermal{sock: sock, heaters: heaters, cancel: cancel, done: make(chan struct{})}
	go m.run(ctx)
	return m
}

func (m *thermal) run(ctx context.Context) {
	defer close(m.done)
	var klippy *udsClient
	defer func() {
		if klippy != nil {
			klippy.close()
		}
	}()
	t := time.NewTicker(thermalStep)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// By the time passed: a slow answer from Klippy costs ticks.
		now := time.Now()
		dt := now.Sub(last)
		last = now
		targets, err := m.targets(ctx, &klippy)
		if err != nil {
			targets = map[string]float64{} // Klippy restarting: heaters off
		}
		m.mu.Lock()
		for _, s := range m.heaters {
			if s.pinned != nil {
				_ = s.write(*s.pinned)
				continue
			}
			s.step(targets[s.object], dt)
			_ = s.write(s.temp)
		}
		m.mu.Unlock()
	}
}

// targets asks Klippy for every heater's target, (re)connecting as needed.
func (m *thermal) targets(ctx context.Context, klippy **udsClient) (map[string]float64, error) {
	if *klippy == nil {
		c, err := dialUDS(ctx, m.sock)
		if err != nil {
			return nil, err
		}
		*klippy = c
	}
	objects := map[string][]string{}
	for _, s := range m.heaters {
		objects[s.object] = []string{"target"}
	}
	var reply struct {
		Status map[string]struct {
			Target float64 `json:"target"`
		} `json:"status"`
	}
	if err := (*klippy).call("objects/query", map[string]any{"objects": objects}, false, time.Second, &reply); err != nil {
		(*klippy).close()
		*klippy = nil
		return nil, err
	}
	out := map[string]float64{}
	for name, st := range reply.Status {
		out[name] = st.Target
	}
	return out, nil
}

// pin holds object's sensor at temp (nil: back to the model, from temp).
func (m *thermal) pin(object string, temp *float64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.heaters {
		if s.object == object {
			if temp == nil && s.pinned != nil {
				s.temp = ambient
			}
			s.pinned = temp
			return nil
		}
	}
	return fmt.Errorf("no heater %q", object)
}

// cool puts every sensor the model drives at room temperature at once.
func (m *thermal) cool() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.heaters {
		s.temp = ambient
	}
}

// temp is the model's temperature of object now.
func (m *thermal) temp(object string) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.heaters {
		if s.object == object {
			if s.pinned != nil {
				return *s.pinned
			}
			return s.temp
		}
	}
	return 0
}

func (m *thermal) close() {
	m.cancel()
	<-m.done
	for _, s := range m.heaters {
		s.file.Close()
	}
}
