package overlay

// Sink is where the overlay is drawn: cmd/pipcam hands in the graph.
type Sink interface {
	// SetText replaces the text; it is at most MaxText bytes of UTF-8 with
	// no control characters but newline.
	SetText(string) error
	// SetProgress sets the progress bar to fraction (0..1); a negative
	// value hides it (no print under way).
	SetProgress(fraction float64) error
}
