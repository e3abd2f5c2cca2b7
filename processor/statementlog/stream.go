package statementlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/processor/source"
)

// readAhead bounds the entries a Reader buffers.
const readAhead = 256

// Reader is the log as a stream of events, in place of a change stream:
// statements as source.KindStatementInsert, journey changes as
// source.KindJourneyUpsert and KindJourneyDelete, and a stored statement
// voided by a later voiding statement as source.KindStatementUpdate
// (voided, with the statement marked voided), as a change stream delivers
// Learning Locker's update. Each event's Token is
// the position after it. Next, TryNext and Close are for one goroutine;
// Ready and Stats are safe for concurrent use.
type Reader struct {
	l     *Log
	after uint64 // the seq of the last entry read
	// announce is set while the reader's position has not been handed
	// out in a token (it was opened at the end): the first time it finds
	// nothing to read, it returns a source.KindCheckpoint event with it,
	// so that the pipeline commits what it did at the open (a
	// recalculation of every journey) without waiting for traffic.
	announce bool
	buf      []source.Event
	closed   atomic.Bool
	events   atomic.Uint64
}

// Token returns the resume token of position seq, the entry written at
// time ms (Unix milliseconds; 0 for seq 0). The time tells the entry apart
// from another one at the same seq in a log that was replaced (restored
// from an older copy and written to since).
func Token(seq uint64, ms int64) bson.Raw {
	return bson.Raw(bsoncore.NewDocumentBuilder().AppendInt64("seq", int64(seq)).AppendInt64("t", ms).Build())
}

// Open returns a Reader that starts after the position resumeAfter (a
// Token), or at the log's end when it is nil. A token that is not the
// log's, or names an entry the log does not hold (the log was replaced),
// is an error wrapping source.ErrHistoryLost.
func (l *Log) Open(ctx context.Context, resumeAfter bson.Raw) (*Reader, error) {
	if err := l.Ping(); err != nil {
		return nil, err
	}
	r := &Reader{l: l, after: l.last.Load(), announce: resumeAfter == nil}
	if resumeAfter != nil {
		v, ok := resumeAfter.Lookup("seq").Int64OK()
		ms, ok2 := resumeAfter.Lookup("t").Int64OK()
		if !ok || !ok2 || v < 0 {
			return nil, fmt.Errorf("statementlog: resume token %s is not a log position: %w", resumeAfter, source.ErrHistoryLost)
		}
		if uint64(v) > r.after {
			return nil, fmt.Errorf("statementlog: resume position %d is beyond the log's end %d: %w", v, r.after, source.ErrHistoryLost)
		}
		if v > 0 {
			got, err := l.entryTime(uint64(v))
			if err != nil {
				return nil, err
			}
			if got != ms {
				return nil, fmt.Errorf("statementlog: the log holds another entry at resume position %d (written at %d, not %d): %w", v, got, ms, source.ErrHistoryLost)
			}
		}
		r.after = uint64(v)
	}
	return r, nil
}

// Next returns the next event, waiting for one as long as ctx allows.
func (r *Reader) Next(ctx context.Context) (source.Event, error) {
	for {
		wake := r.l.changed()
		ev, ok, err := r.TryNext(ctx)
		if err != nil || ok {
			return ev, err
		}
		select {
		case <-ctx.Done():
			return source.Event{}, ctx.Err()
		case <-wake:
		}
	}
}

// TryNext returns the next event if the log holds one.
func (r *Reader) TryNext(ctx context.Context) (source.Event, bool, error) {
	if r.closed.Load() {
		return source.Event{}, false, errors.New("statementlog: reader closed")
	}
	if len(r.buf) == 0 {
		if err := r.fill(); err != nil {
			return source.Event{}, false, err
		}
		if len(r.buf) == 0 {
			return r.checkpoint()
		}
	}
	r.announce = false
	ev := r.buf[0]
	r.buf[0] = source.Event{}
	r.buf = r.buf[1:]
	r.events.Add(1)
	return ev, true, nil
}

// checkpoint returns the KindCheckpoint event of the reader's position
// when it is still to be announced.
func (r *Reader) checkpoint() (source.Event, bool, error) {
	if !r.announce {
		return source.Event{}, false, nil
	}
	r.announce = false
	ms := int64(0)
	if r.after > 0 {
		var err error
		if ms, err = r.l.entryTime(r.after); err != nil {
			return source.Event{}, false, err
		}
	}
	return source.Event{Kind: source.KindCheckpoint, Token: Token(r.after, ms)}, true, nil
}

// fill reads up to readAhead entries into buf.
func (r *Reader) fill() error {
	r.buf = r.buf[:0]
	voided, err := r.l.voidedMarks(r.after)
	if err != nil {
		return err
	}
	defer voided.close()
	err = r.l.entries(r.after, func(e entry) (bool, error) {
		ev := source.Event{
			Token:       Token(e.seq, e.ms),
			ClusterTime: primitive.Timestamp{T: uint32(e.ms / 1000), I: uint32(e.seq)},
		}
		switch e.kind {
		case kindStatement:
			ev.Kind = source.KindStatementInsert
			ev.Doc = bson.Raw(append([]byte(nil), e.payload...))
			if voided.has(e.seq) {
				// Voided before the pipeline read it: it never counts.
				markVoided(ev.Doc)
			}
		case kindJourneyUpsert:
			ev.Kind = source.KindJourneyUpsert
			ev.Doc = bson.Raw(append([]byte(nil), e.payload...))
			ev.ID, _ = ev.Doc.Lookup("_id").ObjectIDOK()
		case kindJourneyDelete:
			ev.Kind = source.KindJourneyDelete
			copy(ev.ID[:], e.payload)
		case kindStatementVoided:
			doc, err := r.l.voidedTarget(e)
			if err != nil {
				return false, err
			}
			ev.Kind, ev.Changed, ev.Doc = source.KindStatementUpdate, source.FieldVoided, doc
			ev.ID, _ = doc.Lookup("_id").ObjectIDOK()
		default:
			return false, fmt.Errorf("statementlog: entry %d has unknown kind %q", e.seq, e.kind)
		}
		r.buf = append(r.buf, ev)
		r.after = e.seq
		return len(r.buf) < readAhead, nil
	})
	return err
}

// Ready reports whether the reader and its log are open.
func (r *Reader) Ready() bool { return !r.closed.Load() && !r.l.closed.Load() }

// Stats returns the reader's counters (events returned).
func (r *Reader) Stats() source.Stats { return source.Stats{Events: r.events.Load()} }

// Close closes the reader.
func (r *Reader) Close(context.Context) error {
	r.closed.Store(true)
	return nil
}

// voidedTarget returns the statement a kindStatementVoided entry names, a
// copy marked voided.
func (l *Log) voidedTarget(e entry) (bson.Raw, error) {
	if len(e.payload) != 8 {
		return nil, fmt.Errorf("statementlog: entry %d: voided entry of %d bytes", e.seq, len(e.payload))
	}
	target := binary.BigEndian.Uint64(e.payload)
	v, closer, err := l.db.Get(entryKey(target))
	if err != nil {
		return nil, fmt.Errorf("statementlog: entry %d: read voided statement %d: %w", e.seq, target, err)
	}
	defer closer.Close()
	te, err := decodeEntry(entryKey(target), v)
	if err != nil {
		return nil, err
	}
	if te.kind != kindStatement {
		return nil, fmt.Errorf("statementlog: entry %d: entry %d is not a statement", e.seq, target)
	}
	doc := bson.Raw(append([]byte(nil), te.payload...))
	markVoided(doc)
	return doc, nil
}
