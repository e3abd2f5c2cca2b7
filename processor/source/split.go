package source

import (
	"bytes"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// Split events. With Config.SplitLargeEvents the stream ends with
// $changeStreamSplitLargeEvent: MongoDB cuts an event over 16 MB into
// fragments of whole top-level fields, each carrying splitEvent
// {fragment: n, of: m} and a resume token of its own (_id). The last
// fragment's token is the position after the whole event.
//
// The Source buffers fragments 1..m-1 and returns the event when fragment
// m arrives, so the pipeline only ever sees (and commits the token of)
// whole events. Its own position stays before the first fragment
// meanwhile: a stream reopened mid-event (startAfter that position) is sent
// the event again from its first fragment. The driver's own resume,
// with the token of the last fragment read, continues with the next one.

// errFragments reports fragments that do not follow each other; the stream
// is reopened before the event (a transient failure).
var errFragments = errors.New("split change event: fragments out of sequence")

// assemble takes the next document of the stream. It returns the event
// raw completes and whole true: raw itself when it is not a fragment, the
// reassembled event after its last fragment. While fragments are missing
// it returns whole false.
func (s *Source) assemble(raw bson.Raw) (ev bson.Raw, whole bool, err error) {
	// bsoncore rather than the allocation-free readers of classify: a
	// split event is rare, and this keeps split.go independent of them.
	split := bsoncore.Document(raw).Lookup("splitEvent")
	if split.Type == 0 {
		if len(s.fragments) > 0 {
			s.fragments = s.fragments[:0]
			return nil, false, fmt.Errorf("%w: an event arrived before the last fragment", errFragments)
		}
		return raw, true, nil
	}
	sd, _ := split.DocumentOK()
	n, ok1 := sd.Lookup("fragment").AsInt64OK()
	m, ok2 := sd.Lookup("of").AsInt64OK()
	if split.Type != bsontype.EmbeddedDocument || !ok1 || !ok2 || n != int64(len(s.fragments))+1 || n > m {
		got := len(s.fragments)
		s.fragments = s.fragments[:0]
		return nil, false, fmt.Errorf("%w: fragment %d of %d after %d", errFragments, n, m, got)
	}
	s.fragments = append(s.fragments, bytes.Clone(raw))
	s.frags.Add(1)
	if n < m {
		return nil, false, nil
	}
	ev = joinFragments(s.fragments)
	s.fragments = s.fragments[:0]
	return ev, true, nil
}

// joinFragments returns the change event the fragments of a split event
// make up: the last fragment's _id (the token after the whole event), then
// every other field in fragment order, splitEvent dropped. A field that
// appears in several fragments (only _id should) keeps its first value.
func joinFragments(frags []bson.Raw) bson.Raw {
	last := frags[len(frags)-1]
	idx, doc := bsoncore.AppendDocumentStart(nil)
	if id := bsoncore.Document(last).Lookup("_id"); id.Type != 0 {
		doc = bsoncore.AppendValueElement(doc, "_id", id)
	}
	seen := map[string]bool{"_id": true, "splitEvent": true}
	for _, f := range frags {
		elems, err := bsoncore.Document(f).Elements()
		if err != nil {
			continue // cannot happen: the driver validated the reply
		}
		for _, e := range elems {
			if k := e.Key(); !seen[k] {
				seen[k] = true
				doc = append(doc, e...)
			}
		}
	}
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	return doc
}
