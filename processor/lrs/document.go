package lrs

import (
	"crypto/sha256"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// storedDocument returns the Learning Locker v2 statements document for a
// shaped statement: the header fields journeysd reads first, the
// "queriable" arrays xapi-service derives (agents, relatedAgents,
// registrations, verbs, activities, relatedActivities), and the statement.
//
// Learning Locker inserts person: null and lets its persona service fill in
// person and personaIdentifier later. Nothing does that for the embedded
// store, so they are set here, deterministically: one persona per
// organisation and actor identifier, displayed as the actor's name. A
// statement whose actor has no identifier (an anonymous Group) gets none.
//
// The document is appended to dst, which may be a scratch buffer reused
// across statements: the caller copies the result out at its exact size.
func storedDocument(dst []byte, org, store primitive.ObjectID, stmt bsoncore.Document, stored time.Time) []byte {
	idx, dst := bsoncore.AppendDocumentStart(dst)
	dst = bsoncore.AppendObjectIDElement(dst, "_id", primitive.NewObjectIDFromTimestamp(stored))
	dst = bsoncore.AppendObjectIDElement(dst, "organisation", org)
	dst = bsoncore.AppendObjectIDElement(dst, "lrs_id", store)
	parts := partsOf(stmt)
	actor := documentOf(parts.actor)
	if ident, ok := actorIdent(actor); ok {
		display, _ := stringOK(actor.Lookup("name"))
		if display == "" {
			display = ident
		}
		pidx, p := bsoncore.AppendDocumentElementStart(dst, "person")
		p = bsoncore.AppendObjectIDElement(p, "_id", derivedID("person", org, ident))
		p = bsoncore.AppendStringElement(p, "display", display)
		dst, _ = bsoncore.AppendDocumentEnd(p, pidx)
		dst = bsoncore.AppendObjectIDElement(dst, "personaIdentifier", derivedID("personaIdentifier", org, ident))
	}
	dst = bsoncore.AppendBooleanElement(dst, "active", true)
	dst = bsoncore.AppendBooleanElement(dst, "voided", false)
	// Validation guarantees a parseable timestamp; shaping set it if absent.
	ts, _ := time.Parse(time.RFC3339Nano, stringValue(parts.timestamp))
	dst = bsoncore.AppendDateTimeElement(dst, "timestamp", ts.UnixMilli())
	dst = bsoncore.AppendDateTimeElement(dst, "stored", stored.UnixMilli())

	agents := objectAgents(nil, actor)
	agents = objectAgents(agents, documentOf(parts.object))
	// relatedAgents begins with the actor's and the object's agents, which
	// are agents.
	related := slices.Clone(agents)
	related = objectAgents(related, documentOf(parts.contextDoc().Lookup("team")))
	related = objectAgents(related, documentOf(parts.contextDoc().Lookup("instructor")))
	related = objectAgents(related, documentOf(parts.authority))
	activities := activityIDs(nil, parts.object)
	relatedActs := relatedActivities(nil, parts)
	if sub, ok := subStatement(parts); ok {
		subParts := partsOf(sub)
		related = relatedAgents(related, subParts)
		relatedActs = relatedActivities(relatedActs, subParts)
	}
	var registrations, verbs []string
	if r, ok := stringOK(parts.contextDoc().Lookup("registration")); ok {
		registrations = append(registrations, r)
	}
	verbs = append(verbs, stringValue(documentOf(parts.verb).Lookup("id")))

	dst = appendStrings(dst, "agents", agents)
	dst = appendStrings(dst, "relatedAgents", related)
	dst = appendStrings(dst, "registrations", registrations)
	dst = appendStrings(dst, "verbs", verbs)
	dst = appendStrings(dst, "activities", activities)
	dst = appendStrings(dst, "relatedActivities", relatedActs)
	dst = bsoncore.AppendDocumentElement(dst, "statement", stmt)
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

// actorIdent returns the actor's identifier as Learning Locker writes it in
// agents arrays (getActorIdent): the mbox, "homePage|name" for an account,
// the openid or the mbox_sha1sum, in that order of preference.
func actorIdent(actor bsoncore.Document) (string, bool) {
	if s, ok := stringOK(actor.Lookup("mbox")); ok {
		return s, true
	}
	if acc, ok := actor.Lookup("account").DocumentOK(); ok {
		home, _ := stringOK(acc.Lookup("homePage"))
		name, _ := stringOK(acc.Lookup("name"))
		return home + "|" + name, true
	}
	for _, k := range [...]string{"openid", "mbox_sha1sum"} {
		if s, ok := stringOK(actor.Lookup(k)); ok {
			return s, true
		}
	}
	return "", false
}

// derivedID returns a stable ObjectId for (kind, organisation, ident).
func derivedID(kind string, org primitive.ObjectID, ident string) primitive.ObjectID {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write(org[:])
	h.Write([]byte(ident))
	var sum [sha256.Size]byte
	var id primitive.ObjectID
	copy(id[:], h.Sum(sum[:0]))
	return id
}

// objectAgents adds the identifiers of an Agent, or of a Group and its
// members, to set (getAgentsFromObject). Other objects add nothing.
func objectAgents(set []string, obj bsoncore.Document) []string {
	switch ot, _ := stringOK(obj.Lookup("objectType")); ot {
	case "Agent":
		if id, ok := actorIdent(obj); ok {
			set = addUnique(set, id)
		}
	case "Group":
		if id, ok := actorIdent(obj); ok {
			set = addUnique(set, id)
		}
		if members, ok := obj.Lookup("member").ArrayOK(); ok {
			for _, m := range values(members) {
				if md, ok := m.DocumentOK(); ok {
					set = objectAgents(set, md)
				}
			}
		}
	}
	return set
}

// statementParts are the top-level elements of a statement (or
// SubStatement) that validation and the stored document read, found in
// one pass over it rather than a Lookup each (each rescans the statement
// from its start). An absent element has Type 0. A parsed statement has no
// duplicate keys; the first of each is kept, as Lookup finds it.
type statementParts struct {
	id, version, actor, verb, object, timestamp, context, result, attachments, stored, authority bsoncore.Value
}

// partsOf returns the parts of statement d.
func partsOf(d bsoncore.Document) statementParts {
	var p statementParts
	for e := range elements(d) {
		v := e.Value()
		switch string(e.KeyBytes()) {
		case "id":
			p.id = first(p.id, v)
		case "version":
			p.version = first(p.version, v)
		case "actor":
			p.actor = first(p.actor, v)
		case "verb":
			p.verb = first(p.verb, v)
		case "object":
			p.object = first(p.object, v)
		case "timestamp":
			p.timestamp = first(p.timestamp, v)
		case "context":
			p.context = first(p.context, v)
		case "result":
			p.result = first(p.result, v)
		case "attachments":
			p.attachments = first(p.attachments, v)
		case "stored":
			p.stored = first(p.stored, v)
		case "authority":
			p.authority = first(p.authority, v)
		}
	}
	return p
}

// first returns cur unless it is absent, v then.
func first(cur, v bsoncore.Value) bsoncore.Value {
	if cur.Type != 0 {
		return cur
	}
	return v
}

// contextDoc returns the statement's context, or an empty document.
func (p statementParts) contextDoc() bsoncore.Document { return documentOf(p.context) }

// relatedAgents adds the agents of a statement or SubStatement: actor,
// object, context team and instructor.
func relatedAgents(set []string, stmt statementParts) []string {
	set = objectAgents(set, documentOf(stmt.actor))
	set = objectAgents(set, documentOf(stmt.object))
	set = objectAgents(set, documentOf(stmt.contextDoc().Lookup("team")))
	return objectAgents(set, documentOf(stmt.contextDoc().Lookup("instructor")))
}

// relatedActivities adds the activity ids of a statement or SubStatement:
// its object and its context activities.
func relatedActivities(set []string, stmt statementParts) []string {
	set = activityIDs(set, stmt.object)
	acts, ok := stmt.contextDoc().Lookup("contextActivities").DocumentOK()
	if !ok {
		return set
	}
	for _, kind := range contextActivityKinds() {
		if arr, ok := acts.Lookup(kind).ArrayOK(); ok {
			for _, a := range values(arr) {
				set = activityIDs(set, a)
			}
		}
	}
	return set
}

// activityIDs adds the id of obj when it is an Activity.
func activityIDs(set []string, obj bsoncore.Value) []string {
	d := documentOf(obj)
	if ot, _ := stringOK(d.Lookup("objectType")); ot == "Activity" {
		if id, ok := stringOK(d.Lookup("id")); ok {
			set = addUnique(set, id)
		}
	}
	return set
}

// subStatement returns the statement's object when it is a SubStatement.
func subStatement(stmt statementParts) (bsoncore.Document, bool) {
	obj := documentOf(stmt.object)
	ot, _ := stringOK(obj.Lookup("objectType"))
	return obj, ot == "SubStatement"
}

// documentOf returns v's document, or an empty one when v is not a
// document.
func documentOf(v bsoncore.Value) bsoncore.Document {
	if d, ok := v.DocumentOK(); ok {
		return d
	}
	return emptyDocument
}

// emptyDocument is the empty BSON document, shared (it is never written):
// a literal per call would be an allocation per absent part, and a nil
// document costs one per Lookup (its error).
var emptyDocument = bsoncore.Document{5, 0, 0, 0, 0}

// addUnique appends s to set unless present (lodash union keeps the first).
func addUnique(set []string, s string) []string {
	if slices.Contains(set, s) {
		return set
	}
	return append(set, s)
}

// appendStrings appends an array of strings.
func appendStrings(dst []byte, key string, ss []string) []byte {
	idx, dst := bsoncore.AppendArrayElementStart(dst, key)
	for i, s := range ss {
		dst = bsoncore.AppendStringElement(dst, strconv.Itoa(i), s)
	}
	dst, _ = bsoncore.AppendArrayEnd(dst, idx)
	return dst
}
