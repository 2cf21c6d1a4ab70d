package overlay

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/pipcam/pipcam/configs"
)

// objectsQuery is GET /printer/objects/query's query for the objects
// pipcam subscribes to: webhooks=state,state_message&print_stats=...
var objectsQuery = func() string {
	names := make([]string, 0, len(subscribedObjects))
	for name := range subscribedObjects {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + "=" + strings.Join(subscribedObjects[name], ",")
	}
	return strings.Join(parts, "&")
}()

// pollSession asks server.info and the objects every pollInterval.
func (s *moonraker) pollSession(ctx context.Context, key configs.Secret, until time.Time) (bool, error) {
	return s.pollEvery(ctx, until,
		func() error { return s.poll(ctx, key) },
		func() { s.publish(configs.TransportPoll) })
}

// poll reads Klippy's state, its objects when it can answer, and the
// file's metadata once, into the model.
func (s *moonraker) poll(ctx context.Context, key configs.Secret) error {
	var info serverInfo
	if _, err := s.get(ctx, key, "/server/info", &info); err != nil {
		return err
	}
	s.model.setInfo(info)
	if canAnswer(info) {
		var res objectsResult
		code, err := s.get(ctx, key, "/printer/objects/query?"+objectsQuery, &res, http.StatusServiceUnavailable)
		switch {
		case err != nil:
			return err
		case code == http.StatusServiceUnavailable: // Klippy went away since
			s.model.klippyLost()
		default:
			if err := s.model.setObjects(res.Status); err != nil {
				return badReply("GET /printer/objects/query", err)
			}
		}
	}
	if !s.model.wantsMetadata() {
		return nil
	}
	file := s.model.file()
	meta := new(fileMetadata)
	code, err := s.get(ctx, key, "/server/files/metadata?filename="+url.QueryEscape(file), meta, http.StatusNotFound)
	if err != nil {
		return err
	}
	if code == http.StatusNotFound {
		meta = nil
	}
	s.model.setMetadata(file, meta)
	return nil
}

// get makes one GET and decodes the reply's result into out; a status in
// accept returns with out untouched.
func (s *moonraker) get(ctx context.Context, key configs.Secret, path string, out any, accept ...int) (int, error) {
	what := "GET " + strings.SplitN(path, "?", 2)[0]
	code, data, err := s.client.call(ctx, http.MethodGet, path, nil, key, accept...)
	if err != nil {
		return code, err
	}
	for _, a := range accept {
		if code == a {
			return code, nil
		}
	}
	res, err := httpResult(what, data)
	if err == nil {
		err = json.Unmarshal(res, out)
	}
	if err != nil {
		return code, badReply(what, err)
	}
	return code, nil
}
