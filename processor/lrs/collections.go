package lrs

import (
	"context"
	"errors"
	"fmt"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

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
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var raw bson.Raw
		if err := cur.Decode(&raw); err != nil {
			return fmt.Errorf("lrs: read journey: %w", err)
		}
		if err := fn(raw); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("lrs: list journeys: %w", err)
	}
	return nil
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

// CollectionScanner is the Scanner of a MongoDB statements collection (or
// of lungo in tests): a find on {organisation, lrs_id, stored/_id after}
// sorted by (stored, _id), which the index Open creates serves.
type CollectionScanner struct {
	// Coll is the statements collection.
	Coll lungo.ICollection
}

// filter returns the MongoDB filter of q.
func (q ScanQuery) filter() bson.D {
	f := bson.D{{Key: "organisation", Value: q.Organisation}}
	if len(q.Sources) > 0 {
		f = append(f, bson.E{Key: "lrs_id", Value: bson.D{{Key: "$in", Value: q.Sources}}})
	}
	if q.After != (Position{}) {
		after := primitive.DateTime(q.After.Stored)
		f = append(f, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "stored", Value: bson.D{{Key: "$gt", Value: after}}}},
			bson.D{{Key: "stored", Value: after}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: q.After.ID}}}},
		}})
	}
	if q.Filter != nil {
		f = append(f, bson.E{Key: "$and", Value: bson.A{q.Filter}})
	}
	return f
}

// Scan implements Scanner.
func (c CollectionScanner) Scan(ctx context.Context, q ScanQuery, fn func(doc bson.Raw) error) error {
	cur, err := c.Coll.Find(ctx, q.filter(), options.Find().SetSort(bson.D{{Key: "stored", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("lrs: scan statements: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var doc bson.Raw
		if err := cur.Decode(&doc); err != nil {
			return fmt.Errorf("lrs: read statement: %w", err)
		}
		if err := fn(doc); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("lrs: scan statements: %w", err)
	}
	return nil
}

// Count implements Scanner.
func (c CollectionScanner) Count(ctx context.Context, q ScanQuery) (int64, error) {
	n, err := c.Coll.CountDocuments(ctx, ScanQuery{Organisation: q.Organisation, Sources: q.Sources}.filter())
	if err != nil {
		return 0, fmt.Errorf("lrs: count statements: %w", err)
	}
	return n, nil
}

// LatestStored implements Scanner.
func (c CollectionScanner) LatestStored(ctx context.Context) (int64, error) {
	var doc bson.Raw
	err := c.Coll.FindOne(ctx, bson.D{},
		options.FindOne().SetSort(bson.D{{Key: "stored", Value: -1}}).SetProjection(bson.D{{Key: "stored", Value: 1}})).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("lrs: read latest stored time: %w", err)
	}
	t, _ := doc.Lookup("stored").DateTimeOK()
	return t, nil
}
