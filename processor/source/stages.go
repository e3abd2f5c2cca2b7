package source

import (
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// shapeStages returns the stages appended to every stream on MongoDB, after
// the filter (Pipeline), so that events stay under the 16 MB a server reply
// may hold (BSONObjectTooLarge, 10334):
//
//   - A journey update event drops updateDescription: the event's document
//     is the whole journey after the change, and a rewrite of a large
//     journey would otherwise travel twice. Other events keep it (a
//     statement update's updateDescription names what changed).
//   - With split, $changeStreamSplitLargeEvent (last, as MongoDB requires)
//     cuts an event still over 16 MB into fragments (see assemble).
//
// Neither stage touches _id, the resume token.
func shapeStages(journeys string, split bool) mongo.Pipeline {
	stages := mongo.Pipeline{{{Key: "$addFields", Value: bson.D{{Key: "updateDescription", Value: bson.D{{Key: "$cond", Value: bson.A{
		bson.D{{Key: "$eq", Value: bson.A{"$ns.coll", journeys}}},
		"$$REMOVE",
		"$updateDescription",
	}}}}}}}}
	if split {
		stages = append(stages, bson.D{{Key: "$changeStreamSplitLargeEvent", Value: bson.D{}}})
	}
	return stages
}
