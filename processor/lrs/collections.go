package lrs

import (
	"context"
	"errors"
	"fmt"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/journeys/journeys/processor/journey"
)

// CollectionJourneys is the JourneyStore of a MongoDB journeys collection
// (or of lungo, MongoDB's stand-in in tests).
type CollectionJourneys struct {
	// Coll is the journeys collection.
	Coll lungo.ICollection
}

// inOrg is the filter of journey id in organisation org.
func inOrg(org, id primitive.ObjectID) bson.D {
	return bson.D{{Key: "_id", Value: id}, {Key: "organisation", Value: org}}
}

// Journey implements JourneyStore.
func (c CollectionJourneys) Journey(ctx context.Context, org, id primitive.ObjectID) (bson.Raw, error) {
	raw, err := c.Coll.FindOne(ctx, inOrg(org, id)).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lrs: read journey %s: %w", id.Hex(), err)
	}
	return raw, nil
}

// Journeys implements JourneyStore.
func (c CollectionJourneys) Journeys(ctx context.Context, org primitive.ObjectID, fn func(doc bson.Raw) error) error {
	filter := bson.D{}
	if !org.IsZero() {
		filter = bson.D{{Key: "organisation", Value: org}}
	}
	cur, err := c.Coll.Find(ctx, filter)
	if err != nil {
		return fmt.Errorf("lrs: list journeys: %w", err)
	}
	return eachDoc(ctx, cur, "list journeys", fn)
}

// InsertJourney implements JourneyStore.
func (c CollectionJourneys) InsertJourney(ctx context.Context, doc any) error {
	_, err := c.Coll.InsertOne(ctx, doc)
	if lungo.IsUniquenessError(err) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("lrs: insert journey: %w", err)
	}
	return nil
}

// UpdateJourney implements JourneyStore.
func (c CollectionJourneys) UpdateJourney(ctx context.Context, org, id primitive.ObjectID, cond, set bson.D) (bool, error) {
	filter := append(inOrg(org, id), cond...)
	res, err := c.Coll.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return false, fmt.Errorf("lrs: update journey %s: %w", id.Hex(), err)
	}
	return res.MatchedCount > 0, nil
}

// DeleteJourney implements JourneyStore.
func (c CollectionJourneys) DeleteJourney(ctx context.Context, org, id primitive.ObjectID) (bool, error) {
	res, err := c.Coll.DeleteOne(ctx, inOrg(org, id))
	if err != nil {
		return false, fmt.Errorf("lrs: delete journey %s: %w", id.Hex(), err)
	}
	return res.DeletedCount > 0, nil
}

// SetRecalculateStatus implements JourneyStore.
func (c CollectionJourneys) SetRecalculateStatus(ctx context.Context, id primitive.ObjectID, s journey.RecalculateStatus) error {
	_, err := c.Coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "recalculateStatus", Value: s}}}})
	if err != nil {
		return fmt.Errorf("lrs: write recalculation status of journey %s: %w", id.Hex(), err)
	}
	return nil
}

// CollectionClients is the ClientStore of a MongoDB client collection.
type CollectionClients struct {
	// Coll is the client collection.
	Coll lungo.ICollection
}

// Client implements ClientStore.
func (c CollectionClients) Client(ctx context.Context, key string) (bson.Raw, error) {
	raw, err := c.Coll.FindOne(ctx, bson.D{{Key: "api.basic_key", Value: key}}).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lrs: read client: %w", err)
	}
	return raw, nil
}

// eachDoc calls fn with each document of cur, in order, and closes it; what
// names the read in errors.
func eachDoc(ctx context.Context, cur lungo.ICursor, what string, fn func(doc bson.Raw) error) error {
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var doc bson.Raw
		if err := cur.Decode(&doc); err != nil {
			return fmt.Errorf("lrs: %s: %w", what, err)
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("lrs: %s: %w", what, err)
	}
	return nil
}
