package state

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
)

// The crash test's workload: batch i is a deterministic function of i and
// of the state committed by batches 0..i-1. The child process applies it to
// a real Store; the parent applies it to crashModel to know what the store
// must hold after any prefix of batches.

// crashJourneys are byte-adjacent ids, so a leak across journey ranges
// would show up as extra or missing keys.
var crashJourneys = [...]JourneyID{journey(0, 0xFF), journey(1, 0), journey(0xFF, 0xFF)}

const (
	crashOwnerPool     = 120 // owners per journey
	crashOwnersPerStep = 17  // owners touched per journey per batch (≈50 per batch)
	crashCompleteAt    = 5   // statements that complete an attempt
)

// crashWriter is the part of Batch the workload uses.
type crashWriter interface {
	SetCheckpoint(v []byte)
	PutProgress(j JourneyID, owner, value []byte)
	DeleteProgress(j JourneyID, owner []byte)
	PutAttempt(j JourneyID, owner []byte, n uint32, value []byte)
	MarkFired(j JourneyID, owner []byte, n uint32)
	PutJourneyMeta(j JourneyID, value []byte)
	DeleteJourney(j JourneyID)
	ResetJourneyProgress(j JourneyID)
	PutOutbox(id, value []byte)
	DeleteOutbox(id []byte)
	PutDead(id, value []byte)
}

// progressReader returns committed progress, as Store.Progress does.
type progressReader func(j JourneyID, owner []byte) ([]byte, bool)

// crashOwner returns owner k of the pool; the variants put 0x00 and 0xFF at
// the start, the end and in the middle of owner keys.
func crashOwner(k int) []byte {
	o := fmt.Appendf(nil, "mbox\x00mailto:learner%d@example.com", k)
	switch k % 4 {
	case 1:
		o = append(o, 0xFF)
	case 2:
		o = append([]byte{0x00}, o...)
	case 3:
		o = append(o, 0x00, 0xFF, 0x00)
	}
	return o
}

// crashProgress is the decoded progress value: an attempt number, the
// statements counted in it and a running hash of the batches that counted
// them, so that a lost or doubled batch changes every later value.
type crashProgress struct {
	attempt, count uint32
	hash           uint64
}

func (p crashProgress) encode() []byte {
	b := binary.BigEndian.AppendUint32(nil, p.attempt)
	b = binary.BigEndian.AppendUint32(b, p.count)
	return binary.BigEndian.AppendUint64(b, p.hash)
}

func decodeCrashProgress(b []byte) crashProgress {
	if len(b) != 16 {
		panic(fmt.Sprintf("crash progress value of %d bytes", len(b)))
	}
	return crashProgress{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint64(b[8:])}
}

// mix folds a batch number into a running hash (a splitmix64 step), so
// that the hash depends on which batches counted and in what order.
func mix(h, i uint64) uint64 {
	x := h ^ (i + 0x9E3779B97F4A7C15)
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// deliveryID is the outbox id of the delivery queued by batch i.
func deliveryID(i uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("d"), i)
}

// crashBatch writes batch i. Every owner is touched at most once per batch
// and reads see only committed state, as in the engine.
func crashBatch(i uint64, read progressReader, w crashWriter) {
	// Journey-level events come first so that the progress updates below
	// land on top of them, as a recalculation's do.
	if i%37 == 36 {
		w.ResetJourneyProgress(crashJourneys[(i/37)%3])
	}
	if i%53 == 52 {
		j := crashJourneys[(i/53)%3]
		w.DeleteJourney(j)
		w.PutJourneyMeta(j, []byte("recreated"))
	}
	if i%10 == 0 {
		w.PutJourneyMeta(crashJourneys[(i/10)%3], binary.BigEndian.AppendUint64(nil, i))
	}
	for ji, j := range crashJourneys {
		for k := range uint64(crashOwnersPerStep) {
			owner := crashOwner(int((i*crashOwnersPerStep + k + uint64(ji)*7) % crashOwnerPool))
			var p crashProgress
			if v, ok := read(j, owner); ok {
				p = decodeCrashProgress(v)
			}
			p.count++
			p.hash = mix(p.hash, i)
			if p.count < crashCompleteAt {
				w.PutProgress(j, owner, p.encode())
				continue
			}
			w.PutAttempt(j, owner, p.attempt, p.encode())
			if p.attempt%2 == 0 {
				w.MarkFired(j, owner, p.attempt)
			}
			if p.attempt%3 == 2 {
				// The owner is done: a non-repeatable journey drops
				// the current attempt; a later touch starts over at 0.
				w.DeleteProgress(j, owner)
				continue
			}
			w.PutProgress(j, owner, crashProgress{attempt: p.attempt + 1, hash: p.hash}.encode())
		}
	}
	if i%4 == 0 {
		w.PutOutbox(deliveryID(i), binary.BigEndian.AppendUint64(nil, mix(0, i)))
		if i >= 8 {
			// The delivery queued two rounds ago either succeeded or
			// was dead-lettered.
			old := deliveryID(i - 8)
			w.DeleteOutbox(old)
			if (i/4)%2 == 1 {
				w.PutDead(old, []byte("gave up"))
			}
		}
	}
	w.SetCheckpoint(binary.BigEndian.AppendUint64(nil, i))
}

// crashModel is the expected content of the store, kept as plain maps.
type crashModel struct {
	checkpoint []byte
	progress   map[JourneyID]map[string][]byte
	attempts   map[JourneyID]map[string]map[uint32][]byte
	fired      map[JourneyID]map[string]map[uint32]bool
	meta       map[JourneyID][]byte
	outbox     map[string][]byte
	dead       map[string][]byte
}

func newCrashModel() *crashModel {
	return &crashModel{
		progress: map[JourneyID]map[string][]byte{},
		attempts: map[JourneyID]map[string]map[uint32][]byte{},
		fired:    map[JourneyID]map[string]map[uint32]bool{},
		meta:     map[JourneyID][]byte{},
		outbox:   map[string][]byte{},
		dead:     map[string][]byte{},
	}
}

// apply runs batch i against the model: the workload reads the model's
// committed state while its writes are staged, and the staged writes are
// then applied in order, as a Pebble batch is.
func (m *crashModel) apply(i uint64) {
	var staged crashStaged
	crashBatch(i, m.read, &staged)
	for _, op := range staged {
		op(m)
	}
}

func (m *crashModel) read(j JourneyID, owner []byte) ([]byte, bool) {
	v, ok := m.progress[j][string(owner)]
	return v, ok
}

// render returns every key and value the store must hold.
func (m *crashModel) render() map[string]string {
	out := map[string]string{string(versionKey): string([]byte{layoutVersion})}
	if m.checkpoint != nil {
		out[string(checkpointKey)] = string(m.checkpoint)
	}
	for j, owners := range m.progress {
		for o, v := range owners {
			out[string(appendOwnerKey(nil, kindProgress, j, []byte(o)))] = string(v)
		}
	}
	for j, owners := range m.attempts {
		for o, byN := range owners {
			for n, v := range byN {
				out[string(appendAttemptKey(nil, kindAttempt, j, []byte(o), n))] = string(v)
			}
		}
	}
	for j, owners := range m.fired {
		for o, byN := range owners {
			for n := range byN {
				out[string(appendAttemptKey(nil, kindFired, j, []byte(o), n))] = ""
			}
		}
	}
	for j, v := range m.meta {
		out[string(appendJourneyPrefix(nil, kindMeta, j))] = string(v)
	}
	for id, v := range m.outbox {
		out[string(append([]byte{kindOutbox}, id...))] = string(v)
	}
	for id, v := range m.dead {
		out[string(append([]byte{kindDead}, id...))] = string(v)
	}
	return out
}

// sortedKeys lists a rendered state's keys in key order.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// crashStaged collects a batch's writes as operations on the model.
type crashStaged []func(m *crashModel)

// inner returns m[k], creating it.
func inner[K comparable, K2 comparable, V any](m map[K]map[K2]V, k K) map[K2]V {
	if m[k] == nil {
		m[k] = map[K2]V{}
	}
	return m[k]
}

func (s *crashStaged) SetCheckpoint(v []byte) {
	v = slices.Clone(v)
	*s = append(*s, func(m *crashModel) { m.checkpoint = v })
}

func (s *crashStaged) PutProgress(j JourneyID, owner, value []byte) {
	o, v := string(owner), slices.Clone(value)
	*s = append(*s, func(m *crashModel) { inner(m.progress, j)[o] = v })
}

func (s *crashStaged) DeleteProgress(j JourneyID, owner []byte) {
	o := string(owner)
	*s = append(*s, func(m *crashModel) { delete(m.progress[j], o) })
}

func (s *crashStaged) PutAttempt(j JourneyID, owner []byte, n uint32, value []byte) {
	o, v := string(owner), slices.Clone(value)
	*s = append(*s, func(m *crashModel) { inner(inner(m.attempts, j), o)[n] = v })
}

func (s *crashStaged) MarkFired(j JourneyID, owner []byte, n uint32) {
	o := string(owner)
	*s = append(*s, func(m *crashModel) { inner(inner(m.fired, j), o)[n] = true })
}

func (s *crashStaged) PutJourneyMeta(j JourneyID, value []byte) {
	v := slices.Clone(value)
	*s = append(*s, func(m *crashModel) { m.meta[j] = v })
}

// DeleteJourney mirrors the documented semantics: fired markers survive.
func (s *crashStaged) DeleteJourney(j JourneyID) {
	*s = append(*s, func(m *crashModel) {
		delete(m.progress, j)
		delete(m.attempts, j)
		delete(m.meta, j)
	})
}

func (s *crashStaged) ResetJourneyProgress(j JourneyID) {
	*s = append(*s, func(m *crashModel) {
		delete(m.progress, j)
		delete(m.attempts, j)
	})
}

func (s *crashStaged) PutOutbox(id, value []byte) {
	k, v := string(id), slices.Clone(value)
	*s = append(*s, func(m *crashModel) { m.outbox[k] = v })
}

func (s *crashStaged) DeleteOutbox(id []byte) {
	k := string(id)
	*s = append(*s, func(m *crashModel) { delete(m.outbox, k) })
}

func (s *crashStaged) PutDead(id, value []byte) {
	k, v := string(id), slices.Clone(value)
	*s = append(*s, func(m *crashModel) { m.dead[k] = v })
}
