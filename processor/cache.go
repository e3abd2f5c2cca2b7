package processor

// recordCache keeps the decoded progress records of recent commits, so that
// an owner who is active across commits — a learner's session spans many
// batches — is not read from Pebble and decoded again for every batch.
//
// It holds only records as committed: an entry leaves the cache when a
// statement loads it into the engine's pending work, and comes back only
// after the commit that wrote it succeeded. So discarding pending work never
// leaves a modified record behind.
//
// Two generations approximate LRU with O(1) operations: entries go into
// cur; when cur reaches half the capacity it becomes old and the previous
// old generation is dropped; taking an entry from either removes it.
type recordCache struct {
	half     int
	cur, old map[string]*entry
}

// defaultCacheRecords bounds the records cached across commits (about
// 200 bytes to 1 KB each, with a few statement references per waypoint).
const defaultCacheRecords = 1 << 16

func newRecordCache(capacity int) *recordCache {
	if capacity == 0 {
		capacity = defaultCacheRecords
	}
	if capacity < 0 {
		return &recordCache{}
	}
	return &recordCache{half: max(capacity/2, 1), cur: map[string]*entry{}, old: map[string]*entry{}}
}

// take removes and returns the cached record of key, if any.
func (c *recordCache) take(key []byte) *entry {
	if c.half == 0 {
		return nil
	}
	if en, ok := c.cur[string(key)]; ok {
		delete(c.cur, string(key))
		return en
	}
	if en, ok := c.old[string(key)]; ok {
		delete(c.old, string(key))
		return en
	}
	return nil
}

// put caches a committed record.
func (c *recordCache) put(en *entry) {
	if c.half == 0 {
		return
	}
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[string]*entry, c.half)
	}
	c.cur[en.key] = en
}

// dropJourney forgets the records of one journey (its progress was reset
// or deleted).
func (c *recordCache) dropJourney(id [12]byte) {
	for _, m := range []map[string]*entry{c.cur, c.old} {
		for k := range m {
			if k[:12] == string(id[:]) {
				delete(m, k)
			}
		}
	}
}

// reset empties the cache.
func (c *recordCache) reset() {
	clear(c.cur)
	clear(c.old)
}
