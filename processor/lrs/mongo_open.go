package lrs

import (
	"context"
	"errors"
	"fmt"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/writeconcern"
)

// openMongo connects l to the MongoDB deployment cfg.URI names and checks
// it (CheckMongo) before anything else runs. The database handle writes
// with w: majority: a journey written through the API is acknowledged only
// once a majority of the replica set has it, so an election cannot roll it
// back (before MongoDB 5.0 the default is w: 1). Indexes are not touched
// here: BuildIndexes runs once the HTTP listener is up.
func (l *LRS) openMongo(ctx context.Context) error {
	client, err := lungo.Connect(ctx, options.Client().ApplyURI(l.URI))
	if err != nil {
		return fmt.Errorf("lrs: connect to MongoDB: %w", err)
	}
	l.Client = client
	l.DB = client.Database(l.Database, mongoDatabaseOptions())
	if l.Mongo, err = CheckMongo(ctx, l.mongoDB(), l.Journeys); err != nil {
		return errors.Join(err, l.Close(ctx))
	}
	return nil
}

// mongoDatabaseOptions are the options of the LRS database handle on
// MongoDB.
func mongoDatabaseOptions() *options.DatabaseOptions {
	return options.Database().SetWriteConcern(writeconcern.Majority())
}

// OpenMongoDatabase returns the LRS database db of client with the options
// journeysd uses (w: majority), for callers that hold their own client.
func OpenMongoDatabase(client *mongo.Client, db string) *mongo.Database {
	return client.Database(db, mongoDatabaseOptions())
}

// mongoDB returns the driver's handle of the LRS database on MongoDB.
func (l *LRS) mongoDB() *mongo.Database {
	return l.DB.(*lungo.MongoDatabase).Database
}
