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

// wantParse checks that doc parses ("" want) or fails with an error
// containing want.
func wantParse(t *testing.T, doc, want string) {
	t.Helper()
	got := parseErr(t, doc)
	switch {
	case want == "" && got != "":
		t.Errorf("want no error, got:\n%s", got)
	case want != "" && !strings.Contains(got, want):
		t.Errorf("want error containing\n  %s\ngot:\n  %s", want, got)
	}
}
