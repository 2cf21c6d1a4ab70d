package configs

import "testing"

// A template that does not parse is a config error on its own line.
func TestOverlayTemplateErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // "" = valid
	}{
		{"plain text", lines("overlay:", "  text: pipcam"), ""},
		{"clock", lines("overlay:", "  text: \"{{clock}}\""), ""},
		{"empty", lines("overlay:", "  text: \"\""), ""},
		{"every helper", lines("overlay:", "  text: \"{{clock}}{{decimal 1 .Job.Z}}{{duration .Job.Left}}{{eta .Job.Left}}{{percent .Job.Progress}}{{short 9 .Job.File}}{{temps .Temps}}{{range .Temps}}{{temp .}}{{end}}\""), ""},
		{"unknown helper", lines("overlay:", "  text: \"{{upper .StateText}}\""),
			"pipcam.yaml:2: overlay.text: template line 1: function \"upper\" not defined"},
		{"literal block", lines("layout:", "  size: 0.3", "overlay:", "  text: |", "    {{.StateText}}", "    {{if .Active}}", "    {{percent .Job.Progress}", "    {{end}}"),
			"pipcam.yaml:7: overlay.text: template line 3: bad character U+007D '}'"},
		{"literal block strip", lines("overlay:", "  text: |-", "    ok", "    {{end}}"),
			"pipcam.yaml:4: overlay.text: template line 2: unexpected {{end}}"},
		{"unclosed", lines("overlay:", "  font: Sans 12", "  text: |-", "    a", "    {{if .Active}}b"),
			"pipcam.yaml:5: overlay.text: template line 2: unexpected EOF"},
		// Folded lines do not map to the template's: the key's line.
		{"folded", lines("overlay:", "  text: >", "    a", "    {{end}}"),
			"pipcam.yaml:2: overlay.text: template line 1: unexpected {{end}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantParse(t, tt.doc, tt.want) })
	}
}

// Validate (no file) reports the template's line in the message.
func TestOverlayTemplateValidate(t *testing.T) {
	c := Default()
	c.Overlay.Text = "a\n{{nope}}"
	err := c.Validate()
	if err == nil || err.Error() != `overlay.text: template line 2: function "nope" not defined` {
		t.Errorf("got %v", err)
	}
}

func TestOverlayFuncNamesIsACopy(t *testing.T) {
	n := OverlayFuncNames()
	n[0] = "changed"
	if OverlayFuncNames()[0] == "changed" {
		t.Error("OverlayFuncNames shares its slice")
	}
}
