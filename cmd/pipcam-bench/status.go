package main

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// readStatus decodes the daemon's /api/status at base into a T holding the
// fields a section reads.
func readStatus[T any](base string) (T, error) {
	var st T
	resp, err := http.Get(base + "/api/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("status: %w", err)
	}
	return st, nil
}
