package cond

import (
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"

	"github.com/journeys/journeys/internal/rawbson"
)

// PathTable interns dotted paths, with all their prefixes, to small
// integer ids for a Memo. It is not safe for concurrent use while paths are
// interned; once built, any number of Memos and Bounds may share it.
type PathTable struct {
	ids    map[string]int32
	parent []int32  // id of the path without its last segment, -1 at the top level
	seg    []string // the path's last segment
	paths  []Path   // the path itself, for walking it when the memo cannot
}

// NewPathTable returns an empty table.
func NewPathTable() *PathTable { return &PathTable{ids: map[string]int32{}} }

// Intern returns p's id, adding p and its prefixes when they are new. The
// zero Path gets -1, which no Memo resolves.
func (t *PathTable) Intern(p Path) int32 {
	if p.p.IsZero() {
		return -1
	}
	s := p.String()
	if id, ok := t.ids[s]; ok {
		return id
	}
	parent := int32(-1)
	last := s
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		parent, last = t.Intern(ParsePath(s[:i])), s[i+1:]
	}
	id := int32(len(t.seg))
	t.ids[s] = id
	t.parent = append(t.parent, parent)
	t.seg = append(t.seg, last)
	t.paths = append(t.paths, p)
	return id
}

// Len returns the number of ids interned (paths and prefixes).
func (t *PathTable) Len() int { return len(t.seg) }

// Bind interns m's paths and returns m bound to t.
func (t *PathTable) Bind(m *Matcher) Bound {
	ids := make([]int32, len(m.paths))
	for i, p := range m.paths {
		ids[i] = t.Intern(p)
	}
	return Bound{m: m, t: t, ids: ids}
}

// NewMemo returns a memo over t's paths, to be Reset with each document.
func (t *PathTable) NewMemo() *Memo { return &Memo{t: t} }

// Bound is a Matcher whose paths are interned in a PathTable, so that it
// can read their values from a Memo of that table. The zero Bound matches
// nothing. A Bound is immutable and safe for concurrent use.
type Bound struct {
	m   *Matcher
	t   *PathTable
	ids []int32 // per path slot of m, its id in t
}

// Match reports whether the document memo was last Reset with satisfies
// the query: the same answer as Matcher.Match on that document, with each
// path's value read from memo when it resolves there (and resolved into it
// when not yet). A memo of another table is not used: the query walks the
// document as Match does.
func (b Bound) Match(memo *Memo) (matched bool) {
	if b.m == nil {
		return false
	}
	defer recoverMalformed(&matched)
	if memo.t != b.t {
		return b.m.root.match(memo.doc, nil, nil)
	}
	return b.m.root.match(memo.doc, b.ids, memo)
}

// Memo holds the values of a PathTable's paths in one document, each
// resolved at most once, on first use, until the next Reset. It is owned by
// one goroutine; the document must not change while it is in use.
type Memo struct {
	t     *PathTable
	doc   []byte
	epoch uint32
	slots []memoSlot
}

// memoSlot is one path's resolution: valid when its epoch is the memo's;
// ok false when the path meets an array or damage (walk it instead).
type memoSlot struct {
	epoch uint32
	ok    bool
	v     rawbson.Value
}

// Reset starts a new document: every path is unresolved again. It does
// not allocate, except to make room for paths interned since the last
// Reset.
func (m *Memo) Reset(doc []byte) {
	m.doc = doc
	if n := m.t.Len(); len(m.slots) < n {
		m.slots = append(m.slots, make([]memoSlot, n-len(m.slots))...)
	}
	m.epoch++
	if m.epoch == 0 {
		// After 2³² documents, stale stamps could look current again.
		clear(m.slots)
		m.epoch = 1
	}
}

// Visit calls fn with every value at path id of the document, as
// Path.Visit does (missing values are not reported, the elements of an
// array are), reading the value from the memo when the path resolves
// there. It stops early when fn returns false.
func (m *Memo) Visit(id int32, fn func(v bson.RawValue) bool) {
	if v, ok := m.resolve(id); ok {
		if !v.Missing() {
			fn(bson.RawValue{Type: v.Type, Value: v.Data})
		}
		return
	}
	if id >= 0 && int(id) < len(m.t.paths) {
		m.t.paths[id].Visit(m.doc, fn)
	}
}

// resolve returns the single value MongoDB's traversal presents at path id
// (the zero value when it is missing) and true, or false when the path
// meets an array or a malformed element, or id is not one of the memo's.
func (m *Memo) resolve(id int32) (rawbson.Value, bool) {
	if id < 0 || int(id) >= len(m.slots) {
		return rawbson.Value{}, false
	}
	if s := &m.slots[id]; s.epoch == m.epoch {
		return s.v, s.ok
	}
	container, ok, present := m.doc, true, true
	if parent := m.t.parent[id]; parent >= 0 {
		var pv rawbson.Value
		pv, ok = m.resolve(parent)
		// A missing field or a scalar before the end of the path: the path
		// is missing (an array parent is not ok).
		container, present = pv.Data, pv.Type == bsontype.EmbeddedDocument
	}
	var v rawbson.Value
	if ok && present {
		var err error
		v, err = rawbson.Lookup(container, m.t.seg[id])
		if err != nil || v.Type == bsontype.Array {
			v, ok = rawbson.Value{}, false
		}
	}
	m.slots[id] = memoSlot{epoch: m.epoch, ok: ok, v: v}
	return v, ok
}
