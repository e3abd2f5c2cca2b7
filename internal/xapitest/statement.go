package xapitest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// authorityMbox is the authority Learning Locker's default client signs with.
const authorityMbox = "mailto:hello@learninglocker.net"

// isoMillis is how Learning Locker stores statement.timestamp and
// statement.stored: RFC 3339 in UTC with milliseconds.
const isoMillis = "2006-01-02T15:04:05.000Z07:00"

// document builds the stored document for a filled spec and advances the
// generator's clock.
func (g *Generator) document(s Spec) bson.D {
	// Strictly increasing stored times at millisecond (BSON Date) precision.
	g.stored = g.stored.Add(time.Duration(1+g.rng.IntN(30_000)) * time.Millisecond)
	stored := g.stored
	timestamp := stored.Add(-time.Duration(g.rng.IntN(5_000)) * time.Millisecond)
	id := g.objectID()

	actor, agents := g.actorDocument(s)
	// A course sits in a programme; everything else sits in a course.
	parent := ActivityID(TypeCourse, g.rng.IntN(g.opts.Activities))
	if s.ActivityType == TypeCourse {
		parent = ActivityBase + "programme/1"
	}
	grouping := ActivityBase + "curriculum/1"
	category := "https://w3id.org/xapi/cmi5/context/categories/moveon"

	statement := bson.D{
		{Key: "id", Value: g.uuid()},
		{Key: "actor", Value: actor},
		{Key: "verb", Value: bson.D{
			{Key: "id", Value: s.Verb},
			{Key: "display", Value: bson.D{{Key: "en-US", Value: lastSegment(s.Verb)}}},
		}},
		{Key: "object", Value: g.object(s)},
	}
	if result := g.result(s.Verb); result != nil {
		statement = append(statement, bson.E{Key: "result", Value: result})
	}
	statement = append(statement,
		bson.E{Key: "context", Value: bson.D{
			{Key: "registration", Value: g.uuid()},
			{Key: "contextActivities", Value: bson.D{
				{Key: "parent", Value: bson.A{activityRef(parent)}},
				{Key: "grouping", Value: bson.A{activityRef(grouping)}},
				{Key: "category", Value: bson.A{activityRef(category)}},
			}},
			{Key: "platform", Value: "Moodle 4.3"},
			{Key: "language", Value: "en-US"},
			{Key: "extensions", Value: bson.D{
				{Key: "http://id&46;tincanapi&46;com/extension/browser-info", Value: bson.D{
					{Key: "code_name", Value: "Mozilla"},
					{Key: "version", Value: fmt.Sprintf("%d.0", 110+g.rng.IntN(20))},
				}},
			}},
		}},
		bson.E{Key: "timestamp", Value: timestamp.Format(isoMillis)},
		bson.E{Key: "stored", Value: stored.Format(isoMillis)},
		bson.E{Key: "authority", Value: bson.D{
			{Key: "objectType", Value: "Agent"},
			{Key: "name", Value: "New Client"},
			{Key: "mbox", Value: authorityMbox},
		}},
		bson.E{Key: "version", Value: "1.0.0"},
	)

	// Learning Locker hashes the statement to detect conflicting re-posts;
	// any digest of its content serves the same purpose here.
	raw, err := bson.Marshal(statement)
	if err != nil {
		panic(fmt.Sprintf("xapitest: marshal statement: %v", err))
	}
	hash := sha1.Sum(raw)

	doc := bson.D{
		{Key: "_id", Value: id},
		{Key: "organisation", Value: s.Organisation},
		{Key: "lrs_id", Value: s.Store},
		{Key: "statement", Value: statement},
		{Key: "timestamp", Value: primitive.NewDateTimeFromTime(timestamp)},
		{Key: "stored", Value: primitive.NewDateTimeFromTime(stored)},
		{Key: "voided", Value: s.Voided},
		{Key: "active", Value: true},
		{Key: "hash", Value: hex.EncodeToString(hash[:])},
		{Key: "agents", Value: agents},
		{Key: "relatedAgents", Value: append(append(bson.A{}, agents...), authorityMbox)},
		{Key: "activities", Value: bson.A{s.Object}},
		{Key: "relatedActivities", Value: bson.A{s.Object, parent, grouping, category}},
		{Key: "verbs", Value: bson.A{s.Verb}},
	}
	if !s.Anonymous {
		doc = append(doc,
			bson.E{Key: "person", Value: bson.D{
				{Key: "_id", Value: s.Actor.Person},
				{Key: "display", Value: s.Actor.Name},
			}},
			bson.E{Key: "personaIdentifier", Value: s.Actor.PersonaIdentifier},
		)
	}
	return doc
}

// actorDocument returns statement.actor and the document's agents array.
func (g *Generator) actorDocument(s Spec) (bson.D, bson.A) {
	if !s.Anonymous {
		return s.Actor.document(), bson.A{s.Actor.Ident()}
	}
	// An anonymous group identifies itself only through its members.
	a, b := g.Actor(g.rng.IntN(len(g.actors))), g.Actor(g.rng.IntN(len(g.actors)))
	return bson.D{
		{Key: "objectType", Value: "Group"},
		{Key: "name", Value: fmt.Sprintf("Study group %d", g.rng.IntN(50))},
		{Key: "member", Value: bson.A{a.document(), b.document()}},
	}, bson.A{a.Ident(), b.Ident()}
}

// object returns statement.object for a filled spec.
func (g *Generator) object(s Spec) bson.D {
	short := lastSegment(s.ActivityType)
	return bson.D{
		{Key: "id", Value: s.Object},
		{Key: "objectType", Value: "Activity"},
		{Key: "definition", Value: bson.D{
			{Key: "type", Value: s.ActivityType},
			{Key: "name", Value: bson.D{{Key: "en-US", Value: fmt.Sprintf("%s %s", short, lastSegment(s.Object))}}},
			{Key: "description", Value: bson.D{{Key: "en-US", Value: fmt.Sprintf("A generated %s.", short)}}},
			{Key: "extensions", Value: bson.D{
				{Key: "https://lms&46;example&46;org/extensions/difficulty", Value: g.pick([]string{"easy", "medium", "hard"})},
			}},
		}},
	}
}

// result returns statement.result, or nil for verbs that usually carry none
// (and sometimes for those too, as real traffic is inconsistent).
func (g *Generator) result(verb string) bson.D {
	switch verb {
	case VerbCompleted, VerbPassed, VerbFailed, VerbAnswered:
	default:
		if g.rng.IntN(10) >= 3 {
			return nil
		}
	}
	// 0.7 is the pass mark: passed and failed statements agree with it.
	scaled := math.Round(g.rng.Float64()*100) / 100
	switch verb {
	case VerbPassed:
		scaled = 0.7 + math.Round(g.rng.Float64()*30)/100
	case VerbFailed:
		scaled = math.Round(g.rng.Float64()*69) / 100
	}
	success := scaled >= 0.7
	result := bson.D{
		{Key: "score", Value: bson.D{
			{Key: "scaled", Value: scaled},
			{Key: "raw", Value: int32(math.Round(scaled * 100))},
			{Key: "min", Value: int32(0)},
			{Key: "max", Value: int32(100)},
		}},
		{Key: "success", Value: success},
		{Key: "completion", Value: verb != VerbAttempted && verb != VerbLaunched},
		{Key: "duration", Value: fmt.Sprintf("PT%dM%dS", g.rng.IntN(60), g.rng.IntN(60))},
	}
	if verb == VerbAnswered {
		result = append(result, bson.E{Key: "response", Value: g.pick([]string{"choice-a", "choice-b", "choice-c"})})
	}
	return result
}

// activityRef is a context activity reference.
func activityRef(id string) bson.D {
	return bson.D{{Key: "id", Value: id}}
}
