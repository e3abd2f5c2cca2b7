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
// fields (and _id, always), {"waypoints": 0} drops that one.
type projection struct {
	include bool
	root    *projNode
}

// projNode is one level of the projected paths; a leaf selects the whole
// value at its path.
type projNode struct {
	leaf     bool
	children map[string]*projNode
}

// projectParam parses the project parameter; nil means no projection.
func projectParam(q url.Values) (*projection, error) {
	s := q.Get("project")
	if s == "" {
		return nil, nil
	}
	doc, err := jsonObjectParam("project", s)
	if err != nil {
		return nil, err
	}
	elems, err := doc.Elements()
	if err != nil {
		return nil, errBadRequest("project", "invalid document: "+err.Error())
	}
	p := &projection{root: &projNode{}}
	mode := 0 // 1 include, -1 exclude
	for _, e := range elems {
		path := e.Key()
		if err := checkPath(path); err != nil {
			return nil, errBadRequest("project", err.Error())
		}
		inc, ok := projectionFlag(e.Value())
		if !ok {
			return nil, errBadRequest("project", fmt.Sprintf("%q: only 1/true (include) and 0/false (exclude) are supported", path))
		}
		if path == "_id" {
			continue // _id is always returned
		}
		m := -1
		if inc {
			m = 1
		}
		if mode != 0 && m != mode {
			return nil, errBadRequest("project", "cannot mix inclusion and exclusion")
		}
		mode = m
		if !p.root.add(strings.Split(path, ".")) {
			return nil, errBadRequest("project", fmt.Sprintf("path %q collides with another projected path", path))
		}
	}
	if mode == 0 {
		return nil, nil
	}
	p.include = mode == 1
	return p, nil
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
	return b.Bytes(), nil
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
