package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/journeys/journeys/internal/redact"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/state"
)

// apiError is an error with its HTTP response: a status, a message and,
// for validation failures, the invalid fields.
type apiError struct {
	status int
	msg    string
	fields []journey.FieldError
	// offset is the byte offset of a JSON syntax error in the body.
	offset *int64
	// authenticate asks for credentials (401).
	authenticate bool
}

// Error implements error.
func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

// errorBody is the JSON body of every error response (docs/design.md §9).
type errorBody struct {
	Message string               `json:"message"`
	Errors  []journey.FieldError `json:"errors"`
	// Offset locates a JSON syntax error in the request body.
	Offset *int64 `json:"offset,omitempty"`
}

// errNotFound reports a missing resource, or one of another organisation.
func errNotFound(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, msg: msg}
}

// errBadRequest reports one invalid request parameter or body field.
func errBadRequest(field, msg string) *apiError {
	return &apiError{
		status: http.StatusBadRequest,
		msg:    "invalid request: " + field + ": " + msg,
		fields: []journey.FieldError{{Field: field, Message: msg}},
	}
}

// fromDecodeError converts the journey decoders' errors to responses. The
// field paths of a body's validation errors are those of the body.
func fromDecodeError(err error) error {
	var se *journey.SyntaxError
	if errors.As(err, &se) {
		return &apiError{status: http.StatusBadRequest, msg: se.Error(), offset: &se.Offset}
	}
	var ve *journey.ValidationError
	if errors.As(err, &ve) {
		return &apiError{status: http.StatusBadRequest, msg: ve.Error(), fields: ve.Errors}
	}
	return err
}

// writeError writes err as a JSON error response. An *apiError carries its
// status; a request the client cancelled gets no answer; anything else is
// an internal failure, logged and answered without its details: 503 when
// the database or the state store is unavailable, 500 otherwise.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			return // the client is gone; nobody reads the answer
		}
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{status: http.StatusInternalServerError, msg: "internal error"}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errUnavailable) || errors.Is(err, state.ErrClosed) {
			ae.status, ae.msg = http.StatusServiceUnavailable, "service unavailable"
		}
	}
	if ae.authenticate {
		w.Header().Set("WWW-Authenticate", `Basic realm="journeys", charset="UTF-8"`)
	}
	writeJSON(w, ae.status, redactedBody(ae))
}

// errUnavailable marks failures of a dependency (database, state store) that
// the client may retry.
var errUnavailable = errors.New("dependency unavailable")

// writeJSON writes v as the JSON response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	// No HTML escaping: the API serves JSON, and error messages quoting
	// a pattern like "(?<=x)" should read as sent.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if err != nil {
		// Every response type here marshals; this is a programming error.
		status = http.StatusInternalServerError
		b = []byte(`{"message":"internal error: cannot encode response","errors":[]}`)
	}
	writeRawJSON(w, status, b)
}

// writeRawJSON writes an already encoded JSON body.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n')) // a write error means the client is gone
}

// redactedBody is the response body of ae with the URLs in its messages
// redacted (internal/redact): a message may quote a callback URL or a
// statement field, credentials included.
func redactedBody(ae *apiError) errorBody {
	body := errorBody{Message: redact.Text(ae.msg), Errors: make([]journey.FieldError, len(ae.fields)), Offset: ae.offset}
	for i, fe := range ae.fields {
		body.Errors[i] = journey.FieldError{Field: fe.Field, Message: redact.Text(fe.Message)}
	}
	return body
}
