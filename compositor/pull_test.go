package compositor

import "testing"

// While nobody needs the pictures as they come, the pull loop takes them
// in batches; a Prompt holder, or a prompt subscription, gets each as it
// is made; released, the batches come back.
func TestPicturesComeInBatchesUntilSomebodyIsPrompt(t *testing.T) {
	g := startGraph(t, testConfig())
	aus, cancel := g.SubscribeBatched(64)
	defer cancel()
	// perWake is the pictures the pull loop published per wake-up that
	// found any, while 30 reach the subscriber.
	perWake := func() float64 {
		t.Helper()
		nextAUs(t, aus, 2)
		a0, d0 := g.aus.Load(), g.drains.Load()
		nextAUs(t, aus, 30)
		return float64(g.aus.Load()-a0) / float64(max(g.drains.Load()-d0, 1))
	}
	batched := func(when string) {
		t.Helper()
		if got := perWake(); got < 3 {
			t.Errorf("%s: %.1f pictures per wake-up, want batches (at least 3)", when, got)
		}
	}
	prompt := func(when string) {
		t.Helper()
		if got := perWake(); got > 1.5 {
			t.Errorf("%s: %.1f pictures per wake-up, want about 1", when, got)
		}
	}
	batched("nobody prompt")
	release := g.Prompt()
	prompt("Prompt held")
	release()
	batched("Prompt released")
	_, unsubscribe := g.Subscribe(4)
	prompt("a prompt subscription")
	unsubscribe()
	batched("the prompt subscription ended")
	// The ring holds what the slow drains leave between them.
	if lost := g.Status().(Status).LostBeforePull; lost != 0 {
		t.Errorf("status: %d pictures lost before the pull loop took them, want none", lost)
	}
}
