package compositor

import (
	"runtime"

	"github.com/go-gst/go-gst/gst"
)

// stopPipeline sets p to NULL and keeps its Go wrapper reachable until
// that has returned. go-gst drops a pipeline's last reference from the
// wrapper's finalizer, and a wrapper whose last use is the call itself
// may be collected while the call still runs: the pipeline was disposed
// halfway to NULL and the process crashed (CI, TestRotateFlipCrop's
// cleanup: "Trying to dispose element pipeline38, but it is in PAUSED",
// then SIGSEGV in gst_element_set_state).
func stopPipeline(p *gst.Pipeline) {
	_ = p.SetState(gst.StateNull)
	runtime.KeepAlive(p)
}
