package overlay

import (
	"context"
	"net/http"

	"github.com/pipcam/pipcam/configs"
)

// login opens a passive session for the push socket's auth message.
func (c *apiClient) login(ctx context.Context, key configs.Secret) (*loginReply, error) {
	_, data, err := c.call(ctx, http.MethodPost, "/api/login", []byte(`{"passive":true}`), key)
	if err != nil {
		return nil, err
	}
	r, err := parseLogin(data)
	if err != nil {
		return nil, badReply("POST /api/login", err)
	}
	return r, nil
}

// poll reads /api/job and /api/printer into m.
func (c *apiClient) poll(ctx context.Context, key configs.Secret, m *octoModel) error {
	_, data, err := c.call(ctx, http.MethodGet, "/api/job", nil, key)
	if err != nil {
		return err
	}
	job, err := parseJob(data)
	if err != nil {
		return badReply("GET /api/job", err)
	}
	code, data, err := c.call(ctx, http.MethodGet, "/api/printer?exclude=sd", nil, key, http.StatusConflict)
	if err != nil {
		return err
	}
	var printer *printerReply
	if code != http.StatusConflict { // 409: no printer connected
		if printer, err = parsePrinter(data); err != nil {
			return badReply("GET /api/printer", err)
		}
	}
	m.applyJob(job)
	if err := m.applyPrinter(printer); err != nil {
		return badReply("GET /api/printer", err)
	}
	return nil
}
