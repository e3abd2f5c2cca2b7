package httpapi

import (
	"context"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Statements reads an organisation's most recent stored statements, for the
// condition tester (POST /api/v2/journey/conditions/test). The LRS
// implements it: lrs.LRS over its statements collection, where MongoDB walks
// the {organisation, stored, _id} index backwards.
type Statements interface {
	// Recent calls fn with up to n statement documents of organisation
	// org (Learning Locker's document shape, raw BSON), newest first by
	// (stored, _id), until fn returns an error, which Recent returns as
	// is. doc is valid only until fn returns.
	Recent(ctx context.Context, org primitive.ObjectID, n int, fn func(doc bson.Raw) error) error
}
