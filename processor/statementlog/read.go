package statementlog

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/lrs"
)

// notFound maps Pebble's ErrNotFound to lrs.ErrNotFound and wraps others.
func notFound(err error) error {
	if errors.Is(err, pebble.ErrNotFound) {
		return lrs.ErrNotFound
	}
	return fmt.Errorf("statementlog: read: %w", err)
}

// entryDoc returns a copy of the document of statement entry seq.
func (l *Log) entryDoc(seq uint64) (bson.Raw, error) {
	v, closer, err := l.db.Get(entryKey(seq))
	if err != nil {
		return nil, notFound(err)
	}
	defer closer.Close()
	e, err := decodeEntry(entryKey(seq), v)
	if err != nil {
		return nil, err
	}
	if e.kind != kindStatement {
		return nil, fmt.Errorf("statementlog: entry %d is not a statement", seq)
	}
	return bson.Raw(append([]byte(nil), e.payload...)), nil
}

// entryTime returns the time of entry seq (-1 when there is none).
func (l *Log) entryTime(seq uint64) (int64, error) {
	v, closer, err := l.db.Get(entryKey(seq))
	if errors.Is(err, pebble.ErrNotFound) {
		return -1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("statementlog: read: %w", err)
	}
	defer closer.Close()
	e, err := decodeEntry(entryKey(seq), v)
	if err != nil {
		return 0, err
	}
	return e.ms, nil
}

// entry is one decoded log entry; its slices alias the iterator's memory.
type entry struct {
	seq  uint64
	kind byte // kindStatementDigest is decoded as kindStatement
	ms   int64
	// digest is a statement's content digest as the client sent it (see
	// kindStatementDigest); nil for an entry written without one.
	digest  []byte
	payload []byte
}

// decodeEntry decodes an entry key and value.
func decodeEntry(key, val []byte) (entry, error) {
	if len(key) != 9 || len(val) < entryHeader {
		return entry{}, fmt.Errorf("statementlog: corrupt entry %x", key)
	}
	e := entry{
		seq:     binary.BigEndian.Uint64(key[1:]),
		kind:    val[0],
		ms:      int64(binary.BigEndian.Uint64(val[1:])),
		payload: val[entryHeader:],
	}
	if e.kind == kindStatementDigest {
		if len(e.payload) < sha256.Size {
			return entry{}, fmt.Errorf("statementlog: corrupt entry %x: no digest", key)
		}
		e.kind, e.digest, e.payload = kindStatement, e.payload[:sha256.Size], e.payload[sha256.Size:]
	}
	return e, nil
}

// entries calls fn with every entry after seq up to the last durable one,
// in order, until fn returns false or an error.
func (l *Log) entries(after uint64, fn func(e entry) (bool, error)) error {
	if l.closed.Load() {
		return ErrClosed
	}
	last := l.last.Load()
	if after >= last {
		return nil
	}
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: entryKey(after + 1), UpperBound: entryKey(last + 1)})
	if err != nil {
		return fmt.Errorf("statementlog: read: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		e, err := decodeEntry(it.Key(), it.Value())
		if err != nil {
			it.Close()
			return err
		}
		more, err := fn(e)
		if err != nil || !more {
			it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("statementlog: read: %w", err)
	}
	return nil
}
