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
	b, err := readAll(http.MaxBytesReader(w, r.Body, limit), r.ContentLength)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, msg: "cannot read the request body: " + err.Error()}
	}
	return b, nil
}

// presizeMax bounds the buffer readAll allocates before any byte arrives:
// a client that declares a large body and sends nothing holds no more.
const presizeMax = 256 << 10

// readAll reads r to its end into a buffer sized by the declared length
// (negative when unknown), so a body of known length up to presizeMax is
// read with one allocation and no copy; io.ReadAll grows its buffer step by
// step and copies the body into a final one. The declared length only sizes
// the buffer: the body read is what counts, shorter or longer.
func readAll(r io.Reader, declared int64) ([]byte, error) {
	if declared < 0 {
		return io.ReadAll(r)
	}
	// One byte more than declared, so the read that finds the end needs
	// no growth.
	b := make([]byte, 0, min(declared, presizeMax)+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
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
