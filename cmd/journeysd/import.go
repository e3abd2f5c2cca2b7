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

// importingSuffix names the marker file of an import under way (see
// importOldStore).
const importingSuffix = ".importing"

// writeMarker creates the empty file path durably: the file and its
// directory entry are synced before the import writes anything.
func writeMarker(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// importOldStore moves the statements and journeys of the embedded store
// of earlier versions (lrs.StoreFile, a lungo file) into the statement log,
// once: statements in (stored, _id) order with their _id and stored kept,
// then the file is renamed to lrs.bson.imported. The progress checkpoint
// names a position of the old store, which the log does not know: the
// pipeline reports the history lost and recalculates every journey from
// the log, without repeating callbacks already sent.
//
// A log that already holds entries is not imported into: the daemon
// refuses to start and says what to do. A marker file (importingSuffix)
// exists from before the import's first write until the file is renamed,
// so an import a crash interrupted is told from a log that was there
// before: the refusal then says to remove the partial log and start again.
func importOldStore(ctx context.Context, dataDir string, sl *statementlog.Log, log *slog.Logger) (err error) {
	path := filepath.Join(dataDir, lrs.StoreFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	logDir := filepath.Join(dataDir, statementlog.Dir)
	marker := path + importingSuffix
	if sl.Last() > 0 {
		if _, err := os.Stat(marker); err == nil {
			return fmt.Errorf("the import of the old embedded store %s into the statement log %s was interrupted: "+
				"the log holds part of it; run `rm -r %s %s` and start again to import it whole",
				path, logDir, logDir, marker)
		}
		return fmt.Errorf("%s is an old embedded store, but the statement log in %s already holds entries: "+
			"if it was imported already, run `mv %s %s.imported`; otherwise move the statement log away "+
			"(`mv %s %s.old`) and start again to import it",
			path, logDir, path, path, logDir, logDir)
	}
	if err := writeMarker(marker); err != nil {
		return fmt.Errorf("mark the import of %s: %w", path, err)
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
	if err := os.Remove(marker); err != nil {
		return fmt.Errorf("imported %s, but cannot remove %s: %w", path, marker, err)
	}
	log.Info("imported the old embedded store into the statement log",
		"file", path, "statements", statements, "journeys", journeys, "renamed to", path+".imported")
	return nil
}
