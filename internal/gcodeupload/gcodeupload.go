// Package gcodeupload builds the multipart POST that OctoPrint and
// Moonraker both take for a G-code upload (one form file named "file"),
// for the test servers that drive them.
package gcodeupload

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
)

// NewRequest is a POST to url carrying gcode as the form file "file"
// named name.
func NewRequest(ctx context.Context, url, name string, gcode []byte) (*http.Request, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", name)
	if err == nil {
		_, err = part.Write(gcode)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return req, nil
}
