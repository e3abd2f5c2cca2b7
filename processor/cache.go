package processor

import "strings"

// recordCache keeps the committed progress records of recent commits, in
// their stored encoding, so that an owner who is active across commits — a
// learner's session spans many batches — is not read from Pebble for every
// batch; a hit costs a decode.
//
// It holds only records as committed: Engine.commit puts every record it
// wrote (and those it loaded and left unchanged) once the batch is durable;
// a load copies the record out by decoding it and leaves the cached bytes
// as they are. So pending work that is discarded, or a commit that fails,
// leaves the cache holding what the store holds. An empty value records
// that the owner has no record (loads of owners a statement does not count
// for are as frequent as any).
//
// It is bounded by bytes, not records, so that its memory does not depend
// on the journeys' shapes: each cached record is charged its key, its
// encoding's capacity and cacheEntryOverhead. Two generations approximate
// LRU with O(1) operations: records go into cur; when cur holds half the
// budget it becomes old and the previous old generation is dropped; putting
// a record that is in old moves it to cur. A cache of budget B so keeps at
// least the B/2 bytes of records used most recently, and at most B.
type recordCache struct {
	half     int // bytes of a generation; 0: the cache is disabled
	curBytes int
	cur, old map[string][]byte
}

// defaultCacheBytes is the record cache's default budget: 32 MiB keep the
// 95,000 to 190,000 most recently used records of a two-waypoint journey
// (~70 bytes encoded, ~180 charged with an e-mail owner's key and the
// overhead), proportionally fewer of longer journeys.
const defaultCacheBytes = 32 << 20

// cacheEntryOverhead is what a cached record costs beyond its key and value
// bytes: its map slot (a string and a slice header), the map's spare slots,
// and the allocator's rounding of the two allocations.
const cacheEntryOverhead = 64

func newRecordCache(budget int) *recordCache {
	if budget == 0 {
		budget = defaultCacheBytes
	}
	if budget < 0 {
		return &recordCache{}
	}
	return &recordCache{half: max(budget/2, 1), cur: map[string][]byte{}, old: map[string][]byte{}}
}

// cachedSize is what the cache charges for the record v of key.
func cachedSize(key string, v []byte) int { return len(key) + cap(v) + cacheEntryOverhead }

// get returns the committed encoding of key's record, empty when the owner
// has none, and whether it is cached. The bytes remain the cache's: the
// caller decodes them before the next put.
func (c *recordCache) get(key []byte) ([]byte, bool) {
	if c.half == 0 {
		return nil, false
	}
	if v, ok := c.cur[string(key)]; ok {
		return v, true
	}
	v, ok := c.old[string(key)]
	return v, ok
}

// put caches v (copied; empty: no record) as key's committed record, as the
// most recently used.
func (c *recordCache) put(key string, v []byte) {
	if c.half == 0 {
		return
	}
	if b, ok := c.cur[key]; ok {
		c.curBytes -= cachedSize(key, b)
		b = append(b[:0], v...)
		c.cur[key] = b
		c.curBytes += cachedSize(key, b)
		return
	}
	b, ok := c.old[key]
	if ok {
		delete(c.old, key)
		b = append(b[:0], v...)
	} else if len(v) > 0 {
		b = append(make([]byte, 0, len(v)), v...)
	}
	if c.curBytes >= c.half {
		c.old, c.cur, c.curBytes = c.cur, make(map[string][]byte, len(c.cur)), 0
	}
	c.cur[key] = b
	c.curBytes += cachedSize(key, b)
}

// drop forgets key's record.
func (c *recordCache) drop(key []byte) {
	if c.half == 0 {
		return
	}
	if b, ok := c.cur[string(key)]; ok {
		c.curBytes -= cachedSize(string(key), b)
		delete(c.cur, string(key))
	}
	delete(c.old, string(key))
}

// dropJourney forgets the records of one journey (its progress was reset
// or deleted).
func (c *recordCache) dropJourney(id [12]byte) {
	for k, b := range c.cur {
		if strings.HasPrefix(k, string(id[:])) {
			c.curBytes -= cachedSize(k, b)
			delete(c.cur, k)
		}
	}
	for k := range c.old {
		if strings.HasPrefix(k, string(id[:])) {
			delete(c.old, k)
		}
	}
}

// reset empties the cache.
func (c *recordCache) reset() {
	clear(c.cur)
	clear(c.old)
	c.curBytes = 0
}
