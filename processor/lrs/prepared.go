package lrs

import (
	"crypto/sha256"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// storedLayout is how stored and defaulted timestamps are written inside a
// statement: ISO 8601 in UTC with milliseconds, always 24 bytes, so that
// Stamp can overwrite them in place.
const storedLayout = "2006-01-02T15:04:05.000Z"

// Prepared is a statement body validated and shaped into Learning Locker
// documents, waiting for the storage stamp (see Stamp) that a statement
// log gives each document in log order.
type Prepared struct {
	// IDs holds every statement's id, in body order (generated for those
	// the client sent none).
	IDs []string
	// Given maps the client-sent ids to their index in the body.
	Given map[string]int
	// Docs are the stored documents, in body order.
	Docs []bson.Raw
	// Content holds, per document, a digest of the statement as the client
	// sent it, without the fields the LRS sets (stored, authority): two
	// posts of one id with equal digests are the same statement.
	Content [][sha256.Size]byte
	// DefaultTimestamp reports, per document, that the client sent no
	// timestamp: the statement's timestamp is its stored time.
	DefaultTimestamp []bool
}

// Scratch is the memory PrepareInto builds in — a body's BSON and its
// stored documents —, kept by a caller between bodies so that each body
// does not allocate it again. The zero Scratch is ready to use; a Scratch
// serves one body at a time.
type Scratch struct {
	parsed, docs []byte
}

// Size returns the bytes sc holds.
func (sc *Scratch) Size() int { return cap(sc.parsed) + cap(sc.docs) }

// Prepare parses, validates and shapes body (one statement or an array of
// them) for organisation and store (lrs_id), with the checks and the shape
// Ingest documents. Its errors are Ingest's: a *journey.SyntaxError, or an
// *IngestError listing every invalid field. The documents carry now as
// their stored time and an _id from it until Stamp replaces both.
func Prepare(organisation, store primitive.ObjectID, body []byte, now time.Time) (Prepared, error) {
	b, err := prepare(organisation, store, body, now, nil)
	if err != nil {
		return Prepared{}, err
	}
	return b.prepared(), nil
}

// PrepareInto is Prepare building in sc: the returned documents (Docs)
// share sc's memory until the next PrepareInto with sc, so a caller passes
// sc again only once it has copied the documents where they go (a
// statement log into its write batch). Nothing else returned refers to it
// (the ids are copies), and after an error sc holds nothing.
func PrepareInto(sc *Scratch, organisation, store primitive.ObjectID, body []byte, now time.Time) (Prepared, error) {
	b, err := prepare(organisation, store, body, now, sc)
	if err != nil {
		// The error's messages may alias the memory it was found in.
		*sc = Scratch{}
		return Prepared{}, err
	}
	*sc = b.scratch
	return b.prepared(), nil
}

// prepared returns b as a Prepared.
func (b batch) prepared() Prepared {
	p := Prepared{IDs: b.ids, Given: b.given, Docs: make([]bson.Raw, len(b.docs)), Content: b.content, DefaultTimestamp: b.defaulted}
	for i, d := range b.docs {
		p.Docs[i] = d.(bson.Raw)
	}
	return p
}

// Stamp overwrites, in place, a prepared document's _id and stored time:
// the document's stored date and its statement's stored string, and, when
// defaultTimestamp is set, the timestamp date and string too. The sizes do
// not change, so stamping costs no allocation.
func Stamp(doc bson.Raw, id primitive.ObjectID, stored time.Time, defaultTimestamp bool) error {
	d := bsoncore.Document(doc)
	v, err := d.LookupErr("_id")
	if err != nil || v.Type != bsontype.ObjectID {
		return fmt.Errorf("lrs: stamp: document has no ObjectId _id")
	}
	copy(v.Data, id[:])
	ms := stored.UTC().UnixMilli()
	str := stored.UTC().Format(storedLayout)
	if err := putDate(d, ms, "stored"); err != nil {
		return err
	}
	if err := putString(d, str, "statement", "stored"); err != nil {
		return err
	}
	if defaultTimestamp {
		if err := putDate(d, ms, "timestamp"); err != nil {
			return err
		}
		if err := putString(d, str, "statement", "timestamp"); err != nil {
			return err
		}
	}
	return nil
}

// putDate overwrites the date at path.
func putDate(d bsoncore.Document, ms int64, path ...string) error {
	v, err := d.LookupErr(path...)
	if err != nil || v.Type != bsontype.DateTime {
		return fmt.Errorf("lrs: stamp: no date at %v", path)
	}
	bsoncore.AppendDateTime(v.Data[:0], ms)
	return nil
}

// putString overwrites the string at path, which must have s's length.
func putString(d bsoncore.Document, s string, path ...string) error {
	v, err := d.LookupErr(path...)
	if err != nil || v.Type != bsontype.String || len(v.Data) != 4+len(s)+1 {
		return fmt.Errorf("lrs: stamp: no %d-byte string at %v", len(s), path)
	}
	copy(v.Data[4:], s)
	return nil
}

// ContentDigest returns the content digest (see Prepared.Content) of a
// stored statement: statement is the document's statement element.
func ContentDigest(statement bson.Raw) [sha256.Size]byte {
	return contentDigest(bsoncore.Document(statement))
}

// contentDigest returns the digest of a statement as the client sent it,
// without the elements the LRS sets (stored, authority), so that a client
// that reposts a statement after a lost response is recognised. Element
// order counts: a retry resends the same body.
func contentDigest(d bsoncore.Document) [sha256.Size]byte {
	h := sha256.New()
	for e := range elements(d) {
		switch string(e.KeyBytes()) {
		case "stored", "authority":
			continue
		}
		h.Write(e)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
