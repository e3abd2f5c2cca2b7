package statementlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/processor/lrs"
)

// Scanner returns the log's lrs.Scanner: statements in log order, which is
// (stored, _id) order by construction.
func (l *Log) Scanner() lrs.Scanner { return scanner{l} }

type scanner struct{ l *Log }

var (
	_ lrs.Scanner       = scanner{}
	_ lrs.StreamOrdered = scanner{}
	_ lrs.LocalReads    = scanner{}
)

// StreamOrdered implements lrs.StreamOrdered: the log's order is both its
// stream's order and (stored, _id) order.
func (scanner) StreamOrdered() bool { return true }

// LocalReads implements lrs.LocalReads: the log is read in this process.
func (scanner) LocalReads() bool { return true }

// Scan implements lrs.Scanner. It reads the statement entries in order and
// returns those of q's organisation and sources after q.After; q.Filter is
// not evaluated (the caller's matcher decides). A voided statement is
// returned with voided: true, as Learning Locker's update leaves it. A
// document is valid only until fn returns (it is the log's own bytes,
// except a voided one's copy): a scan of millions of statements allocates
// nothing per statement, so garbage collection during a long scan takes
// no CPU or pauses from the live stream beside it.
func (s scanner) Scan(ctx context.Context, q lrs.ScanQuery, fn func(doc bson.Raw) error) error {
	var fnErr error
	from := s.l.seqOf(q.After)
	voided, err := s.l.voidedMarks(from)
	if err != nil {
		return err
	}
	defer voided.close()
	err = s.l.entries(from, func(e entry) (bool, error) {
		if e.kind != kindStatement {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		d := bsoncore.Document(e.payload)
		if org, _ := d.Lookup("organisation").ObjectIDOK(); org != q.Organisation {
			return true, nil
		}
		if len(q.Sources) > 0 {
			store, _ := d.Lookup("lrs_id").ObjectIDOK()
			if !containsID(q.Sources, store) {
				return true, nil
			}
		}
		if q.After != (lrs.Position{}) {
			id, _ := d.Lookup("_id").ObjectIDOK()
			stored, _ := d.Lookup("stored").DateTimeOK()
			if !q.After.Less(lrs.Position{Stored: stored, ID: id}) {
				return true, nil
			}
		}
		// The entry's bytes are valid until the next entry is read, as
		// long as the Scanner contract keeps doc (valid until fn
		// returns); only a voided one is copied, to be marked.
		doc := e.payload
		if voided.has(e.seq) {
			doc = bytes.Clone(doc)
			markVoided(doc)
		}
		if fnErr = fn(bson.Raw(doc)); fnErr != nil {
			return false, nil
		}
		return true, nil
	})
	if err == nil {
		err = voided.err
	}
	if fnErr != nil {
		return fnErr
	}
	return err
}

// Count implements lrs.Scanner: every statement stored (an estimate that
// ignores the query).
func (s scanner) Count(context.Context, lrs.ScanQuery) (int64, error) {
	return s.l.nstored.Load(), nil
}

// LatestStored implements lrs.Scanner.
func (s scanner) LatestStored(context.Context) (int64, error) {
	return s.l.stored.Load(), nil
}

// markIter walks the voided marks in seq order beside a scan.
type markIter struct {
	it  *pebble.Iterator
	ok  bool
	err error
}

// voidedMarks returns an iterator over the voided marks of entries after
// seq after.
func (l *Log) voidedMarks(after uint64) (*markIter, error) {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: voidedKey(after + 1), UpperBound: []byte{prefixVoided + 1}})
	if err != nil {
		return nil, fmt.Errorf("statementlog: read voided marks: %w", err)
	}
	return &markIter{it: it, ok: it.First()}, nil
}

// has reports whether entry seq is marked; calls come in ascending seq.
func (m *markIter) has(seq uint64) bool {
	for m.ok {
		k := binary.BigEndian.Uint64(m.it.Key()[1:])
		switch {
		case k == seq:
			return true
		case k > seq:
			return false
		}
		m.ok = m.it.Next()
	}
	return false
}

func (m *markIter) close() {
	if err := m.it.Close(); err != nil && m.err == nil {
		m.err = fmt.Errorf("statementlog: read voided marks: %w", err)
	}
}

// markVoided sets the document's voided flag in place.
func markVoided(doc []byte) {
	if v, err := bsoncore.Document(doc).LookupErr("voided"); err == nil && len(v.Data) == 1 {
		v.Data[0] = 1
	}
}

func containsID(ids []primitive.ObjectID, id primitive.ObjectID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// seqOf returns the sequence number of the statement at position after, so
// that a scan resumed there (a restart mid-recalculation) reads on from it
// rather than from the log's start; 0 when after is zero or not a position
// the log stamped (an imported statement keeps its own _id: the scan then
// reads from the start and skips up to after).
func (l *Log) seqOf(after lrs.Position) uint64 {
	if after == (lrs.Position{}) {
		return 0
	}
	seq := binary.BigEndian.Uint64(after.ID[4:])
	if seq == 0 || seq > l.Last() || statementID(after.Stored, seq) != after.ID {
		return 0
	}
	doc, err := l.entryDoc(seq)
	if err != nil {
		return 0
	}
	if id, _ := doc.Lookup("_id").ObjectIDOK(); id != after.ID {
		return 0
	}
	return seq
}
