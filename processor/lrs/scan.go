package lrs

import (
	"context"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Position is a statement's place in recalculation order: ascending
// (stored, _id). The zero Position lies before every statement.
type Position struct {
	// Stored is the statement document's stored time (Unix ms).
	Stored int64
	// ID is the statement document's _id.
	ID primitive.ObjectID
}

// Less reports whether p comes before q in (stored, _id) order.
func (p Position) Less(q Position) bool {
	if p.Stored != q.Stored {
		return p.Stored < q.Stored
	}
	return string(p.ID[:]) < string(q.ID[:])
}

// ScanQuery selects the stored statements a scan reads.
type ScanQuery struct {
	// Organisation is the statements' organisation. Required.
	Organisation primitive.ObjectID
	// Sources restricts lrs_id to these stores; empty reads every store.
	Sources []primitive.ObjectID
	// After is exclusive: a scan returns statements after it. The zero
	// Position starts at the beginning.
	After Position
	// Filter, when not nil, is a MongoDB query every returned statement
	// satisfies (pushdown). It narrows what is read and nothing more: a
	// Scanner may ignore it and return a superset, so the caller's matcher
	// still decides.
	Filter bson.D
}

// StreamOrdered is implemented by a Scanner whose (stored, _id) order is
// the order its change stream delivers statements in (the embedded
// statement log: stored times are assigned as entries are appended). A
// statement the stream delivers after another is then never stored before
// it, so a recalculation needs no clock-skew margin when it hands over to
// the live stream: only statements stored at exactly its bound can be both
// scanned and delivered (see processor/recalc.go).
type StreamOrdered interface {
	// StreamOrdered reports whether stored order is stream order.
	StreamOrdered() bool
}

// LocalReads is implemented by a Scanner that reads from storage in this
// process (the embedded statement log) rather than from a server: its
// reads never wait on the network, so they take CPU time that the live
// work beside a recalculation needs, and a recalculation lets them take
// turns with applying what they read while live events flow (see
// processor/recalc.go). A server's scanner leaves the CPU while it waits
// for each batch.
type LocalReads interface {
	// LocalReads reports whether the scanner reads locally.
	LocalReads() bool
}

// Scanner reads stored statement documents (Learning Locker's shape, raw
// BSON) in ascending (stored, _id) order: the order a recalculation applies
// them in. It is the seam between the pipeline and whichever LRS holds the
// statements (a MongoDB collection, or the embedded statement log).
type Scanner interface {
	// Scan calls fn with each statement q selects, in order, until fn
	// returns an error (returned as is) or the statements run out. doc is
	// valid only until fn returns.
	Scan(ctx context.Context, q ScanQuery, fn func(doc bson.Raw) error) error
	// Count estimates how many statements Scan would return for q, for
	// progress reporting; it may ignore q.Filter and q.After.
	Count(ctx context.Context, q ScanQuery) (int64, error)
	// LatestStored returns the largest stored time (Unix ms) of any
	// statement, or 0 when there is none.
	LatestStored(ctx context.Context) (int64, error)
}
