package source

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// postImage returns the change event raw with its document filled in when
// the stream asks for post-images (Config.FullDocument WhenAvailable) and
// the server sent none for an update or replace of statements or journeys:
// the post-image is not enabled on that collection, or it expired. The
// Source then looks the document up itself, as updateLookup would have (with
// the same collapse of later edits). A document deleted since is left
// absent: its delete follows in the stream. Every other event is returned
// as is.
//
// A statement update that matters (KindStatementUpdate) and arrives without
// its document in any mode — the stream asked for none, or updateLookup
// found nothing — is looked up the same way: the pipeline needs the
// statement's organisation, sources and owners.
func (s *Source) postImage(ctx context.Context, raw bson.Raw) (bson.Raw, error) {
	if s.embedded {
		return raw, nil
	}
	ev := bsoncore.Document(raw)
	if op, _ := ev.Lookup("operationType").StringValueOK(); op != "update" && op != "replace" ||
		ev.Lookup("fullDocument").Type == bsontype.EmbeddedDocument {
		return raw, nil
	}
	if db, _ := ev.Lookup("ns", "db").StringValueOK(); db != s.db {
		return raw, nil
	}
	coll, _ := ev.Lookup("ns", "coll").StringValueOK()
	switch {
	case coll == s.cfg.Statements:
		if p := scan(raw); p.statementFields() == 0 {
			return raw, nil
		}
	case coll != s.cfg.Journeys || s.cfg.FullDocument != options.WhenAvailable:
		return raw, nil
	}
	id := ev.Lookup("documentKey", "_id")
	if id.Type == 0 {
		return raw, nil
	}
	var doc bson.Raw
	err := s.cfg.DB.Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: bson.RawValue{Type: id.Type, Value: id.Data}}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return raw, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up the document of an update without a post-image in %s: %w", coll, err)
	}
	s.lookups.Add(1)
	return withFullDocument(raw, doc), nil
}

// withFullDocument returns the change event ev with its fullDocument field
// replaced by doc (appended when absent).
func withFullDocument(ev, doc bson.Raw) bson.Raw {
	idx, out := bsoncore.AppendDocumentStart(nil)
	if elems, err := bsoncore.Document(ev).Elements(); err == nil {
		for _, e := range elems {
			if e.Key() != "fullDocument" {
				out = append(out, e...)
			}
		}
	}
	out = bsoncore.AppendDocumentElement(out, "fullDocument", doc)
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return out
}
