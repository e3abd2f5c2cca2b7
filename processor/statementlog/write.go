package statementlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble"
)

// request is one unit of work for the writer. apply checks it against the
// log as it stands, the group's earlier requests included, and then adds
// its writes to the group; a request it refuses (a conflict, a missing
// journey) returns its error before writing anything.
type request struct {
	apply func(g *group) error
	done  chan error // buffered: receives the outcome once
}

// group is the batch of one group commit.
type group struct {
	l *Log
	b *pebble.Batch // the log's entries, voided marks, pending voids, journeys
	// ib is the index instance's batch: id index keys and counters,
	// committed after b.
	ib *pebble.Batch
	// overlay holds the index and journey keys written by the group's
	// earlier requests (a nil value is a deletion), so that later ones see
	// them: the batch is not indexed.
	overlay map[string][]byte
	dirty   bool // something was written
	// it and lit read the index and the log for get: one iterator each
	// for the whole group (see get), created at the first read and closed
	// with the group.
	it, lit *pebble.Iterator
}

// write runs r's apply in a group commit and returns its outcome once the
// group is durable. Concurrent calls are combined: whoever holds the
// writer lock applies every request queued so far and commits them with
// one synced batch; a caller whose request an earlier writer took just
// collects the outcome. A writer commits at most one group, its own request
// among them, so no caller waits behind a stream of others.
func (l *Log) write(apply func(g *group) error) error {
	r := &request{apply: apply, done: make(chan error, 1)}
	l.queueMu.Lock()
	l.queue = append(l.queue, r)
	l.queueMu.Unlock()

	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	select {
	case err := <-r.done:
		return err
	default:
	}
	l.queueMu.Lock()
	reqs := l.queue
	l.queue = nil
	l.queueMu.Unlock()
	if l.closed.Load() || l.failed != nil {
		err := ErrClosed
		if l.failed != nil {
			err = l.failed
		}
		for _, q := range reqs {
			q.done <- err
		}
		return <-r.done
	}
	l.commitGroup(reqs)
	return <-r.done
}

// commitGroup applies reqs and commits them; it answers every request.
func (l *Log) commitGroup(reqs []*request) {
	g := &group{l: l, b: l.db.NewBatch(), ib: l.idx.NewBatch(), overlay: map[string][]byte{}}
	defer g.close()
	next, lastStored, count, pending := l.next, l.lastStored, l.count, l.pendingVoids
	errs := make([]error, len(reqs))
	failAll := func(err error) {
		l.next, l.lastStored, l.count, l.pendingVoids = next, lastStored, count, pending
		for _, q := range reqs {
			q.done <- err
		}
	}
	defer func() {
		// Every caller waits for an outcome: never leave one without.
		if v := recover(); v != nil {
			failAll(fmt.Errorf("statementlog: write: %v", v))
			panic(v)
		}
	}()
	for i, q := range reqs {
		before := g.b.Count() + g.ib.Count()
		errs[i] = q.apply(g)
		if errs[i] != nil && g.b.Count()+g.ib.Count() != before {
			// A request must refuse before it writes; one that failed
			// half-way cannot be taken out of the batch.
			failAll(fmt.Errorf("statementlog: write: %w", errs[i]))
			return
		}
	}
	if err := g.closeIter(); err != nil {
		failAll(err)
		return
	}
	if g.dirty {
		if err := g.b.Commit(l.wo); err != nil {
			failAll(fmt.Errorf("statementlog: commit: %w", err))
			return
		}
		// The log is durable; the index follows it, unsynced and without
		// a WAL: what a crash loses of it, Open's catch-up rebuilds from
		// the log up to metaIndexed.
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(l.count))
		_ = g.ib.Set(metaCount, buf[:], nil)
		binary.BigEndian.PutUint64(buf[:], uint64(l.lastStored))
		_ = g.ib.Set(metaStored, buf[:], nil)
		binary.BigEndian.PutUint64(buf[:], l.next-1)
		_ = g.ib.Set(metaIndexed, buf[:], nil)
		if err := g.ib.Commit(pebble.NoSync); err != nil {
			// Stored but not indexed: later writes would miss these ids.
			l.failed = fmt.Errorf("statementlog: commit the index (the log refuses writes until reopened): %w", err)
			l.publish()
			for _, q := range reqs {
				q.done <- l.failed
			}
			return
		}
		l.publish()
	}
	for i, q := range reqs {
		q.done <- errs[i]
	}
}

// get returns the value of key as the group sees it (nil, false when
// absent). The value is a copy.
//
// Reads go through one iterator per group rather than a DB.Get each: a
// Get builds a fresh view of every level, opening each table's iterator
// and filter block again, which made the id index lookup of client-sent
// ids a quarter of the daemon's CPU under load; the group's iterator
// keeps them open across its lookups. SeekPrefixGE consults the tables'
// bloom filters as Get does (the whole key is the prefix: the default
// Comparer's Split). The iterator sees the log as it was when the group
// began, which is the log as it is: only the writer, which holds the
// writer lock for the whole group, writes, and the group's own writes are
// in the overlay.
func (g *group) get(key []byte) ([]byte, bool, error) {
	if v, ok := g.overlay[string(key)]; ok {
		return v, v != nil, nil
	}
	db, it := g.l.db, &g.lit
	if key[0] == prefixIndex {
		db, it = g.l.idx, &g.it
	}
	if *it == nil {
		i, err := db.NewIter(nil)
		if err != nil {
			return nil, false, fmt.Errorf("statementlog: read: %w", err)
		}
		*it = i
	}
	if !(*it).SeekPrefixGE(key) {
		if err := (*it).Error(); err != nil {
			return nil, false, fmt.Errorf("statementlog: read: %w", err)
		}
		return nil, false, nil
	}
	if !bytes.Equal((*it).Key(), key) {
		return nil, false, nil
	}
	v, err := (*it).ValueAndErr()
	if err != nil {
		return nil, false, fmt.Errorf("statementlog: read: %w", err)
	}
	return bytes.Clone(v), true, nil
}

// closeIter closes the group's read iterators, if it has them.
func (g *group) closeIter() error {
	var err error
	for _, it := range []**pebble.Iterator{&g.it, &g.lit} {
		if *it == nil {
			continue
		}
		if cerr := (*it).Close(); cerr != nil && err == nil {
			err = fmt.Errorf("statementlog: read: %w", cerr)
		}
		*it = nil
	}
	return err
}

// close releases the group's iterator and batch.
func (g *group) close() {
	_ = g.closeIter() // an error here was already reported, or nothing was read
	_ = g.b.Close()
	_ = g.ib.Close()
}

// batch returns the batch key belongs in: the index instance's for id
// index keys, the log's for the others.
func (g *group) batch(key []byte) *pebble.Batch {
	if key[0] == prefixIndex {
		return g.ib
	}
	return g.b
}

// set writes key, visible to the group's later requests.
func (g *group) set(key, val []byte) {
	_ = g.batch(key).Set(key, val, nil) // fails only on a closed batch
	g.overlay[string(key)] = val
	g.dirty = true
}

// del deletes key, visible to the group's later requests.
func (g *group) del(key []byte) {
	_ = g.batch(key).Delete(key, nil)
	g.overlay[string(key)] = nil
	g.dirty = true
}

// appendStatement appends a kindStatementDigest entry at time ms with the
// client's content digest and the document returned by fill (given the
// entry's seq), and returns the seq.
func (g *group) appendStatement(ms int64, digest [sha256.Size]byte, docLen int, fill func(seq uint64, dst []byte)) uint64 {
	return g.appendEntry(kindStatementDigest, ms, sha256.Size+docLen, func(seq uint64, dst []byte) {
		copy(dst, digest[:])
		fill(seq, dst[sha256.Size:])
	})
}

// appendEntry appends an entry of kind at time ms with the payload
// returned by fill (given the entry's seq), and returns the seq.
func (g *group) appendEntry(kind byte, ms int64, payloadLen int, fill func(seq uint64, dst []byte)) uint64 {
	seq := g.l.next
	g.l.next++
	key := entryKey(seq)
	op := g.b.SetDeferred(len(key), entryHeader+payloadLen)
	copy(op.Key, key)
	op.Value[0] = kind
	binary.BigEndian.PutUint64(op.Value[1:], uint64(ms))
	fill(seq, op.Value[entryHeader:])
	_ = op.Finish()
	g.dirty = true
	return seq
}
