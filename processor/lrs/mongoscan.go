package lrs

import (
	"context"
	"errors"
	"fmt"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"
	"go.mongodb.org/mongo-driver/mongo/readpref"
)

// DefaultScanChunk is how many statements a MongoScanner asks for per find.
const DefaultScanChunk = 1000

// MongoScanner is the Scanner over a MongoDB statements collection (or the
// lungo engine standing in for one).
//
// It reads in chunks: each chunk is one find sorted by (stored, _id),
// limited to Chunk documents, that starts after the last position read, so
// no server cursor outlives a chunk, a failed chunk is simply asked again,
// and a scan that stops (a restart, an election) is resumed from the
// position the caller committed rather than from the beginning. The LRS's
// {organisation, stored, _id} index serves the order; the pushdown filter
// (ScanQuery.Filter) lets the server's other indexes (verb, object, actor,
// persona) narrow what it returns.
//
// Reads go to the primary with majority read concern: they see every change
// the change stream has delivered (a change stream delivers only
// majority-committed changes), never a lagging secondary that the URI's
// read preference might pick.
type MongoScanner struct {
	coll lungo.ICollection
	// Chunk is the number of statements per find (DefaultScanChunk when 0).
	Chunk int
}

// NewMongoScanner returns a scanner over the statements collection of db.
func NewMongoScanner(db lungo.IDatabase, statements string) *MongoScanner {
	opts := options.Collection().
		SetReadPreference(readpref.Primary()).
		SetReadConcern(readconcern.Majority())
	return &MongoScanner{coll: db.Collection(statements, opts)}
}

// scanFilter is the query of a chunk: q's organisation, sources and
// pushdown filter, after position after.
func scanFilter(q ScanQuery, after Position) bson.D {
	and := bson.A{bson.D{{Key: "organisation", Value: q.Organisation}}}
	if len(q.Sources) > 0 {
		and = append(and, bson.D{{Key: "lrs_id", Value: bson.D{{Key: "$in", Value: q.Sources}}}})
	}
	if after != (Position{}) {
		at := primitive.DateTime(after.Stored)
		and = append(and, bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "stored", Value: bson.D{{Key: "$gt", Value: at}}}},
			bson.D{{Key: "stored", Value: at}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: after.ID}}}},
		}}})
	}
	if q.Filter != nil {
		and = append(and, q.Filter)
	}
	return bson.D{{Key: "$and", Value: and}}
}

// Scan implements Scanner.
func (s *MongoScanner) Scan(ctx context.Context, q ScanQuery, fn func(doc bson.Raw) error) error {
	chunk := s.Chunk
	if chunk <= 0 {
		chunk = DefaultScanChunk
	}
	after := q.After
	sort := bson.D{{Key: "stored", Value: 1}, {Key: "_id", Value: 1}}
	for {
		cur, err := s.coll.Find(ctx, scanFilter(q, after), options.Find().SetSort(sort).SetLimit(int64(chunk)))
		if err != nil {
			return fmt.Errorf("lrs: scan statements after %d/%s: %w", after.Stored, after.ID.Hex(), err)
		}
		n, err := s.chunk(ctx, cur, &after, fn)
		if err != nil {
			return err
		}
		if n < chunk {
			return nil
		}
	}
}

// chunk reads one find's documents, passing each to fn and moving after
// past it.
func (s *MongoScanner) chunk(ctx context.Context, cur lungo.ICursor, after *Position, fn func(bson.Raw) error) (int, error) {
	defer cur.Close(context.WithoutCancel(ctx))
	n := 0
	for cur.Next(ctx) {
		var doc bson.Raw
		if err := cur.Decode(&doc); err != nil {
			return n, fmt.Errorf("lrs: read statement: %w", err)
		}
		id, ok := doc.Lookup("_id").ObjectIDOK()
		stored, ok2 := doc.Lookup("stored").DateTimeOK()
		if !ok || !ok2 {
			// Not a statement document (no ObjectId _id or no stored
			// date): it cannot be placed in scan order, and the sort put
			// it first; skip it.
			n++
			continue
		}
		*after = Position{Stored: stored, ID: id}
		n++
		if err := fn(doc); err != nil {
			return n, err
		}
	}
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("lrs: scan statements: %w", err)
	}
	return n, nil
}

// Count implements Scanner: the statements of q's organisation and
// sources.
func (s *MongoScanner) Count(ctx context.Context, q ScanQuery) (int64, error) {
	f := bson.D{{Key: "organisation", Value: q.Organisation}}
	if len(q.Sources) > 0 {
		f = append(f, bson.E{Key: "lrs_id", Value: bson.D{{Key: "$in", Value: q.Sources}}})
	}
	n, err := s.coll.CountDocuments(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("lrs: count statements: %w", err)
	}
	return n, nil
}

// LatestStored implements Scanner.
func (s *MongoScanner) LatestStored(ctx context.Context) (int64, error) {
	var doc bson.Raw
	err := s.coll.FindOne(ctx, bson.D{},
		options.FindOne().SetSort(bson.D{{Key: "stored", Value: -1}}).SetProjection(bson.D{{Key: "stored", Value: 1}})).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("lrs: read latest stored time: %w", err)
	}
	t, _ := doc.Lookup("stored").DateTimeOK()
	return t, nil
}
