package moonrakertest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// proc is one process of the stack (MCU, Klippy, Moonraker), in its own
// process group, killed with the test binary if that dies, its output
// appended to a log file.
type proc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProc(name, logPath string, env []string, argv ...string) (*proc, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// kill ends the process group with SIGKILL (a crash, as far as clients
// can tell; a stopped one too) and waits for it.
func (p *proc) kill() error {
	if p == nil {
		return nil
	}
	err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		err = nil
	}
	<-p.exited
	return err
}

func (p *proc) signal(sig syscall.Signal) error {
	if p == nil {
		return errors.New("not running")
	}
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}
