package source

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo"
)

// Kind says what a change event means to journeysd.
type Kind uint8

const (
	// KindIgnore is a change journeysd does not act on: other collections,
	// statement updates that touch none of the fields that matter (see
	// KindStatementUpdate), deletes of statements, drops of other
	// collections.
	KindIgnore Kind = iota
	// KindStatementInsert is a statement inserted into the statements
	// collection; Event.Doc is the stored statement document.
	KindStatementInsert
	// KindJourneyUpsert is a journey inserted, updated or replaced;
	// Event.Doc is the whole journey document after the change.
	KindJourneyUpsert
	// KindJourneyDelete is a journey deleted; only Event.ID is set.
	KindJourneyDelete
	// KindJourneysReset means the journeys collection was dropped or
	// renamed (away or into place), or the database was dropped: no
	// per-document events describe the change, so the pipeline must reload
	// every journey from the collection.
	KindJourneysReset
	// KindInvalidate is the end of the stream the server announces after
	// the database was dropped. The Source has already arranged to reopen
	// after it; the event only carries its Token, so that the pipeline can
	// commit the position.
	KindInvalidate
	// KindCheckpoint is not a change: the stream moved past changes that
	// were ignored or filtered out on the server, and Event.Token is the
	// newer position. The Source returns one at most once per
	// Config.CheckpointInterval while it sees no other event, so that an
	// idle pipeline can keep its stored checkpoint inside the oplog window.
	KindCheckpoint
	// KindStatementUpdate is an update or replace of a stored statement
	// that may change whom it counts for or whether it counts: Learning
	// Locker setting person and personaIdentifier (a persona assigned,
	// created or merged) or voided (docs/design.md §2, §4). Event.Doc is the
	// statement after the change (nil when it was deleted before the
	// server looked it up); Event.Changed says which of those fields
	// changed.
	KindStatementUpdate
)

// Statement reports whether the kind is a change of a stored statement
// (an insert or an update that matters): the LRS's live traffic.
func (k Kind) Statement() bool {
	return k == KindStatementInsert || k == KindStatementUpdate
}

// String returns the kind's name, for logs and metric labels.
func (k Kind) String() string {
	switch k {
	case KindIgnore:
		return "ignore"
	case KindStatementInsert:
		return "statement_insert"
	case KindJourneyUpsert:
		return "journey_upsert"
	case KindJourneyDelete:
		return "journey_delete"
	case KindJourneysReset:
		return "journeys_reset"
	case KindInvalidate:
		return "invalidate"
	case KindCheckpoint:
		return "checkpoint"
	case KindStatementUpdate:
		return "statement_update"
	}
	return "unknown"
}

// Classify returns what the raw change event ev of a stream over database
// db means, where statements and journeys name the two collections that
// matter. It reads only operationType, ns, to, fullDocument's type and
// updateDescription's field names, and does not allocate.
//
// An insert into statements is KindStatementInsert. Inserts, updates and
// replaces of journeys are KindJourneyUpsert when the event carries the
// document after the change; an update whose post-image is null (the
// journey was deleted before the server looked it up) is KindIgnore, since
// the delete follows in the stream. Deletes of journeys are
// KindJourneyDelete. An update of statements whose updateDescription sets
// or removes person, personaIdentifier or voided, and any replace of a
// statement, is KindStatementUpdate, with or without its document (see
// Fields). Dropping or renaming journeys, renaming a collection
// to journeys, and dropping the database are KindJourneysReset. invalidate
// is KindInvalidate. Everything else, including events of other databases
// and events whose top level is malformed (see package rawbson's policy),
// is KindIgnore.
func Classify(ev bson.Raw, db, statements, journeys string) Kind {
	p := scan(ev)
	return p.classify(db, statements, journeys)
}

// classify implements Classify on the scanned parts of an event.
func (p *parts) classify(db, statements, journeys string) Kind {
	if p.malformed {
		return KindIgnore
	}
	if string(p.op) == "invalidate" {
		return KindInvalidate
	}
	if string(field(p.ns, "db")) != db {
		return KindIgnore
	}
	coll := field(p.ns, "coll")
	isJourneys := string(coll) == journeys
	hasDoc := p.full.Type == bsontype.EmbeddedDocument
	switch string(p.op) {
	case "insert":
		switch {
		case !hasDoc:
			return KindIgnore
		case string(coll) == statements:
			return KindStatementInsert
		case isJourneys:
			return KindJourneyUpsert
		}
	case "update", "replace":
		if isJourneys && hasDoc {
			return KindJourneyUpsert
		}
		if string(coll) == statements && p.statementFields() != 0 {
			return KindStatementUpdate
		}
	case "delete":
		if isJourneys {
			return KindJourneyDelete
		}
	case "drop":
		if isJourneys {
			return KindJourneysReset
		}
	case "rename":
		intoJourneys := string(field(p.to, "db")) == db && string(field(p.to, "coll")) == journeys
		if isJourneys || intoJourneys {
			return KindJourneysReset
		}
	case "dropDatabase":
		return KindJourneysReset
	}
	return KindIgnore
}

// Pipeline returns the server-side filter equivalent to Classify for a
// database-level change stream: a single $match that lets through exactly
// the events Classify could return something other than KindIgnore for.
// It cannot see whether an update's post-image lookup will find the
// journey, so Classify still runs on every event that passes.
//
// Statement updates pass only when they set or remove person,
// personaIdentifier or voided as whole top-level fields, as Learning
// Locker writes them ($set of the whole person document); the server
// cannot name a dotted key such as "person._id" in updatedFields without
// $expr, so Classify, to stay equivalent, ignores those too.
func Pipeline(statements, journeys string) mongo.Pipeline {
	or := bson.A{
		bson.D{
			{Key: "operationType", Value: "insert"},
			{Key: "ns.coll", Value: bson.D{{Key: "$in", Value: bson.A{statements, journeys}}}},
		},
		bson.D{
			{Key: "operationType", Value: bson.D{{Key: "$in", Value: bson.A{"update", "replace", "delete", "drop", "rename"}}}},
			{Key: "ns.coll", Value: journeys},
		},
		bson.D{
			{Key: "operationType", Value: "rename"},
			{Key: "to.coll", Value: journeys},
		},
		bson.D{
			{Key: "operationType", Value: "replace"},
			{Key: "ns.coll", Value: statements},
		},
		bson.D{
			{Key: "operationType", Value: "update"},
			{Key: "ns.coll", Value: statements},
			{Key: "$or", Value: statementUpdateFilter()},
		},
		bson.D{
			{Key: "operationType", Value: bson.D{{Key: "$in", Value: bson.A{"dropDatabase", "invalidate"}}}},
		},
	}
	return mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "$or", Value: or}}}}}
}
