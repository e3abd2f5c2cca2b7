package lrs

import (
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// The checks below make a statement usable by journeysd and storable in
// Learning Locker's shape: who (an actor with an identifier), did what (a
// verb IRI), to what (an object with an id), when (a parseable timestamp),
// and well-typed parts where Ingest rewrites them (context activities,
// extensions). With xapirules.go they are xAPI 1.0.3's statement rules
// (Data part), each tested by a table row citing its section.

// checker collects the FieldErrors of one statement.
type checker struct {
	index int
	errs  []FieldError
}

func (c *checker) bad(path, msg string) {
	c.errs = append(c.errs, FieldError{Index: c.index, Field: path, Message: msg})
}

// at joins a path and a key.
func at(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// statement checks a statement, or a SubStatement when sub is set.
func (c *checker) statement(path string, d bsoncore.Document, sub bool) {
	p := partsOf(d)
	if sub {
		for _, f := range [...]struct {
			key string
			v   bsoncore.Value
		}{{"id", p.id}, {"stored", p.stored}, {"version", p.version}, {"authority", p.authority}} {
			if f.v.Type != 0 {
				c.bad(at(path, f.key), "not allowed in a SubStatement")
			}
		}
	} else {
		if v := p.id; v.Type != 0 {
			c.uuid(at(path, "id"), v)
		}
		if v := p.version; v.Type != 0 {
			if s, ok := stringOK(v); !ok || s != "1.0" && !strings.HasPrefix(s, "1.0.") {
				c.bad(at(path, "version"), "must be a 1.0.x version")
			}
		}
	}
	c.actor(at(path, "actor"), p.actor, "Agent", false)
	if verb, ok := c.document(at(path, "verb"), p.verb); ok {
		c.iri(at(path, "verb.id"), verb.Lookup("id"))
	}
	c.object(at(path, "object"), p.object, sub)
	if v := p.timestamp; v.Type != 0 {
		if s, ok := stringOK(v); !ok || !validTimestamp(s) {
			c.bad(at(path, "timestamp"), "must be an ISO 8601 timestamp with a time zone")
		}
	}
	if v := p.context; v.Type != 0 {
		c.context(at(path, "context"), v)
	}
	if v := p.result; v.Type != 0 {
		if result, ok := c.document(at(path, "result"), v); ok {
			c.extensions(at(path, "result.extensions"), result)
		}
	}
	if !sub {
		c.xapiRules(path, d, p, false) // a SubStatement's come with its statement's
	}
}

// actor checks an Agent or (unless agentOnly) a Group; def is the kind
// when objectType is absent.
func (c *checker) actor(path string, v bsoncore.Value, def string, agentOnly bool) {
	d, ok := c.document(path, v)
	if !ok {
		return
	}
	kind := def
	if ot := d.Lookup("objectType"); ot.Type != 0 {
		kind, _ = stringOK(ot)
	}
	switch {
	case kind == "Agent":
		if c.ifis(path, d) != 1 {
			c.bad(path, "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account")
		}
	case kind == "Group" && !agentOnly:
		n := c.ifis(path, d)
		members := 0
		if m := d.Lookup("member"); m.Type != 0 {
			members = c.members(at(path, "member"), m)
		}
		if n > 1 {
			c.bad(path, "a Group has at most one of mbox, mbox_sha1sum, openid, account")
		} else if n == 0 && members == 0 {
			c.bad(path, "an anonymous Group needs members")
		}
	case agentOnly:
		c.bad(at(path, "objectType"), `must be "Agent"`)
	default:
		c.bad(at(path, "objectType"), `must be "Agent" or "Group"`)
	}
}

// members checks a Group's member array and returns its length.
func (c *checker) members(path string, v bsoncore.Value) int {
	arr, ok := v.ArrayOK()
	if !ok {
		c.bad(path, "must be an array")
		return 0
	}
	n := 0
	for i, m := range values(arr) {
		c.actor(path+"["+strconv.Itoa(i)+"]", m, "Agent", true)
		n++
	}
	return n
}

// ifis checks the inverse functional identifiers present in an actor and
// returns how many there are.
func (c *checker) ifis(path string, d bsoncore.Document) int {
	n := 0
	if v := d.Lookup("mbox"); v.Type != 0 {
		n++
		if s, ok := stringOK(v); !ok || !strings.HasPrefix(s, "mailto:") || len(s) == len("mailto:") {
			c.bad(at(path, "mbox"), "must be a mailto: IRI")
		}
	}
	if v := d.Lookup("mbox_sha1sum"); v.Type != 0 {
		n++
		if s, ok := stringOK(v); !ok || len(s) != 40 || !isHex(s) {
			c.bad(at(path, "mbox_sha1sum"), "must be a hex SHA-1 digest")
		}
	}
	if v := d.Lookup("openid"); v.Type != 0 {
		n++
		c.iri(at(path, "openid"), v)
	}
	if v := d.Lookup("account"); v.Type != 0 {
		n++
		if acc, ok := c.document(at(path, "account"), v); ok {
			c.iri(at(path, "account.homePage"), acc.Lookup("homePage"))
			if s, ok := stringOK(acc.Lookup("name")); !ok || s == "" {
				c.bad(at(path, "account.name"), "must be a non-empty string")
			}
		}
	}
	return n
}

// object checks a statement's object.
func (c *checker) object(path string, v bsoncore.Value, inSub bool) {
	d, ok := c.document(path, v)
	if !ok {
		return
	}
	kind := "Activity"
	if ot := d.Lookup("objectType"); ot.Type != 0 {
		kind, _ = stringOK(ot)
	}
	switch kind {
	case "Activity":
		c.activity(path, v)
	case "Agent", "Group":
		c.actor(path, v, kind, false)
	case "StatementRef":
		c.uuid(at(path, "id"), d.Lookup("id"))
	case "SubStatement":
		if inSub {
			c.bad(at(path, "objectType"), "a SubStatement cannot contain a SubStatement")
			return
		}
		c.statement(path, d, true)
	default:
		c.bad(at(path, "objectType"), `must be "Activity", "Agent", "Group", "StatementRef" or "SubStatement"`)
	}
}

// activity checks an Activity: an IRI id and a well-typed definition.
func (c *checker) activity(path string, v bsoncore.Value) {
	d, ok := c.document(path, v)
	if !ok {
		return
	}
	c.iri(at(path, "id"), d.Lookup("id"))
	if def := d.Lookup("definition"); def.Type != 0 {
		if def, ok := c.document(at(path, "definition"), def); ok {
			c.extensions(at(path, "definition.extensions"), def)
		}
	}
}

// context checks the parts of a context that Ingest rewrites.
func (c *checker) context(path string, v bsoncore.Value) {
	d, ok := c.document(path, v)
	if !ok {
		return
	}
	if v := d.Lookup("instructor"); v.Type != 0 {
		c.actor(at(path, "instructor"), v, "Agent", false)
	}
	if v := d.Lookup("team"); v.Type != 0 {
		c.actor(at(path, "team"), v, "Group", false)
	}
	if v := d.Lookup("registration"); v.Type != 0 {
		c.uuid(at(path, "registration"), v)
	}
	c.extensions(at(path, "extensions"), d)
	ca := d.Lookup("contextActivities")
	if ca.Type == 0 {
		return
	}
	acts, ok := c.document(at(path, "contextActivities"), ca)
	if !ok {
		return
	}
	for _, k := range contextActivityKinds() {
		p := at(path, "contextActivities."+k)
		switch v := acts.Lookup(k); v.Type {
		case 0:
		case bsontype.Array:
			for i, a := range values(v.Array()) {
				c.activity(p+"["+strconv.Itoa(i)+"]", a)
			}
		default: // a single activity, allowed for compatibility with 0.95
			c.activity(p, v)
		}
	}
}

// contextActivityKinds returns the keys of context.contextActivities.
func contextActivityKinds() [4]string {
	return [...]string{"parent", "grouping", "category", "other"}
}

// extensions checks that parent.extensions, if present, is an object.
func (c *checker) extensions(path string, parent bsoncore.Document) {
	v := parent.Lookup("extensions")
	switch v.Type {
	case 0:
	case bsontype.EmbeddedDocument:
		// Data §4.1: an extension's key is an IRI.
		for e := range elements(v.Document()) {
			if k := e.Key(); !isAbsoluteIRI(k) {
				c.bad(at(path, k), "the key must be an IRI (Data §4.1)")
			}
		}
	default:
		c.bad(path, "must be an object")
	}
}

// document returns v as a document; a missing or non-object v is recorded.
func (c *checker) document(path string, v bsoncore.Value) (bsoncore.Document, bool) {
	switch v.Type {
	case 0:
		c.bad(path, "required")
	case bsontype.EmbeddedDocument:
		return v.Document(), true
	default:
		c.bad(path, "must be an object")
	}
	return nil, false
}

// iri records a missing v or one that is not an absolute IRI.
func (c *checker) iri(path string, v bsoncore.Value) {
	if v.Type == 0 {
		c.bad(path, "required")
		return
	}
	s, ok := stringOK(v)
	if !ok || !isAbsoluteIRI(s) {
		c.bad(path, "must be an absolute IRI")
	}
}

// uuid records a missing v or one that is not a UUID string.
func (c *checker) uuid(path string, v bsoncore.Value) {
	if v.Type == 0 {
		c.bad(path, "required")
		return
	}
	if s, ok := stringOK(v); !ok || !isUUID(s) {
		c.bad(path, "must be a UUID")
	}
}

// IsUUID reports whether s is a UUID in its canonical text form (xAPI 1.0.3
// Data §4.4).
func IsUUID(s string) bool { return isUUID(s) }

// isUUID reports whether s has the 8-4-4-4-12 hex form of a UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return false
			}
		} else if !isHex(s[i : i+1]) {
			return false
		}
	}
	return true
}

// isHex reports whether s is made of hex digits.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; !('0' <= s[i] && s[i] <= '9') && !('a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validTimestamp reports whether s is an ISO 8601 date-time with a time
// zone, the form xAPI requires.
func validTimestamp(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
