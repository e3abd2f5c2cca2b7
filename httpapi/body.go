package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// readJSONBody returns the request body after checking that it is JSON
// (415 otherwise) and within the size limit (413 otherwise).
func (s *server) readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	limit := s.cfg.MaxBody
	tooLarge := &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("the request body exceeds %d bytes", limit)}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, msg: "cannot read the request body: " + err.Error()}
	}
	return b, nil
}

// checkJSONContentType accepts application/json and the +json media types
// (application/merge-patch+json, …), with any parameters.
func checkJSONContentType(ct string) error {
	unsupported := &apiError{status: http.StatusUnsupportedMediaType, msg: "the request body must be JSON (Content-Type: application/json)"}
	if ct == "" {
		return unsupported
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return unsupported
	}
	if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return unsupported
	}
	return nil
}
