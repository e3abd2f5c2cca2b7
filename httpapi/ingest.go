package httpapi

import (
	"errors"
	"net/http"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
)

// XAPIVersion is the xAPI version the statement route reports in the
// X-Experience-API-Version header.
const XAPIVersion = "1.0.3"

// ingestError maps an error of Config.Ingest to a response. The errors are
// those of lrs.LRS.Ingest: a *journey.SyntaxError is a body that is not
// JSON (400 with the offset), an *lrs.IngestError lists invalid statement
// fields (400, each field by its path, e.g. "statements[2].verb.id"), and
// an *lrs.ConflictError names statement ids already stored (409). Any other
// error is a server failure.
func ingestError(err error) error {
	if e := fromDecodeError(err); e != err {
		return e
	}
	if ie, ok := errors.AsType[*lrs.IngestError](err); ok {
		fields := make([]journey.FieldError, len(ie.Errors))
		for i, fe := range ie.Errors {
			fields[i] = journey.FieldError{Field: fe.Path(), Message: fe.Message}
		}
		return &apiError{status: http.StatusBadRequest, msg: ie.Error(), fields: fields}
	}
	if ce, ok := errors.AsType[*lrs.ConflictError](err); ok {
		return &apiError{status: http.StatusConflict, msg: ce.Error()}
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
