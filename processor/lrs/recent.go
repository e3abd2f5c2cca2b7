package lrs

import (
	"context"
	"fmt"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Recent calls fn with up to n of organisation org's most recent statement
// documents, newest first by (stored, _id), until fn returns an error
// (returned as is). It serves the condition tester of the HTTP API
// (httpapi.Statements). doc is valid only until fn returns.
func (l *LRS) Recent(ctx context.Context, org primitive.ObjectID, n int, fn func(doc bson.Raw) error) error {
	return CollectionStatements{Coll: l.DB.Collection(l.Statements)}.Recent(ctx, org, n, fn)
}

// CollectionStatements reads a Learning Locker statements collection, on
// MongoDB or on lungo.
type CollectionStatements struct {
	// Coll is the statements collection.
	Coll lungo.ICollection
}

// Recent is LRS.Recent over c.Coll. On MongoDB the query walks the
// {organisation, stored, _id} index that Open creates backwards, so it
// reads n index entries and documents whatever the collection's size.
func (c CollectionStatements) Recent(ctx context.Context, org primitive.ObjectID, n int, fn func(doc bson.Raw) error) error {
	if n <= 0 {
		return nil
	}
	opts := options.Find().
		SetSort(bson.D{{Key: "stored", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(int64(n))
	cur, err := c.Coll.Find(ctx, bson.D{{Key: "organisation", Value: org}}, opts)
	if err != nil {
		return fmt.Errorf("lrs: read recent statements: %w", err)
	}
	return eachDoc(ctx, cur, "read recent statements", fn)
}
