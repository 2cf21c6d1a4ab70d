package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

var (
	icePortMu  sync.Mutex
	icePortFor = map[string]string{}
)

// freeICEPort is the setting that gives a daemon a free ICE port, so that
// two daemons (the fixed section's, or one beside an installed pipcam)
// do not both want 8189; "" for a binary from before webrtc.ice_port, or
// when -yaml sets webrtc itself.
func freeICEPort(bin, yaml string) string {
	const setting = "webrtc:\n  ice_port: 0\n"
	if strings.Contains(yaml, "webrtc:") {
		return ""
	}
	icePortMu.Lock()
	defer icePortMu.Unlock()
	if s, ok := icePortFor[bin]; ok {
		return s
	}
	s := ""
	if dir, err := os.MkdirTemp("", "pipcam-bench-ice"); err == nil {
		cfg := filepath.Join(dir, "pipcam.yaml")
		if os.WriteFile(cfg, []byte(setting), 0o600) == nil && exec.Command(bin, "check-config", "-config", cfg).Run() == nil {
			s = setting
		}
		os.RemoveAll(dir)
	}
	icePortFor[bin] = s
	return s
}
