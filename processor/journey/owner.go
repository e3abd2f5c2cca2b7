package journey

import (
	"bytes"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"

	"github.com/journeys/journeys/internal/rawbson"
)

// Owner keys: the first byte says which identifier follows; the rest is the
// identifier's bytes, exactly as stored, so keys compare the way docs/design.md §4
// compares owners (exactly) and decode back losslessly (see Ident).
const (
	keyMbox       = 'm' // + mbox
	keyMboxSHA1   = 's' // + mbox_sha1sum
	keyOpenID     = 'o' // + openid
	keyAccount    = 'a' // + homePage + 0x00 + name (homePage holds no NUL)
	keyPersona    = 'p' // + the 12 bytes of person._id
	personaKeyLen = 1 + 12
)

// AppendOwnerKey appends to dst the key of the owner whose progress the
// stored statement document doc advances, and reports whether there is one.
//
// For TrackByActor the owner is the inverse functional identifier of
// statement.actor: exactly one of mbox, mbox_sha1sum, openid (non-empty
// strings) or account {homePage, name} (non-empty strings), compared
// exactly; name and objectType do not split owners, and null members count
// as absent. An actor with no IFI (an anonymous group), several IFIs or a
// malformed one is not tracked. For TrackByPersona the owner is person._id,
// an ObjectId; without it the statement is not tracked. A document that is
// malformed where this reads it (package rawbson's policy) has no owner.
//
// The key is a canonical, reversible encoding (see Ident). When ok is false
// dst is returned unchanged. AppendOwnerKey does not allocate when dst has
// room, so callers reuse one buffer across statements.
func AppendOwnerKey(dst []byte, doc bson.Raw, by TrackBy) (key []byte, ok bool) {
	switch by {
	case TrackByActor:
		return appendActorKey(dst, doc)
	case TrackByPersona:
		return appendPersonaKey(dst, doc)
	}
	return dst, false
}

// appendActorKey implements AppendOwnerKey for TrackByActor.
func appendActorKey(dst []byte, doc []byte) ([]byte, bool) {
	stmt, ok := lookupDocument(doc, "statement")
	if !ok {
		return dst, false
	}
	actor, ok := lookupDocument(stmt, "actor")
	if !ok {
		return dst, false
	}
	var kind byte
	var found int
	var ifi []byte // the IFI's string, or the account document
	it := rawbson.Elements(actor)
	for {
		k, v, more := it.Next()
		if !more {
			break
		}
		tag := ifiTag(k)
		if tag == 0 || v.Type == bsontype.Null {
			continue
		}
		if found++; found > 1 {
			return dst, false
		}
		kind = tag
		if tag == keyAccount {
			if v.Type != bsontype.EmbeddedDocument {
				return dst, false
			}
			ifi = v.Data
		} else if ifi, ok = v.StringOK(); !ok || len(ifi) == 0 {
			return dst, false
		}
	}
	switch {
	case found == 0 || it.Malformed():
		// A malformed actor might hide a second IFI: not tracked.
		return dst, false
	case kind != keyAccount:
		return append(append(dst, kind), ifi...), true
	}
	homePage, ok1 := accountString(ifi, "homePage")
	name, ok2 := accountString(ifi, "name")
	if !ok1 || !ok2 || bytes.IndexByte(homePage, 0) >= 0 {
		return dst, false
	}
	dst = append(append(dst, keyAccount), homePage...)
	return append(append(dst, 0), name...), true
}

// ifiTag maps an actor member name to its key tag, or 0 for members that
// are not inverse functional identifiers.
func ifiTag(name []byte) byte {
	switch string(name) {
	case "mbox":
		return keyMbox
	case "mbox_sha1sum":
		return keyMboxSHA1
	case "openid":
		return keyOpenID
	case "account":
		return keyAccount
	}
	return 0
}

// accountString returns a non-empty string member of an account document.
func accountString(account []byte, name string) ([]byte, bool) {
	v, err := rawbson.Lookup(account, name)
	s, ok := v.StringOK()
	return s, err == nil && ok && len(s) > 0
}

// lookupDocument returns the embedded document at doc.key; false when it is
// absent, not a document, or doc is malformed before it.
func lookupDocument(doc []byte, key string) ([]byte, bool) {
	v, err := rawbson.Lookup(doc, key)
	d, ok := v.Document()
	return d, err == nil && ok
}

// appendPersonaKey implements AppendOwnerKey for TrackByPersona.
func appendPersonaKey(dst []byte, doc []byte) ([]byte, bool) {
	person, ok := lookupDocument(doc, "person")
	if !ok {
		return dst, false
	}
	v, err := rawbson.Lookup(person, "_id")
	id, ok := v.ObjectID()
	if err != nil || !ok {
		return dst, false
	}
	return append(append(dst, keyPersona), id[:]...), true
}

// PersonaDisplay returns the statement document's person.display, the
// persona's human-readable name, or "" when it has none.
func PersonaDisplay(doc bson.Raw) string {
	person, ok := lookupDocument(doc, "person")
	if !ok {
		return ""
	}
	v, _ := rawbson.Lookup(person, "display")
	s, _ := v.StringOK()
	return string(s)
}
