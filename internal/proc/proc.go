// Package proc starts the helper processes tests run (the built daemon,
// haproxy, nginx): killed with the test binary if it dies, and waited for
// in the background so that a test can see one exit early.
package proc

import (
	"os/exec"
	"strings"
	"sync"
	"syscall"
)

// Start starts cmd and returns a channel closed once it has exited.
func Start(cmd *exec.Cmd) (<-chan struct{}, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return exited, nil
}

// Stop kills a process Start started and waits until it has exited.
func Stop(cmd *exec.Cmd, exited <-chan struct{}) {
	_ = cmd.Process.Kill()
	<-exited
}

// Log collects a process's output from both of its pipes; it can be read
// while the process still writes.
type Log struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
