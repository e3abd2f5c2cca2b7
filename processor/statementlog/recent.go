package statementlog

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// recentScanLimit bounds the entries Recent reads: an organisation with no
// recent statements costs a bounded walk, not a scan of the whole log.
const recentScanLimit = 100_000

// Recent calls fn with up to n statement documents of organisation org,
// newest first — log order backwards, which is (stored, _id) order
// backwards —, until fn returns an error (returned as is). It reads at most
// the last recentScanLimit entries. A voided statement comes with voided:
// true. It serves the HTTP API's condition tester (httpapi.Statements);
// doc is a copy fn may keep.
func (l *Log) Recent(ctx context.Context, org primitive.ObjectID, n int, fn func(doc bson.Raw) error) error {
	if n <= 0 {
		return nil
	}
	if l.closed.Load() {
		return ErrClosed
	}
	last := l.last.Load()
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: entryKey(0), UpperBound: entryKey(last + 1)})
	if err != nil {
		return fmt.Errorf("statementlog: read recent statements: %w", err)
	}
	defer it.Close()
	read := 0
	for ok := it.Last(); ok && n > 0 && read < recentScanLimit; ok = it.Prev() {
		read++
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := decodeEntry(it.Key(), it.Value())
		if err != nil {
			return err
		}
		if e.kind != kindStatement {
			continue
		}
		if o, _ := bsoncore.Document(e.payload).Lookup("organisation").ObjectIDOK(); o != org {
			continue
		}
		doc := bson.Raw(append([]byte(nil), e.payload...))
		_, closer, err := l.db.Get(voidedKey(e.seq))
		if err == nil {
			closer.Close()
			markVoided(doc)
		}
		n--
		if err := fn(doc); err != nil {
			return err
		}
	}
	return nil
}
