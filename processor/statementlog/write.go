package statementlog

import (
	"encoding/binary"
	"errors"
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
	b *pebble.Batch
	// overlay holds the index and journey keys written by the group's
	// earlier requests (a nil value is a deletion), so that later ones see
	// them: the batch is not indexed.
	overlay map[string][]byte
	dirty   bool // something was written
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
	if l.closed.Load() {
		for _, q := range reqs {
			q.done <- ErrClosed
		}
		return <-r.done
	}
	l.commitGroup(reqs)
	return <-r.done
}

// commitGroup applies reqs and commits them; it answers every request.
func (l *Log) commitGroup(reqs []*request) {
	g := &group{l: l, b: l.db.NewBatch(), overlay: map[string][]byte{}}
	defer g.b.Close()
	next, lastStored, count := l.next, l.lastStored, l.count
	errs := make([]error, len(reqs))
	failAll := func(err error) {
		l.next, l.lastStored, l.count = next, lastStored, count
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
		before := g.b.Count()
		errs[i] = q.apply(g)
		if errs[i] != nil && g.b.Count() != before {
			// A request must refuse before it writes; one that failed
			// half-way cannot be taken out of the batch.
			failAll(fmt.Errorf("statementlog: write: %w", errs[i]))
			return
		}
	}
	if g.dirty {
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(l.count))
		_ = g.b.Set(metaCount, buf[:], nil)
		binary.BigEndian.PutUint64(buf[:], uint64(l.lastStored))
		_ = g.b.Set(metaStored, buf[:], nil)
		if err := g.b.Commit(l.wo); err != nil {
			failAll(fmt.Errorf("statementlog: commit: %w", err))
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
func (g *group) get(key []byte) ([]byte, bool, error) {
	if v, ok := g.overlay[string(key)]; ok {
		return v, v != nil, nil
	}
	v, closer, err := g.l.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("statementlog: read: %w", err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), true, nil
}

// set writes key, visible to the group's later requests.
func (g *group) set(key, val []byte) {
	_ = g.b.Set(key, val, nil) // fails only on a closed batch
	g.overlay[string(key)] = val
	g.dirty = true
}

// del deletes key, visible to the group's later requests.
func (g *group) del(key []byte) {
	_ = g.b.Delete(key, nil)
	g.overlay[string(key)] = nil
	g.dirty = true
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
