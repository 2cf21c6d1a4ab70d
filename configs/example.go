package configs

import _ "embed"

// Example is the commented example configuration (configs/pipcam.yaml),
// which `pipcam check-config` can print and the .deb installs. A test
// keeps it equal to Default().
//
//go:embed pipcam.yaml
var Example []byte
