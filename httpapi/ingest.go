package httpapi

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
)

// XAPIVersion is the xAPI version the statement resource reports in the
// X-Experience-API-Version header.
const XAPIVersion = "1.0.3"

// versionHeader is the xAPI version header.
const versionHeader = "X-Experience-API-Version"

// acceptedVersion matches the versions the resource accepts: 1.0 and 1.0.x.
var acceptedVersion = regexp.MustCompile(`^1\.0(\.[0-9]+)?$`)

// ingestError maps an error of Config.Ingest to a response. The errors are
// those of the embedded statement log's Ingest: a *journey.SyntaxError is
// a body that is not JSON (400 with the offset), an *lrs.IngestError lists
// invalid statement fields (400, each field by its path, e.g.
// "statements[2].verb.id"), and an *lrs.ConflictError names statement ids
// already stored with other content (409). Any other error is a server
// failure.
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

// xapiRequest sets the version header of the answer and checks the
// request's (xAPI 1.0.3 Communication §3.3: every request names its
// version; 1.0.x is accepted) and its media type: multipart/mixed, which
// carries attachments, is refused with a 415 that says so.
func xapiRequest(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set(versionHeader, XAPIVersion)
	v := r.Header.Get(versionHeader)
	if v == "" {
		return errBadRequest(versionHeader, "the "+versionHeader+" header is required (1.0.3)")
	}
	if !acceptedVersion.MatchString(v) {
		return errBadRequest(versionHeader, "version "+v+" is not supported: send 1.0.3 (any 1.0.x is accepted)")
	}
	if r.Method != http.MethodGet {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
			return &apiError{status: http.StatusUnsupportedMediaType,
				msg: "statements with attachments (multipart/mixed) are not supported by this LRS: send application/json, with attachments referenced by fileUrl"}
		}
	}
	return nil
}

// ingest serves POST /data/xAPI/statements: one statement or an array,
// answered like an LRS with the JSON array of the stored statement ids.
func (s *server) ingest(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := xapiRequest(w, r); err != nil {
		return err
	}
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

// putStatement serves PUT /data/xAPI/statements?statementId=: one
// statement stored under that id (the body's id, if any, must be the same),
// answered 204.
func (s *server) putStatement(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := xapiRequest(w, r); err != nil {
		return err
	}
	id := r.URL.Query().Get("statementId")
	if id == "" {
		return errBadRequest("statementId", "required: PUT stores one statement under this id")
	}
	if !lrs.IsUUID(id) {
		return errBadRequest("statementId", "must be a UUID")
	}
	body, err := s.readJSONBody(w, r)
	if err != nil {
		return err
	}
	body, err = withStatementID(body, id)
	if err != nil {
		return err
	}
	if _, err := s.cfg.Ingest(r.Context(), *rq.p, body); err != nil {
		return ingestError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// withStatementID returns the statement object body with id set: added
// when it has none, refused when it has another.
func withStatementID(body []byte, id string) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fromDecodeError(&journey.SyntaxError{Offset: se.Offset, Msg: se.Error()})
		}
		return nil, errBadRequest("statement", "PUT takes one statement object")
	}
	if raw, ok := top["id"]; ok {
		var got string
		if json.Unmarshal(raw, &got) != nil || got != id {
			return nil, errBadRequest("id", "differs from the statementId parameter "+id)
		}
		return body, nil
	}
	trimmed := strings.TrimSpace(string(body))
	rest := strings.TrimSpace(trimmed[1:])
	sep := ","
	if strings.HasPrefix(rest, "}") {
		sep = ""
	}
	return []byte(`{"id":"` + id + `"` + sep + rest), nil
}

// getStatement serves GET /data/xAPI/statements?statementId= (a statement
// that is not voided) or ?voidedStatementId= (one that is), as xAPI 1.0.3
// Communication §2.1.3 says; 404 otherwise. Statement lists (queries) are
// not served: this resource is a forwarding target, not a reporting LRS
// (their parameters are refused like any undocumented one). format and
// attachments are accepted: the statement is returned as stored.
func (s *server) getStatement(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := xapiRequest(w, r); err != nil {
		return err
	}
	// xAPI 1.0.3 Communication §2.1.3: every GET of the statement resource
	// says up to when its answers are complete. A statement is
	// acknowledged only once its write is synced with its id index, which
	// this GET reads: every statement stored until now is found.
	w.Header().Set("X-Experience-API-Consistent-Through", time.Now().UTC().Format(time.RFC3339Nano))
	q := r.URL.Query()
	id, wantVoided, param := q.Get("statementId"), false, "statementId"
	if v := q.Get("voidedStatementId"); v != "" {
		if id != "" {
			return errBadRequest("voidedStatementId", "cannot be combined with statementId")
		}
		id, wantVoided, param = v, true, "voidedStatementId"
	}
	if id == "" {
		return errBadRequest("statementId", "required: statement queries are not supported")
	}
	if !lrs.IsUUID(id) {
		return errBadRequest(param, "must be a UUID")
	}
	doc, voided, err := s.cfg.Statement(r.Context(), *rq.p, id)
	if errors.Is(err, lrs.ErrNotFound) || err == nil && voided != wantVoided {
		return errNotFound("no statement " + id)
	}
	if err != nil {
		return err
	}
	out, err := statementJSON(doc)
	if err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, out)
	return nil
}

// statementJSON returns the xAPI statement of a stored document as JSON,
// with the "&46;" of extension keys decoded back to ".".
func statementJSON(doc bson.Raw) ([]byte, error) {
	stmt, ok := doc.Lookup("statement").DocumentOK()
	if !ok {
		return nil, errors.New("httpapi: stored document has no statement")
	}
	return bson.MarshalExtJSON(bson.Raw(decodeKeys(bsoncore.Document(stmt))), false, false)
}

// decodeKeys returns d with "&46;" in keys replaced by ".", at any depth.
func decodeKeys(d bsoncore.Document) bsoncore.Document {
	idx, out := bsoncore.AppendDocumentStart(nil)
	out = appendDecoded(out, d, false)
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return out
}

func appendDecoded(dst []byte, d bsoncore.Document, array bool) []byte {
	elems, _ := d.Elements()
	for _, e := range elems {
		k, v := e.Key(), e.Value()
		if !array {
			k = strings.ReplaceAll(k, "&46;", ".")
		}
		switch v.Type {
		case bsontype.EmbeddedDocument:
			idx, d2 := bsoncore.AppendDocumentElementStart(dst, k)
			d2 = appendDecoded(d2, v.Document(), false)
			dst, _ = bsoncore.AppendDocumentEnd(d2, idx)
		case bsontype.Array:
			idx, d2 := bsoncore.AppendArrayElementStart(dst, k)
			d2 = appendDecoded(d2, bsoncore.Document(v.Array()), true)
			dst, _ = bsoncore.AppendArrayEnd(d2, idx)
		default:
			dst = bsoncore.AppendValueElement(dst, k, v)
		}
	}
	return dst
}
