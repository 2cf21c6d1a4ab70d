package configs

import (
	"strings"
	"testing"
)

// parseErr parses doc as "pipcam.yaml" and returns the error text, "" if none.
func parseErr(t *testing.T, doc string) string {
	t.Helper()
	_, err := Parse([]byte(doc), "pipcam.yaml")
	if err == nil {
		return ""
	}
	return err.Error()
}

// lines joins YAML lines into a document.
func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }
