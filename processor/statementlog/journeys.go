package statementlog

import (
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/pebble"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/cond"
	"github.com/journeys/journeys/processor/journey"
	"github.com/journeys/journeys/processor/lrs"
)

var _ lrs.JourneyStore = (*Log)(nil)

// journeyKey returns the key of journey id's current document.
func journeyKey(id primitive.ObjectID) []byte {
	return append([]byte{prefixJourney}, id[:]...)
}

// Journey implements lrs.JourneyStore.
func (l *Log) Journey(ctx context.Context, org, id primitive.ObjectID) (bson.Raw, error) {
	if l.closed.Load() {
		return nil, ErrClosed
	}
	v, closer, err := l.db.Get(journeyKey(id))
	if err != nil {
		return nil, notFound(err)
	}
	doc := bson.Raw(append([]byte(nil), v...))
	closer.Close()
	if o, _ := doc.Lookup("organisation").ObjectIDOK(); o != org {
		return nil, lrs.ErrNotFound
	}
	return doc, nil
}

// Journeys implements lrs.JourneyStore, in _id order.
func (l *Log) Journeys(ctx context.Context, org primitive.ObjectID, fn func(doc bson.Raw) error) error {
	if l.closed.Load() {
		return ErrClosed
	}
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixJourney}, UpperBound: []byte{prefixJourney + 1}})
	if err != nil {
		return fmt.Errorf("statementlog: list journeys: %w", err)
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		doc := bson.Raw(append([]byte(nil), it.Value()...))
		if o, _ := doc.Lookup("organisation").ObjectIDOK(); !org.IsZero() && o != org {
			continue
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
	return nil
}

// InsertJourney implements lrs.JourneyStore: the document becomes the
// journey's current one and a journey entry of the log.
func (l *Log) InsertJourney(ctx context.Context, doc any) error {
	raw, err := bson.Marshal(doc)
	if err != nil {
		return fmt.Errorf("statementlog: insert journey: %w", err)
	}
	id, ok := bson.Raw(raw).Lookup("_id").ObjectIDOK()
	if !ok {
		return fmt.Errorf("statementlog: insert journey: no ObjectId _id")
	}
	return l.write(func(g *group) error {
		_, exists, err := g.get(journeyKey(id))
		if err != nil {
			return err
		}
		if exists {
			return lrs.ErrDuplicate
		}
		g.putJourney(id, raw, true)
		return nil
	})
}

// putJourney writes journey id's document, and a journey entry when
// logged.
func (g *group) putJourney(id primitive.ObjectID, doc []byte, logged bool) {
	g.set(journeyKey(id), doc)
	if logged {
		g.appendEntry(kindJourneyUpsert, g.l.opts.Now().UnixMilli(), len(doc), func(_ uint64, dst []byte) { copy(dst, doc) })
	}
}

// UpdateJourney implements lrs.JourneyStore. cond is evaluated with the
// pipeline's matcher (MongoDB query semantics).
func (l *Log) UpdateJourney(ctx context.Context, org, id primitive.ObjectID, where, set bson.D) (bool, error) {
	var m *cond.Matcher
	if len(where) > 0 {
		q, err := bson.Marshal(where)
		if err != nil {
			return false, fmt.Errorf("statementlog: update journey: %w", err)
		}
		if m, err = cond.Compile(q); err != nil {
			return false, fmt.Errorf("statementlog: update journey: %w", err)
		}
	}
	matched := false
	err := l.write(func(g *group) error {
		cur, ok, err := g.get(journeyKey(id))
		if err != nil || !ok {
			return err
		}
		if o, _ := bson.Raw(cur).Lookup("organisation").ObjectIDOK(); o != org {
			return nil
		}
		if m != nil && !m.Match(cur) {
			return nil
		}
		doc, err := applySet(cur, set)
		if err != nil {
			return err
		}
		matched = true
		g.putJourney(id, doc, true)
		return nil
	})
	return matched, err
}

// DeleteJourney implements lrs.JourneyStore.
func (l *Log) DeleteJourney(ctx context.Context, org, id primitive.ObjectID) (bool, error) {
	deleted := false
	err := l.write(func(g *group) error {
		cur, ok, err := g.get(journeyKey(id))
		if err != nil || !ok {
			return err
		}
		if o, _ := bson.Raw(cur).Lookup("organisation").ObjectIDOK(); o != org {
			return nil
		}
		deleted = true
		g.del(journeyKey(id))
		g.appendEntry(kindJourneyDelete, g.l.opts.Now().UnixMilli(), len(id), func(_ uint64, dst []byte) { copy(dst, id[:]) })
		return nil
	})
	return deleted, err
}

// SetRecalculateStatus implements lrs.JourneyStore. The status is
// informational: it changes the current document only, without a log
// entry, so the pipeline never reads its own status writes back.
func (l *Log) SetRecalculateStatus(ctx context.Context, id primitive.ObjectID, s journey.RecalculateStatus) error {
	return l.write(func(g *group) error { return g.setStatus(id, s) })
}

// SetRecalculateStatuses records each journey's status in statuses, as
// SetRecalculateStatus does, in one write: one batch and one fsync however
// many journeys recalculate together (the pipeline's status writer calls
// it every second for all of them). A missing journey is no error.
func (l *Log) SetRecalculateStatuses(ctx context.Context, statuses map[primitive.ObjectID]journey.RecalculateStatus) error {
	return l.write(func(g *group) error {
		for id, s := range statuses {
			if err := g.setStatus(id, s); err != nil {
				return err
			}
		}
		return nil
	})
}

// setStatus sets journey id's recalculateStatus in its current document,
// without a log entry; a missing journey is left alone.
func (g *group) setStatus(id primitive.ObjectID, s journey.RecalculateStatus) error {
	cur, ok, err := g.get(journeyKey(id))
	if err != nil || !ok {
		return err
	}
	doc, err := applySet(cur, bson.D{{Key: "recalculateStatus", Value: s}})
	if err != nil {
		return err
	}
	g.putJourney(id, doc, false)
	return nil
}

// applySet returns doc with the fields of set (top-level names or dotted
// paths, as MongoDB's $set) set, creating missing parents.
func applySet(doc []byte, set bson.D) ([]byte, error) {
	var d bson.D
	if err := bson.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("statementlog: read journey: %w", err)
	}
	for _, e := range set {
		d = setPath(d, strings.Split(e.Key, "."), e.Value)
	}
	out, err := bson.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("statementlog: write journey: %w", err)
	}
	return out, nil
}

// setPath sets path in d to v and returns d.
func setPath(d bson.D, path []string, v any) bson.D {
	for i := range d {
		if d[i].Key != path[0] {
			continue
		}
		if len(path) == 1 {
			d[i].Value = v
		} else {
			sub, _ := d[i].Value.(bson.D)
			d[i].Value = setPath(sub, path[1:], v)
		}
		return d
	}
	if len(path) == 1 {
		return append(d, bson.E{Key: path[0], Value: v})
	}
	return append(d, bson.E{Key: path[0], Value: setPath(nil, path[1:], v)})
}
