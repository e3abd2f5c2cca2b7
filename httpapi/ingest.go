package httpapi

import (
	"errors"
	"net/http"

	"github.com/journeys/journeys/processor/journey"
)

// XAPIVersion is the xAPI version the statement route reports in the
// X-Experience-API-Version header.
const XAPIVersion = "1.0.3"

// Config.Ingest reports a statement request it rejects with an error that
// errors.As finds to be one of the following; any other error is a server
// failure (500):
//   - *journey.SyntaxError, or an error with an Offset() int64 method: the
//     body is not valid JSON (400, with the offset);
//   - *journey.ValidationError, or an error with a
//     FieldErrors() []journey.FieldError method: invalid statements (400,
//     listing each field, e.g. "[2].actor.mbox");
//   - an error with a Conflict() bool method returning true: a statement id
//     already stored with other content (409);
//   - an error with a BadRequest() bool method returning true: any other
//     invalid request (400, with the error's message).
type (
	offsetError interface {
		error
		Offset() int64
	}
	fieldErrors interface {
		error
		FieldErrors() []journey.FieldError
	}
	conflictError interface {
		error
		Conflict() bool
	}
	badRequestError interface {
		error
		BadRequest() bool
	}
)

// ingestError maps an error of Config.Ingest to a response.
func ingestError(err error) error {
	if e := fromDecodeError(err); e != err {
		return e
	}
	if oe, ok := errors.AsType[offsetError](err); ok {
		off := oe.Offset()
		return &apiError{status: http.StatusBadRequest, msg: err.Error(), offset: &off}
	}
	if fe, ok := errors.AsType[fieldErrors](err); ok {
		return &apiError{status: http.StatusBadRequest, msg: err.Error(), fields: fe.FieldErrors()}
	}
	if ce, ok := errors.AsType[conflictError](err); ok && ce.Conflict() {
		return &apiError{status: http.StatusConflict, msg: err.Error()}
	}
	if be, ok := errors.AsType[badRequestError](err); ok && be.BadRequest() {
		return &apiError{status: http.StatusBadRequest, msg: err.Error()}
	}
	return err
}

// ingest serves POST /data/xAPI/statements: one statement or an array,
// answered like an LRS with the JSON array of the stored statement ids.
func (s *server) ingest(w http.ResponseWriter, r *http.Request, rq *request) error {
	w.Header().Set("X-Experience-API-Version", XAPIVersion)
	body, err := s.readJSONBody(w, r)
	if err != nil {
		return err
	}
	ids, err := s.cfg.Ingest(r.Context(), *rq.p, body)
	if err != nil {
		return ingestError(err)
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, ids)
	return nil
}
