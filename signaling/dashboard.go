package signaling

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// dashboardFiles is the dashboard: plain HTML, CSS and JavaScript, no
// build step and nothing from a CDN, so it works on a Pi with no internet.
//
//go:embed dashboard
var dashboardFiles embed.FS

// dashboardCSP allows the page its own files and its own origin only: it
// cannot be framed by another site (the layout buttons carry the token)
// and it talks to no one but pipcam.
const dashboardCSP = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; " +
	"connect-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

func dashboardHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", dashboardCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// Small files that change with the binary: always revalidate.
	h.Set("Cache-Control", "no-cache")
}

// onDashboard serves the page at / (GET / without ?action=).
func (m *mediaHandlers) onDashboard(w http.ResponseWriter, _ *http.Request) {
	page, err := dashboardFiles.ReadFile("dashboard/index.html")
	if err != nil { // cannot happen: it is embedded
		writeTextError(w, http.StatusInternalServerError, "dashboard missing from this build")
		return
	}
	dashboardHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(page)
}

// onAsset serves the dashboard's files under /dashboard/ (files only, no
// directory listings).
func (m *mediaHandlers) onAsset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/dashboard/")
	if name == "" || strings.HasSuffix(name, "/") || name == "index.html" {
		m.s.reject(w, r, writeTextError, http.StatusNotFound, "not found")
		return
	}
	sub, _ := fs.Sub(dashboardFiles, "dashboard")
	if _, err := fs.Stat(sub, name); err != nil {
		m.s.reject(w, r, writeTextError, http.StatusNotFound, "not found")
		return
	}
	dashboardHeaders(w)
	http.ServeFileFS(w, r, sub, name)
}
