package lrs

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"
	"go.mongodb.org/mongo-driver/mongo/readpref"

	"github.com/journeys/journeys/processor/journey"
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
	// Chunk is the number of statements per find (DefaultScanChunk when
	// 0). A negative Chunk reads with one find: for lungo, which sorts the
	// whole collection for every find.
	Chunk int
	// Index, when set, reports the statements index that serves the scan
	// (LRS.ScanIndex): with Learning Locker's org_stored__id, whose ties
	// on stored descend by _id, the finds ask for that order and the
	// scanner restores the ascending one (see chunkDescending).
	Index func() (ScanIndex, bool)
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
	if chunk == 0 {
		chunk = DefaultScanChunk
	}
	desc := false
	if s.Index != nil {
		if idx, ok := s.Index(); ok {
			desc = idx.IDDescending
		}
	}
	after := q.After
	// pass hands a statement on and moves after past it.
	pass := func(doc bson.Raw) error {
		id, ok := doc.Lookup("_id").ObjectIDOK()
		stored, ok2 := doc.Lookup("stored").DateTimeOK()
		if !ok || !ok2 {
			// Not a statement document (no ObjectId _id or no stored
			// date): it cannot be placed in scan order; skip it.
			return nil
		}
		after = Position{Stored: stored, ID: id}
		return fn(doc)
	}
	for {
		if desc {
			more, err := s.chunkDescending(ctx, q, after, chunk, pass)
			if err != nil || !more {
				return err
			}
			continue
		}
		n, err := s.each(ctx, scanFilter(q, after), ascending, chunk, pass)
		if err != nil {
			return err
		}
		if chunk < 0 || n < chunk {
			return nil
		}
	}
}

var (
	ascending = bson.D{{Key: "stored", Value: 1}, {Key: "_id", Value: 1}}
	// descending ties: the order Learning Locker's org_stored__id serves.
	tiesDescending = bson.D{{Key: "stored", Value: 1}, {Key: "_id", Value: -1}}
)

// chunkDescending reads one chunk in the order an index with descending
// ties serves and passes it on in ascending (stored, _id) order: each run
// of equal stored times reversed (TieReverser). When the chunk is full its
// last run may be cut short; that run is asked for whole (a run is the
// statements one LRS request stored in one millisecond), so every run is
// passed on complete and a scan that stopped resumes after a whole run or,
// resumed mid-run from a committed position, gets the run's rest first.
func (s *MongoScanner) chunkDescending(ctx context.Context, q ScanQuery, after Position, chunk int, pass func(bson.Raw) error) (more bool, err error) {
	docs, err := s.find(ctx, scanFilter(q, after), tiesDescending, chunk)
	if err != nil {
		return false, err
	}
	full := chunk > 0 && len(docs) == chunk
	var last []bson.Raw
	if full {
		lastStored, _ := docs[len(docs)-1].Lookup("stored").DateTimeOK()
		cut := len(docs)
		for cut > 0 {
			if t, _ := docs[cut-1].Lookup("stored").DateTimeOK(); t != lastStored {
				break
			}
			cut--
		}
		docs = docs[:cut]
		f := scanFilter(q, after)
		f[0].Value = append(f[0].Value.(bson.A), bson.D{{Key: "stored", Value: primitive.DateTime(lastStored)}})
		if last, err = s.find(ctx, f, tiesDescending, 0); err != nil {
			return false, err
		}
	}
	r := NewTieReverser(pass)
	for _, doc := range append(docs, last...) {
		if err := r.Add(doc); err != nil {
			return false, err
		}
	}
	return full, r.Flush()
}

// find runs one find and returns its documents (limit ≤ 0: no limit).
func (s *MongoScanner) find(ctx context.Context, filter, sort bson.D, limit int) ([]bson.Raw, error) {
	var docs []bson.Raw
	_, err := s.each(ctx, filter, sort, limit, func(doc bson.Raw) error {
		docs = append(docs, doc)
		return nil
	})
	return docs, err
}

// each runs one find and calls fn with each document (its own copy) as the
// cursor delivers it; it returns how many there were.
func (s *MongoScanner) each(ctx context.Context, filter, sort bson.D, limit int, fn func(bson.Raw) error) (int, error) {
	opts := options.Find().SetSort(sort)
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	cur, err := s.coll.Find(ctx, filter, opts)
	if err != nil {
		return 0, fmt.Errorf("lrs: scan statements: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	n := 0
	for cur.Next(ctx) {
		var doc bson.Raw
		if err := cur.Decode(&doc); err != nil {
			return n, fmt.Errorf("lrs: read statement: %w", err)
		}
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
// sources that its pushdown filter selects, wherever the scan stands (the
// server counts them with the same indexes the scan uses).
func (s *MongoScanner) Count(ctx context.Context, q ScanQuery) (int64, error) {
	n, err := s.coll.CountDocuments(ctx, scanFilter(q, Position{}))
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

// SetRecalculateStatuses records each journey's status in statuses in one
// bulk write (processor.StatusesSetter): one updateMany per distinct
// status, so that journeys sharing a status cost one update, and one round
// trip however many statuses differ (journeys started one event apart
// differ in startedAt).
func (c CollectionJourneys) SetRecalculateStatuses(ctx context.Context, statuses map[primitive.ObjectID]journey.RecalculateStatus) error {
	same := map[string][]primitive.ObjectID{}
	values := map[string]journey.RecalculateStatus{}
	var keys []string
	for id, st := range statuses {
		b, err := bson.Marshal(st)
		if err != nil {
			return fmt.Errorf("lrs: encode recalculation status of journey %s: %w", id.Hex(), err)
		}
		k := string(b)
		if _, ok := same[k]; !ok {
			keys = append(keys, k)
			values[k] = st
		}
		same[k] = append(same[k], id)
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys) // a deterministic write
	models := make([]mongo.WriteModel, 0, len(keys))
	for _, k := range keys {
		models = append(models, mongo.NewUpdateManyModel().
			SetFilter(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: same[k]}}}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "recalculateStatus", Value: values[k]}}}}))
	}
	if _, err := c.Coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("lrs: write recalculation status of %d journeys: %w", len(statuses), err)
	}
	return nil
}
