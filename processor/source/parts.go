package source

import (
	"github.com/journeys/journeys/internal/rawbson"
)

// parts are the top-level fields of a change event that journeysd reads,
// found in one pass over it without allocating (bson.Raw.Lookup allocates
// its variadic path). The slices alias the event.
type parts struct {
	id          []byte // _id: the resume token
	op          []byte // operationType
	ns, to      []byte // ns and to (rename target) documents
	documentKey []byte
	clusterTime rawbson.Value
	full        rawbson.Value // fullDocument
	upd         []byte        // updateDescription
	// malformed is set when the event's top level is not well-formed
	// (rawbson's policy); such an event is classified KindIgnore. The
	// fields read before the damage are kept, so that its resume token
	// still moves the position on.
	malformed bool
}

// scan reads the parts of the change event ev, checking its whole top
// level.
func scan(ev []byte) parts {
	var p parts
	it := rawbson.Elements(ev)
	for {
		k, v, ok := it.Next()
		if !ok {
			break
		}
		switch string(k) {
		case "_id":
			p.id, _ = v.Document()
		case "operationType":
			p.op, _ = v.StringOK()
		case "ns":
			p.ns, _ = v.Document()
		case "to":
			p.to, _ = v.Document()
		case "documentKey":
			p.documentKey, _ = v.Document()
		case "clusterTime":
			p.clusterTime = v
		case "fullDocument":
			p.full = v
		case "updateDescription":
			p.upd, _ = v.Document()
		}
	}
	p.malformed = it.Malformed()
	return p
}

// field returns the string at doc.key, or nil when it is absent, not a
// string, or doc is malformed before it (which classify treats as not
// matching any name).
func field(doc []byte, key string) []byte {
	v, err := rawbson.Lookup(doc, key)
	if err != nil {
		return nil
	}
	s, _ := v.StringOK()
	return s
}
