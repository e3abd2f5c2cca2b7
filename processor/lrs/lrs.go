// Package lrs opens the MongoDB LRS database journeysd works on, and holds
// what every LRS side shares: the seams the pipeline and the API read
// through (Scanner, JourneyStore, ClientStore) with their MongoDB
// implementations, and the checks and shape of an xAPI statement stored
// the way Learning Locker stores it (Prepare). The embedded default is the
// statement log (processor/statementlog). The lungo engine that Open also
// opens with an empty URI is MongoDB's stand-in in tests, and the reader
// of an earlier version's embedded file (StoreFile) when it is imported;
// Ingest stores statements into it the way Learning Locker does.
package lrs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/256dpi/lungo"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/readpref"
)

// StoreFile is the name of the embedded engine's file inside
// Config.DataDir.
const StoreFile = "lrs.bson"

// Config says which LRS database to open. Zero fields take the documented
// defaults.
type Config struct {
	// URI is the MongoDB connection string. Empty selects the embedded
	// engine.
	URI string
	// DataDir holds the embedded engine's file (StoreFile); it is created
	// if missing. Empty keeps the embedded database in memory only, for
	// tests and demonstrations.
	DataDir string
	// Database is the LRS database name. Default: "learninglocker_v2".
	Database string
	// Statements, Journeys and Clients name the collections. Defaults:
	// "statements", "journeys", "client".
	Statements, Journeys, Clients string
	// MaxOplogSize is how many change events the embedded engine keeps for
	// change streams to resume from. Default: 10000. The embedded engine
	// rewrites its whole file, oplog included, on every write, so a larger
	// oplog makes every write slower; and since only this process writes
	// to the embedded database, its change stream never falls far behind.
	MaxOplogSize int
}

// LRS is an open LRS database.
type LRS struct {
	// Client is the connection: a lungo client over the embedded engine or
	// over MongoDB.
	Client lungo.IClient
	// DB is the LRS database.
	DB lungo.IDatabase
	// Embedded reports whether DB is the embedded engine.
	Embedded bool
	// Config is the configuration in effect, defaults filled in.
	Config
	// Mongo is what the startup checks learnt about MongoDB (zero on the
	// embedded engine).
	Mongo MongoInfo

	indexes indexState // see BuildIndexes

	engine *lungo.Engine // nil for MongoDB
	// ingest serialises Ingest calls (see Ingest).
	ingest sync.Mutex
}

// Open connects to the database cfg names. The embedded engine gets the
// indexes the daemon relies on at once: statements {organisation, stored,
// _id}, the order recalculation scans in, and journeys {organisation}.
// MongoDB is checked first (CheckMongo: a replica set of 4.2 or later, the
// user's privileges), and its indexes are left to BuildIndexes.
func Open(ctx context.Context, cfg Config) (*LRS, error) {
	cfg = cfg.withDefaults()
	l := &LRS{Config: cfg, Embedded: cfg.URI == ""}
	if l.Embedded {
		store, err := embeddedStore(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		client, engine, err := lungo.Open(ctx, lungo.Options{
			Store:        store,
			MaxOplogSize: cfg.MaxOplogSize,
			// lungo also drops events older than MaxOplogAge (default one
			// hour) once more than MinOplogSize exist: a daemon stopped
			// for an hour would then find its checkpoint gone and
			// recalculate everything. Keep them as long as lungo allows.
			MaxOplogAge: 21 * 24 * time.Hour,
			// Beyond MaxOplogSize, drop events as soon as lungo's second
			// granularity allows rather than after its default five
			// minutes: the size bound is the operator's setting.
			MinOplogAge: time.Second,
		})
		if err != nil {
			return nil, fmt.Errorf("lrs: open embedded store in %q: %w", cfg.DataDir, err)
		}
		l.Client, l.engine = client, engine
	} else {
		// Checked and opened in mongo_open.go; indexes: BuildIndexes.
		if err := l.openMongo(ctx); err != nil {
			return nil, err
		}
		return l, nil
	}
	l.DB = l.Client.Database(cfg.Database)
	if err := l.createIndexes(ctx); err != nil {
		return nil, errors.Join(err, l.Close(ctx))
	}
	return l, nil
}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	set := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
	}
	set(&c.Database, "learninglocker_v2")
	set(&c.Statements, "statements")
	set(&c.Journeys, "journeys")
	set(&c.Clients, "client")
	if c.MaxOplogSize <= 0 {
		c.MaxOplogSize = 10_000
	}
	return c
}

// embeddedStore returns the lungo store for dir: a file in it, or memory
// when dir is empty.
func embeddedStore(dir string) (lungo.Store, error) {
	if dir == "" {
		return lungo.NewMemoryStore(), nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("lrs: create data directory: %w", err)
	}
	path := filepath.Join(dir, StoreFile)
	waitPastLastWrite(path)
	return lungo.NewFileStore(path, 0o600), nil
}

// waitPastLastWrite waits, if need be, until the wall clock has left the
// second in which the store file was last written. lungo stamps change
// events with (Unix second, counter) and restarts the counter with the
// process: a process started within the second of its predecessor's last
// write would stamp events with the same timestamps as events already in
// the oplog, and a resume token naming one of them would be ambiguous — a
// restarted pipeline could resume after the wrong event and apply
// statements twice. Every event in the file was stamped no later than the
// file's modification time, so after that second new stamps are unique.
func waitPastLastWrite(path string) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	last := fi.ModTime().Unix()
	if wait := time.Until(time.Unix(last+1, 0)); wait > 0 {
		time.Sleep(wait)
	}
}

// createIndexes creates the indexes Open documents.
func (l *LRS) createIndexes(ctx context.Context) error {
	for coll, keys := range map[string]bson.D{
		l.Statements: {{Key: "organisation", Value: 1}, {Key: "stored", Value: 1}, {Key: "_id", Value: 1}},
		l.Journeys:   {{Key: "organisation", Value: 1}},
	} {
		_, err := l.DB.Collection(coll).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys})
		var se mongo.ServerError
		if errors.As(err, &se) && se.HasErrorCode(85) { // IndexOptionsConflict: same keys, other name
			err = nil
		}
		if err != nil {
			return fmt.Errorf("lrs: create index on %s: %w", coll, err)
		}
	}
	return nil
}

// Ping checks that the database answers (for readiness probes): MongoDB's
// primary replies to ping, or the embedded engine is open.
func (l *LRS) Ping(ctx context.Context) error {
	var err error
	if l.Embedded {
		_, err = l.engine.Begin(ctx, false) // a snapshot; fails once closed
	} else {
		err = l.Client.Ping(ctx, readpref.Primary())
	}
	if err != nil {
		return fmt.Errorf("lrs: ping: %w", err)
	}
	return nil
}

// Close disconnects from MongoDB, or closes the embedded engine (its file
// is already written: every write is stored before it returns).
func (l *LRS) Close(ctx context.Context) error {
	err := l.Client.Disconnect(ctx)
	if l.engine != nil {
		l.engine.Close()
	}
	if err != nil {
		return fmt.Errorf("lrs: disconnect: %w", err)
	}
	return nil
}
