package statementlog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/lrs"
)

// indexValueLen is the length of an id index value: seq, content digest,
// flags.
const indexValueLen = 8 + sha256.Size + 1

// flagVoiding marks, in an id index value, a voiding statement.
const flagVoiding = 1

// verbVoided is the verb of voiding statements (xAPI 1.0.3 Data §2.3.2).
const verbVoided = "http://adlnet.gov/expapi/verbs/voided"

// indexValue returns an id index value.
func indexValue(seq uint64, digest [sha256.Size]byte, voiding bool) []byte {
	val := make([]byte, indexValueLen)
	binary.BigEndian.PutUint64(val, seq)
	copy(val[8:], digest[:])
	if voiding {
		val[indexValueLen-1] = flagVoiding
	}
	return val
}

// pendingVoidKey returns the key that records a voiding statement whose
// target, statement id of store, is not stored yet: when it arrives, it is
// stored voided (Data §2.3.2: a statement is voided if the LRS contains a
// voiding statement referring to it, whatever the order they came in).
func pendingVoidKey(store primitive.ObjectID, id string) []byte {
	k := indexKey(store, id)
	k[0] = prefixPendingVoid
	return k
}

// voidedTarget returns the id of the statement a voiding statement voids.
func voidedTarget(doc bson.Raw) (string, bool) {
	if v, _ := doc.Lookup("statement", "verb", "id").StringValueOK(); v != verbVoided {
		return "", false
	}
	if ot, _ := doc.Lookup("statement", "object", "objectType").StringValueOK(); ot != "StatementRef" {
		return "", false
	}
	return doc.Lookup("statement", "object", "id").StringValueOK()
}

// indexKey returns the id index key of statement id in store.
func indexKey(store primitive.ObjectID, id string) []byte {
	k := make([]byte, 0, 1+12+len(id))
	k = append(k, prefixIndex)
	k = append(k, store[:]...)
	return append(k, id...)
}

// Ingest stores the xAPI statements of body — one statement object or an
// array — for organisation org and store (lrs_id), as lrs.Prepare checks
// and shapes them, and returns their ids in body order once they are
// durable. It is all-or-nothing: a *journey.SyntaxError or an
// *lrs.IngestError for a bad body, an *lrs.ConflictError naming the ids
// that store already holds with different content; nothing is stored
// then. A statement whose id store already holds with the same content is
// a success that stores nothing (a client retrying after a lost response).
// stored and _id are stamped in log order (see the package documentation).
func (l *Log) Ingest(ctx context.Context, org, store primitive.ObjectID, body []byte) ([]string, error) {
	sc, _ := l.scratch.Get().(*lrs.Scratch)
	if sc == nil {
		sc = new(lrs.Scratch)
	}
	p, err := lrs.PrepareInto(sc, org, store, body, time.Time{})
	// write returns once its group has run storeStatements, which copies
	// the documents into the batch: then sc is free again.
	defer func() {
		if sc.Size() <= maxPooledScratch {
			l.scratch.Put(sc)
		}
	}()
	if err != nil || len(p.Docs) == 0 {
		return p.IDs, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := l.write(func(g *group) error { return g.storeStatements(org, store, &p) }); err != nil {
		return nil, err
	}
	return p.IDs, nil
}

// maxPooledScratch bounds the memory of a scratch Ingest keeps for reuse:
// that of a 1 MiB body (the API's default limit) and then some; a larger
// body's goes to the garbage collector.
const maxPooledScratch = 8 << 20

// storeStatements adds the prepared statements of organisation org and
// store to the group, unless one conflicts.
func (g *group) storeStatements(org, store primitive.ObjectID, p *lrs.Prepared) error {
	skip := make([]bool, len(p.Docs))
	conflict := &lrs.ConflictError{}
	for i := range p.Docs {
		id := p.IDs[i]
		if _, given := p.Given[id]; !given {
			continue // generated: new
		}
		v, ok, err := g.get(indexKey(store, id))
		if err != nil {
			return err
		}
		switch {
		case !ok:
		case len(v) == indexValueLen && bytes.Equal(v[8:8+sha256.Size], p.Content[i][:]):
			skip[i] = true // the same statement again
		default:
			conflict.IDs = append(conflict.IDs, id)
		}
	}
	if len(conflict.IDs) > 0 {
		return conflict
	}
	l := g.l
	now := l.opts.Now().UnixMilli()
	for i, doc := range p.Docs {
		if skip[i] {
			continue
		}
		stored := max(now, l.lastStored)
		var stampErr error
		seq := g.appendStatement(stored, p.Content[i], len(doc), func(seq uint64, dst []byte) {
			copy(dst, doc)
			stampErr = lrs.Stamp(dst, statementID(stored, seq), time.UnixMilli(stored), p.DefaultTimestamp[i])
		})
		if stampErr != nil {
			return stampErr // a bug in shaping: fails the whole group
		}
		l.lastStored = stored
		l.count++
		id := p.IDs[i]
		target, voiding := voidedTarget(doc)
		key := indexKey(store, id)
		val := indexValue(seq, p.Content[i], voiding)
		if _, given := p.Given[id]; given {
			g.set(key, val)
			if err := g.voidIfPending(store, id, seq, voiding); err != nil {
				return err
			}
		} else {
			_ = g.ib.Set(key, val, nil) // a fresh UUID: no later request looks it up
		}
		if voiding {
			if err := g.void(org, store, target, seq); err != nil {
				return err
			}
		}
	}
	return nil
}

// void records that the statement at voidingSeq voids statement target of
// store, of organisation org: a voided mark on the target's entry, or a
// pending void when the target is not stored yet. A voiding statement is
// never voided. The target may be in the group itself (an array that
// stores a statement and voids it, an import).
func (g *group) void(org, store primitive.ObjectID, target string, voidingSeq uint64) error {
	v, ok, err := g.get(indexKey(store, target))
	if err != nil {
		return err
	}
	var seqb [8]byte
	binary.BigEndian.PutUint64(seqb[:], voidingSeq)
	if !ok {
		g.set(pendingVoidKey(store, target), seqb[:])
		g.l.pendingVoids++ // may count a key twice: an upper bound
		return nil
	}
	if len(v) == indexValueLen && v[indexValueLen-1]&flagVoiding != 0 {
		return nil
	}
	targetSeq := binary.BigEndian.Uint64(v)
	if _, already, err := g.get(voidedKey(targetSeq)); err != nil || already {
		return err // voided before: nothing changes
	}
	g.set(voidedKey(targetSeq), seqb[:])
	g.l.voided++
	// The pipeline may have counted the target: the entry that follows
	// tells it, as Learning Locker's update of voided does on MongoDB.
	g.appendEntry(kindStatementVoided, g.l.lastStored, 8, func(_ uint64, dst []byte) { binary.BigEndian.PutUint64(dst, targetSeq) })
	return nil
}

// voidIfPending marks statement id of store (just stored at seq) voided if
// a voiding statement referring to it came first, unless it is itself a
// voiding statement (voiding): that one is never voided (xAPI 1.0.3 Data
// §2.3.2), and the pending void is dropped, as void drops it when the
// target came first.
func (g *group) voidIfPending(store primitive.ObjectID, id string, seq uint64, voiding bool) error {
	if g.l.pendingVoids == 0 {
		return nil // none at all: the common case costs no look-up
	}
	key := pendingVoidKey(store, id)
	v, ok, err := g.get(key)
	if err != nil || !ok {
		return err
	}
	g.del(key)
	g.l.pendingVoids--
	if voiding {
		return nil
	}
	g.set(voidedKey(seq), v)
	g.l.voided++
	return nil
}

// statementID returns the _id of the statement stored at ms with seq: the
// stored second, then seq, so that (stored, _id) order is seq order.
func statementID(ms int64, seq uint64) primitive.ObjectID {
	var id primitive.ObjectID
	binary.BigEndian.PutUint32(id[:4], uint32(ms/1000))
	binary.BigEndian.PutUint64(id[4:], seq)
	return id
}

// Statement returns the stored document of statement id in store, and
// whether it is voided; lrs.ErrNotFound when store holds no such id.
func (l *Log) Statement(ctx context.Context, store primitive.ObjectID, id string) (bson.Raw, bool, error) {
	if l.closed.Load() {
		return nil, false, ErrClosed
	}
	v, closer, err := l.idx.Get(indexKey(store, id))
	if err != nil {
		return nil, false, notFound(err)
	}
	seq := binary.BigEndian.Uint64(v)
	closer.Close()
	doc, err := l.entryDoc(seq)
	if err != nil {
		return nil, false, err
	}
	_, vcloser, err := l.db.Get(voidedKey(seq))
	if err == nil {
		vcloser.Close()
		return doc, true, nil
	}
	return doc, false, nil
}
