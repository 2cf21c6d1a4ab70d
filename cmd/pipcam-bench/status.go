package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
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

// waitStatus reads status every 200 ms until ready says yes, and gives up
// after d with the last status read.
func waitStatus[T any](base string, d time.Duration, ready func(T) bool) (T, error) {
	deadline := time.Now().Add(d)
	for {
		st, err := readStatus[T](base)
		if err == nil && ready(st) {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("not ready after %s: %+v (%v)", d, st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
