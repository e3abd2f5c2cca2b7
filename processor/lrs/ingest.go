package lrs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Ingest stores the xAPI statements of body — one statement object or an
// array of them — in the statements collection of the given organisation
// and store (lrs_id), shaped as Learning Locker v2 stores them, and returns
// their ids in body order. The daemon's statement endpoint is the embedded
// statement log's (statementlog.Log.Ingest, which also shares Prepare);
// this one writes to a MongoDB-shaped collection for tests on lungo, and
// differs from the log's: a repost of a stored id is a conflict whatever
// its content, and voiding statements mark nothing.
//
// Every statement is checked against xAPI 1.0.3's statement rules (see
// validate.go and xapirules.go; a null is refused). A valid statement is stored with objectTypes defaulted, single context
// activities wrapped in arrays, "." in extension keys encoded as "&46;", a
// generated UUID id when it has none, timestamp defaulting to stored,
// stored set to now, the LRS's authority and version "1.0.0" when absent.
// The document adds organisation, lrs_id, timestamp and stored as dates,
// voided false, active true, the queriable arrays and a persona (see
// storedDocument).
//
// All statements are written by one ordered InsertMany, and only if every
// one is valid and no id in the body is already stored for store: Ingest
// returns a *journey.SyntaxError for a body that is not JSON, an
// *IngestError listing every invalid field (ids repeated within the body
// included), or a *ConflictError naming the ids already stored. An empty
// array stores nothing.
//
// Ingest feeds a MongoDB-shaped statements collection (lungo in the tests
// of the MongoDB path); the daemon's own statement resource is the
// embedded statement log (processor/statementlog), whose group commit is
// the one that matters for throughput. Calls are serialised, so that an
// id's conflict check and its insert cannot interleave with another call's.
func (l *LRS) Ingest(ctx context.Context, organisation, store primitive.ObjectID, body []byte) ([]string, error) {
	b, err := prepare(organisation, store, body, time.Now(), nil)
	if err != nil || len(b.docs) == 0 {
		return b.ids, err
	}
	l.ingest.Lock()
	defer l.ingest.Unlock()
	if err := l.checkConflicts(ctx, store, b.ids, b.given); err != nil {
		return nil, err
	}
	// Ordered: the embedded engine otherwise skips failing documents and
	// stores the rest.
	if _, err := l.DB.Collection(l.Statements).InsertMany(ctx, b.docs, options.InsertMany().SetOrdered(true)); err != nil {
		return nil, fmt.Errorf("lrs: store statements: %w", err)
	}
	return b.ids, nil
}

// batch is an Ingest body ready to store.
type batch struct {
	ids   []string       // every statement's id, in body order
	given map[string]int // the client-sent ids → index
	docs  []any          // the documents to insert (bson.Raw)
	// content holds, per document, the digest of the statement as the
	// client sent it (see contentDigest).
	content [][sha256.Size]byte
	// defaulted reports, per document, that the client sent no timestamp,
	// so the statement's timestamp is its stored time.
	defaulted []bool
	// scratch holds the memory the batch was built in.
	scratch Scratch
}

// prepare parses, validates and shapes body, stored at now, in sc's memory
// (nil: memory of its own): the documents are built one after the other in
// its docs buffer, which the batch's documents then share, from the body's
// BSON in its parsed buffer. With sc, the ids are copies, since sc's
// memory serves the next body.
func prepare(organisation, store primitive.ObjectID, body []byte, now time.Time, sc *Scratch) (batch, error) {
	var arena, parsed []byte
	if sc != nil {
		arena, parsed = sc.docs, sc.parsed
	}
	vals, errs, parsed, err := parseBodyInto(body, parsed)
	if err != nil {
		return batch{}, err
	}
	stored := now.UTC().Truncate(time.Millisecond)
	fields := lrsFields{stored: stored.Format(storedLayout), authority: authority()}
	b := batch{ids: make([]string, len(vals)), given: map[string]int{}, docs: make([]any, 0, len(vals))}
	var shaped []byte
	if arena == nil {
		// A stored document is about twice its statement's JSON.
		arena = make([]byte, 0, 2*len(body))
	}
	arena = arena[:0]
	ends := make([]int, 0, len(vals))
	for i, v := range vals {
		c := checker{index: i}
		d, ok := v.DocumentOK()
		if ok {
			c.statement("", d, false)
		} else {
			c.bad("", "must be a statement object")
		}
		errs = append(errs, c.errs...)
		if !ok || len(c.errs) > 0 {
			continue
		}
		if id, ok := stringOK(d.Lookup("id")); ok {
			if j, dup := b.given[id]; dup {
				errs = append(errs, FieldError{Index: i, Field: "id", Message: "repeats the id of statements[" + strconv.Itoa(j) + "]"})
				continue
			}
			if sc != nil {
				id = strings.Clone(id) // it aliases parsed
			}
			b.given[id], b.ids[i] = i, id
		} else {
			b.ids[i] = newUUID()
		}
		fields.id = b.ids[i]
		// The shaped statement (its buffer serves the next one) is copied
		// into its stored document, at the end of the arena.
		shaped = shapeStatement(shaped[:0], d, &fields)
		arena = storedDocument(arena, organisation, store, shaped, stored)
		ends = append(ends, len(arena))
		b.content = append(b.content, contentDigest(d))
		b.defaulted = append(b.defaulted, d.Lookup("timestamp").Type == 0)
	}
	if len(errs) > 0 {
		// Conversion errors came first; order everything by statement.
		slices.SortStableFunc(errs, func(a, b FieldError) int { return a.Index - b.Index })
		return batch{}, &IngestError{Errors: errs}
	}
	// Sliced only now: the arena may have moved as it grew.
	start := 0
	for _, end := range ends {
		b.docs = append(b.docs, bson.Raw(arena[start:end:end]))
		start = end
	}
	b.scratch = Scratch{parsed: parsed, docs: arena}
	return b, nil
}

// checkConflicts returns a *ConflictError when store already holds any of
// the client-sent ids (the keys of given).
func (l *LRS) checkConflicts(ctx context.Context, store primitive.ObjectID, ids []string, given map[string]int) error {
	if len(given) == 0 {
		return nil
	}
	sent := make(bson.A, 0, len(given))
	for _, id := range ids {
		if _, ok := given[id]; ok {
			sent = append(sent, id)
		}
	}
	cur, err := l.DB.Collection(l.Statements).Find(ctx,
		bson.D{{Key: "lrs_id", Value: store}, {Key: "statement.id", Value: bson.D{{Key: "$in", Value: sent}}}},
		options.Find().SetProjection(bson.D{{Key: "statement.id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("lrs: look up statement ids: %w", err)
	}
	var found []bson.Raw
	if err := cur.All(ctx, &found); err != nil {
		return fmt.Errorf("lrs: look up statement ids: %w", err)
	}
	if len(found) == 0 {
		return nil
	}
	stored := map[string]bool{}
	for _, doc := range found {
		if id, ok := doc.Lookup("statement", "id").StringValueOK(); ok {
			stored[id] = true
		}
	}
	conflict := &ConflictError{}
	for _, id := range sent {
		if stored[id.(string)] {
			conflict.IDs = append(conflict.IDs, id.(string))
		}
	}
	return conflict
}

// authority returns the statement authority of the embedded LRS. Learning
// Locker uses the posting client's; Ingest does not know the client, so
// every statement it stores names the daemon.
func authority() bsoncore.Document {
	idx, d := bsoncore.AppendDocumentStart(nil)
	d = bsoncore.AppendStringElement(d, "objectType", "Agent")
	d = bsoncore.AppendStringElement(d, "name", "journeysd")
	d = bsoncore.AppendStringElement(d, "mbox", "mailto:journeysd@journeys.invalid")
	d, _ = bsoncore.AppendDocumentEnd(d, idx)
	return d
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
