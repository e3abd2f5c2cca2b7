package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/statementlog"
)

// importBatch is how many statements one import write carries.
const importBatch = 1000

// importOldStore moves the statements and journeys of the embedded store
// of earlier versions (lrs.StoreFile, a lungo file) into the statement log,
// once: statements in (stored, _id) order with their _id and stored kept,
// then the file is renamed to lrs.bson.imported. The progress checkpoint
// names a position of the old store, which the log does not know: the
// pipeline reports the history lost and recalculates every journey from
// the log, without repeating callbacks already sent.
//
// A log that already holds entries is not imported into: the daemon
// refuses to start and says what to do.
func importOldStore(ctx context.Context, dataDir string, sl *statementlog.Log, log *slog.Logger) (err error) {
	path := filepath.Join(dataDir, lrs.StoreFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if sl.Last() > 0 {
		return fmt.Errorf("%s is an old embedded store, but the statement log in %s already holds entries: "+
			"if it was imported already, run `mv %s %s.imported`; otherwise move the statement log away "+
			"(`mv %s %s.old`) and start again to import it",
			path, filepath.Join(dataDir, statementlog.Dir), path, path,
			filepath.Join(dataDir, statementlog.Dir), filepath.Join(dataDir, statementlog.Dir))
	}
	old, err := lrs.Open(ctx, lrs.Config{DataDir: dataDir})
	if err != nil {
		return fmt.Errorf("open the old embedded store %s to import it: %w", path, err)
	}
	defer func() {
		if cerr := old.Close(ctx); cerr != nil && err == nil {
			err = cerr
		}
	}()
	journeys := 0
	err = lrs.CollectionJourneys{Coll: old.DB.Collection(old.Journeys)}.Journeys(ctx, [12]byte{}, func(doc bson.Raw) error {
		journeys++
		return sl.InsertJourney(ctx, doc)
	})
	if err != nil {
		return fmt.Errorf("import journeys from %s: %w", path, err)
	}
	cur, err := old.DB.Collection(old.Statements).Find(ctx, bson.D{},
		options.Find().SetSort(bson.D{{Key: "stored", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return fmt.Errorf("import statements from %s: %w", path, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var batch []bson.Raw
	statements := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		statements += len(batch)
		err := sl.Import(batch)
		batch = batch[:0]
		return err
	}
	for cur.Next(ctx) {
		var doc bson.Raw
		if err := cur.Decode(&doc); err != nil {
			return fmt.Errorf("import statements from %s: %w", path, err)
		}
		if batch = append(batch, doc); len(batch) == importBatch {
			if err := flush(); err != nil {
				return fmt.Errorf("import statements from %s: %w", path, err)
			}
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("import statements from %s: %w", path, err)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("import statements from %s: %w", path, err)
	}
	if err := os.Rename(path, path+".imported"); err != nil {
		return fmt.Errorf("imported %s, but cannot rename it: %w", path, err)
	}
	log.Info("imported the old embedded store into the statement log",
		"file", path, "statements", statements, "journeys", journeys, "renamed to", path+".imported")
	return nil
}
