package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
)

// projection selects the fields of the documents a list returns, with
// MongoDB's inclusion and exclusion semantics over the API form of the
// document: {"description": 1, "waypoints.description": 1} keeps those
// fields (and _id, unless {"_id": 0} drops it, as in MongoDB),
// {"waypoints": 0} drops that one, and
// {"title": "$description"} (an inclusion) returns description under the
// name title, as $project does.
type projection struct {
	include bool
	root    *projNode
	renames []rename
	// dropID drops the top-level _id, which is otherwise always kept.
	dropID bool
}

// rename is a field of the output taken from another path of the document.
type rename struct {
	as   string
	from []string
}

// projNode is one level of the projected paths; a leaf selects the whole
// value at its path.
type projNode struct {
	leaf     bool
	children map[string]*projNode
}

// projectParam parses the project parameter, or restify's select (Learning
// Locker's models API is served by express-restify-mongoose, whose select
// is a JSON object or a list "a,-b" that mongoose also reads space
// separated, "a -b", or as a JSON array of such names); nil means no
// projection.
func projectParam(q url.Values) (*projection, error) {
	name, s := "project", q.Get("project")
	if v := q.Get("select"); v != "" {
		if s != "" {
			return nil, errBadRequest("select", "give project or select, not both")
		}
		name, s = "select", v
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if name == "select" && s[0] == '[' {
		var fields []string
		if err := json.Unmarshal([]byte(s), &fields); err != nil {
			return nil, errBadRequest("select", `a JSON array must list field names, as in ["description", "-waypoints"]`)
		}
		return selectList(strings.Join(fields, ","))
	}
	if name == "select" && s[0] != '{' {
		return selectList(s)
	}
	doc, err := jsonObjectParam(name, s)
	if err != nil {
		return nil, err
	}
	elems, err := doc.Elements()
	if err != nil {
		return nil, errBadRequest(name, "invalid document: "+err.Error())
	}
	var b projBuilder
	for _, e := range elems {
		path := e.Key()
		if err := checkPath(path); err != nil {
			return nil, errBadRequest(name, err.Error())
		}
		if from, ok := e.Value().StringValueOK(); ok {
			err = b.rename(path, from)
		} else if inc, ok := projectionFlag(e.Value()); ok {
			err = b.flag(path, inc)
		} else {
			err = fmt.Errorf(`%q: only 1/true (include), 0/false (exclude) and "$field" (rename) are supported; other aggregation expressions are not supported`, path)
		}
		if err != nil {
			return nil, errBadRequest(name, err.Error())
		}
	}
	return b.done()
}

// selectList parses restify's and mongoose's select list: paths separated
// by commas or spaces, each included, or excluded with a leading '-'.
func selectList(s string) (*projection, error) {
	var b projBuilder
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		inc := true
		switch f[0] {
		case '-':
			inc, f = false, f[1:]
		case '+':
			f = f[1:]
		}
		if err := checkPath(f); err != nil {
			return nil, errBadRequest("select", err.Error())
		}
		if err := b.flag(f, inc); err != nil {
			return nil, errBadRequest("select", err.Error())
		}
	}
	return b.done()
}

// projBuilder collects a projection's members and checks their
// combination.
type projBuilder struct {
	p    projection
	mode int // 1 include, -1 exclude, 0 not yet known
	id   int // the _id flag: 1 include, -1 exclude, 0 not given
}

// flag adds an inclusion or exclusion of path.
func (b *projBuilder) flag(path string, inc bool) error {
	if path == "_id" {
		// _id combines with either mode (MongoDB's one exception).
		b.id = -1
		if inc {
			b.id = 1
		}
		return nil
	}
	m := -1
	if inc {
		m = 1
	}
	if err := b.setMode(m); err != nil {
		return err
	}
	if b.p.root == nil {
		b.p.root = &projNode{}
	}
	if !b.p.root.add(strings.Split(path, ".")) {
		return fmt.Errorf("path %q collides with another projected path", path)
	}
	for _, r := range b.p.renames {
		if overlaps(r.as, path) {
			return fmt.Errorf("path %q collides with the renamed field %q", path, r.as)
		}
	}
	return nil
}

// rename adds the output field as taken from "$path".
func (b *projBuilder) rename(as, from string) error {
	if !strings.HasPrefix(from, "$") || len(from) == 1 {
		return fmt.Errorf(`%q: a string value must name a field, as in "$description" (literal values are not supported)`, as)
	}
	if strings.Contains(as, ".") || as == "_id" {
		return fmt.Errorf("%q: renaming into a nested field or into _id is not supported", as)
	}
	if err := checkPath(from[1:]); err != nil {
		return fmt.Errorf("%q: %w", as, err)
	}
	if err := b.setMode(1); err != nil {
		return err
	}
	if b.p.root != nil && b.p.root.children[as] != nil {
		return fmt.Errorf("the renamed field %q collides with a projected path", as)
	}
	for _, r := range b.p.renames {
		if r.as == as {
			return fmt.Errorf("the renamed field %q is given twice", as)
		}
	}
	b.p.renames = append(b.p.renames, rename{as: as, from: strings.Split(from[1:], ".")})
	return nil
}

// setMode records inclusion (1) or exclusion (-1); mixing them is an error.
func (b *projBuilder) setMode(m int) error {
	if b.mode != 0 && m != b.mode {
		return fmt.Errorf("cannot mix inclusion (and renames) with exclusion")
	}
	b.mode = m
	return nil
}

// done returns the projection, nil when it selects everything. A
// projection of _id alone is an inclusion ({"_id": 1}: only _id) or an
// exclusion ({"_id": 0}: all but _id).
func (b *projBuilder) done() (*projection, error) {
	if b.mode == 0 {
		b.mode = b.id
	}
	if b.mode == 0 {
		return nil, nil
	}
	b.p.dropID = b.id == -1
	if b.p.root == nil {
		b.p.root = &projNode{}
	}
	b.p.include = b.mode == 1
	return &b.p, nil
}

// projectionFlag reads an inclusion flag: a boolean or a number.
func projectionFlag(v bson.RawValue) (include, ok bool) {
	if v.Type == bson.TypeBoolean {
		return v.Boolean(), true
	}
	if v.Type == bson.TypeDouble {
		return v.Double() != 0, true
	}
	d, ok := direction(v)
	return d != 0, ok
}

// add adds a path below n; false when it collides with a path already
// added (one is a prefix of the other).
func (n *projNode) add(segs []string) bool {
	for _, seg := range segs {
		if n.leaf {
			return false
		}
		if n.children == nil {
			n.children = map[string]*projNode{}
		}
		c := n.children[seg]
		if c == nil {
			c = &projNode{}
			n.children[seg] = c
		}
		n = c
	}
	if n.leaf || len(n.children) > 0 {
		return false
	}
	n.leaf = true
	return true
}

// apply projects one JSON object, keeping the order of its members.
func (p *projection) apply(obj []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := p.object(&b, obj, p.root, true); err != nil {
		return nil, fmt.Errorf("project document: %w", err)
	}
	if len(p.renames) == 0 {
		return b.Bytes(), nil
	}
	out := b.Bytes()[:b.Len()-1] // reopen the object
	empty := len(out) == 1
	for _, r := range p.renames {
		v, ok, err := jsonAt(obj, r.from)
		if err != nil {
			return nil, fmt.Errorf("project document: %w", err)
		}
		if !ok {
			continue
		}
		if !empty {
			out = append(out, ',')
		}
		empty = false
		k, _ := json.Marshal(r.as) // a string always marshals
		out = append(append(append(out, k...), ':'), v...)
	}
	return append(out, '}'), nil
}

// object writes the projection of the JSON object obj at level n.
func (p *projection) object(b *bytes.Buffer, obj []byte, n *projNode, top bool) error {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return err
	}
	b.WriteByte('{')
	first := true
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return err
		}
		child := n.children[key]
		var out []byte
		switch {
		case top && key == "_id":
			if p.dropID {
				continue
			}
			out = val
		case p.include && child == nil, !p.include && child != nil && child.leaf:
			continue
		case child == nil || child.leaf:
			out = val
		default:
			var sub bytes.Buffer
			keep, err := p.nested(&sub, val, child)
			if err != nil {
				return err
			}
			if !keep {
				continue
			}
			out = sub.Bytes()
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(key) // a string always marshals
		b.Write(k)
		b.WriteByte(':')
		b.Write(out)
	}
	b.WriteByte('}')
	return nil
}

// nested writes the projection of a value below an intermediate path
// node: objects are projected, arrays element by element; other values are
// dropped when including (the path does not exist in them) and kept when
// excluding. keep is false when the value is dropped.
func (p *projection) nested(b *bytes.Buffer, val json.RawMessage, n *projNode) (keep bool, err error) {
	switch jsonKind(val) {
	case '{':
		return true, p.object(b, val, n, false)
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(val, &elems); err != nil {
			return false, err
		}
		b.WriteByte('[')
		first := true
		for _, e := range elems {
			var sub bytes.Buffer
			keep, err := p.nested(&sub, e, n)
			if err != nil {
				return false, err
			}
			if !keep {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.Write(sub.Bytes())
		}
		b.WriteByte(']')
		return true, nil
	}
	if p.include {
		return false, nil
	}
	b.Write(val)
	return true, nil
}

// jsonKind returns the first non-space byte of a JSON value.
func jsonKind(v []byte) byte {
	for _, c := range v {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// jsonAt returns the value at a path of a JSON value as $project's "$path"
// reads it: through objects, and over arrays element by element, giving
// the array of the values found. ok is false when there is none.
func jsonAt(v json.RawMessage, segs []string) (json.RawMessage, bool, error) {
	if len(segs) == 0 {
		return v, true, nil
	}
	switch jsonKind(v) {
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, false, err
		}
		c, ok := m[segs[0]]
		if !ok {
			return nil, false, nil
		}
		return jsonAt(c, segs[1:])
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(v, &elems); err != nil {
			return nil, false, err
		}
		found := []json.RawMessage{}
		for _, e := range elems {
			if jsonKind(e) != '{' {
				continue
			}
			x, ok, err := jsonAt(e, segs)
			if err != nil {
				return nil, false, err
			}
			if ok {
				found = append(found, x)
			}
		}
		b, err := json.Marshal(found)
		return b, true, err
	}
	return nil, false, nil
}
