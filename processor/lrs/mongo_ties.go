package lrs

import (
	"bytes"

	"go.mongodb.org/mongo-driver/bson"
)

// TieReverser restores the scan order lrs.Position defines, ascending
// (stored, _id), from statements read in the order Learning Locker's index
// org_stored__id serves with organisation fixed: stored ascending, ties
// on stored in descending _id order (sort {stored: 1, _id: -1}; see
// ScanIndex.IDDescending). It holds each run of statements that share a
// stored time and passes it on reversed once the stored time changes (or
// at Flush), so it holds at most one run: the statements one LRS request
// stored in the same millisecond.
//
// A scan that resumes after a Position p asks for {stored > p.Stored} or
// {stored = p.Stored, _id > p.ID}: the rest of p's run arrives whole, and
// reversed it continues in ascending order.
type TieReverser struct {
	fn     func(doc bson.Raw) error
	run    []bson.Raw
	stored int64
}

// NewTieReverser returns a TieReverser that calls fn with each statement
// in ascending (stored, _id) order; fn's errors are returned by Add and
// Flush as they are.
func NewTieReverser(fn func(doc bson.Raw) error) *TieReverser {
	return &TieReverser{fn: fn}
}

// Add takes the next statement of the scan (doc is copied). It passes on
// the run held so far when doc starts a new one.
func (r *TieReverser) Add(doc bson.Raw) error {
	stored, _ := doc.Lookup("stored").DateTimeOK()
	if len(r.run) > 0 && stored != r.stored {
		if err := r.Flush(); err != nil {
			return err
		}
	}
	r.stored = stored
	r.run = append(r.run, bytes.Clone(doc))
	return nil
}

// Flush passes on the run held, in ascending _id order. Call it when the
// scan ends.
func (r *TieReverser) Flush() error {
	run := r.run
	r.run = r.run[:0]
	for i := len(run) - 1; i >= 0; i-- {
		if err := r.fn(run[i]); err != nil {
			return err
		}
	}
	return nil
}
