package statementlog

import (
	"fmt"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor/lrs"
)

// Import appends statement documents stored elsewhere (an old embedded
// store), as they are: their _id and stored are kept, so docs must come in
// ascending (stored, _id) order and after everything the log holds; they
// are indexed by (lrs_id, statement.id) like ingested ones. Statements
// stored later are stamped after the last imported one, so the log stays
// in (stored, _id) order.
func (l *Log) Import(docs []bson.Raw) error {
	return l.write(func(g *group) error {
		for i, doc := range docs {
			stored, ok1 := doc.Lookup("stored").DateTimeOK()
			store, ok2 := doc.Lookup("lrs_id").ObjectIDOK()
			id, ok3 := doc.Lookup("statement", "id").StringValueOK()
			_, ok4 := doc.Lookup("statement").DocumentOK()
			if !ok1 || !ok2 || !ok3 || !ok4 {
				return fmt.Errorf("statementlog: import: document %d lacks stored, lrs_id or statement.id", i)
			}
			if stored < g.l.lastStored {
				return fmt.Errorf("statementlog: import: document %d is stored before the log's end", i)
			}
			_, dup, err := g.get(indexKey(store, id))
			if err != nil {
				return err
			}
			if dup {
				return fmt.Errorf("statementlog: import: statement %s is already in the log", id)
			}
		}
		for _, doc := range docs {
			stored, _ := doc.Lookup("stored").DateTimeOK()
			store, _ := doc.Lookup("lrs_id").ObjectIDOK()
			org, _ := doc.Lookup("organisation").ObjectIDOK()
			id, _ := doc.Lookup("statement", "id").StringValueOK()
			stmt, _ := doc.Lookup("statement").DocumentOK()
			digest := lrs.ContentDigest(stmt)
			seq := g.appendStatement(stored, digest, len(doc), func(_ uint64, dst []byte) { copy(dst, doc) })
			// Statements stored after the import are stamped later than it.
			g.l.lastStored = stored + 1
			g.l.count++
			target, voiding := voidedTarget(doc)
			g.set(indexKey(store, id), indexValue(seq, digest, voiding))
			if err := g.voidIfPending(store, id, seq, voiding); err != nil {
				return err
			}
			if voiding {
				if err := g.void(org, store, target, seq); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
