package lrs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The statements index on MongoDB.
//
// A recalculation scans one organisation's statements by stored time
// (docs/design.md §7). Learning Locker already keeps an index for exactly that,
// created by its migration 20171122100800_common_statement_indexes as
// org_stored__id {organisation: 1, stored: -1, _id: 1}. With organisation
// fixed, MongoDB walks it backwards to serve {stored: 1, _id: -1}: stored
// ascending, ties on stored in descending _id order. It cannot serve
// {stored: 1, _id: 1} (ascending ties) without a blocking sort of the whole
// organisation, since MongoDB does not sort within runs of an index
// prefix. So on an existing LL database nothing needs to be built as long
// as the scan asks for the order the index has (ScanIndex.IDDescending).
// The tie-break itself stays ascending (lrs.Position): statements of one
// LRS request share a stored time and were inserted in ascending _id
// order, the order the live stream applies them in, and a sequential
// journey's progress depends on it. TieReverser restores it by reversing
// each run of equal stored times in memory.
//
// When no such index exists (not an LL database, or LL's migrations not
// run), journeysd builds {organisation: 1, stored: 1, _id: 1}, which serves
// the ascending order directly (the index earlier journeysd versions
// built, under the same default name, so their deployments find it in
// place). The build runs after the HTTP listener is up (BuildIndexes,
// called by the pipeline's goroutine); meanwhile IndexesReady reports the
// build, so /readyz says what the daemon waits for and the health
// endpoints answer — a startup probe no longer kills the container
// mid-build. An operator can opt out and build the index out of band
// (--no-index-build): journeysd then waits until it exists.

// builtScanIndex is the statements index journeysd builds when none serves
// the scan.
var builtScanIndex = ScanIndex{
	Name: "organisation_1_stored_1__id_1",
	Keys: bson.D{{Key: "organisation", Value: 1}, {Key: "stored", Value: 1}, {Key: "_id", Value: 1}},
}

// ScanIndex is a statements index whose keys begin organisation, stored,
// _id: with organisation fixed it serves a scan by stored time.
type ScanIndex struct {
	// Name is the index's name.
	Name string
	// Keys are the index's keys.
	Keys bson.D
	// IDDescending reports that the index orders ties on stored by
	// descending _id when stored ascends (stored and _id have opposite
	// directions, as in LL's index): the scan must sort {stored: 1,
	// _id: -1} to use it. False: {stored: 1, _id: 1}.
	IDDescending bool
}

// findScanIndex returns the index among specs that serves the scan,
// preferring one with ascending ties (the order lrs.Position defines).
func findScanIndex(specs []*mongo.IndexSpecification) (ScanIndex, bool) {
	var found ScanIndex
	ok := false
	for _, s := range specs {
		var keys bson.D
		if err := bson.Unmarshal(s.KeysDocument, &keys); err != nil || len(keys) < 3 {
			continue
		}
		if keys[0].Key != "organisation" || keys[1].Key != "stored" || keys[2].Key != "_id" {
			continue
		}
		dStored, ok1 := direction(keys[1].Value)
		dID, ok2 := direction(keys[2].Value)
		if !ok1 || !ok2 || s.Sparse != nil && *s.Sparse {
			continue
		}
		idx := ScanIndex{Name: s.Name, Keys: keys, IDDescending: dStored != dID}
		if !ok || found.IDDescending && !idx.IDDescending {
			found, ok = idx, true
		}
	}
	return found, ok
}

// hasStoredIndex reports whether an index among specs begins with stored,
// so that the latest stored time of all statements (sort {stored: -1},
// no filter) is read from it. Learning Locker's documentation recommends
// {stored: -1}; its migrations do not build it.
func hasStoredIndex(specs []*mongo.IndexSpecification) bool {
	for _, s := range specs {
		var keys bson.D
		if bson.Unmarshal(s.KeysDocument, &keys) != nil || len(keys) == 0 || keys[0].Key != "stored" {
			continue
		}
		if _, ok := direction(keys[0].Value); ok && (s.Sparse == nil || !*s.Sparse) {
			return true
		}
	}
	return false
}

// direction returns the direction of an ascending or descending index key,
// false for other kinds (hashed, text, ...).
func direction(v any) (int, bool) {
	var d float64
	switch n := v.(type) {
	case int32:
		d = float64(n)
	case int64:
		d = float64(n)
	case float64:
		d = n
	default:
		return 0, false
	}
	switch {
	case d > 0:
		return 1, true
	case d < 0:
		return -1, true
	}
	return 0, false
}

// indexState is what IndexesReady reports, guarded for the readiness
// probe's goroutine.
type indexState struct {
	mu    sync.Mutex
	ready bool
	// why says what is awaited, or how it failed, while not ready.
	why  error
	scan ScanIndex
}

func (s *indexState) set(ready bool, why error, scan ScanIndex) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready, s.why, s.scan = ready, why, scan
}

// IndexesReady reports nil once the indexes journeysd relies on exist
// (always on the embedded engine, and on a nil LRS), and otherwise an error saying what
// is awaited: the build in progress, the index an operator was asked to
// build, or why the build failed. Its text up to the first colon is a
// short status, for readiness probes that show only that.
func (l *LRS) IndexesReady() error {
	if l == nil || l.Embedded {
		return nil
	}
	l.indexes.mu.Lock()
	defer l.indexes.mu.Unlock()
	if l.indexes.ready {
		return nil
	}
	if l.indexes.why == nil {
		return errors.New("statements index not checked yet: the pipeline checks it first")
	}
	return l.indexes.why
}

// ScanIndex returns the statements index that serves recalculation scans
// on MongoDB, once IndexesReady reports nil; ok is false before, and on
// the embedded engine.
func (l *LRS) ScanIndex() (ScanIndex, bool) {
	l.indexes.mu.Lock()
	defer l.indexes.mu.Unlock()
	return l.indexes.scan, l.indexes.ready && !l.Embedded
}

// IndexOptions says how BuildIndexes treats a missing index.
type IndexOptions struct {
	// NoBuild leaves a missing statements index to the operator: it is
	// logged with the command that builds it, and BuildIndexes waits until
	// it exists.
	NoBuild bool
	// Poll is how often a missing index is looked for again, and a failed
	// build retried. Default: 10s.
	Poll time.Duration
	// Logger receives the progress; nil discards it.
	Logger *slog.Logger
}

// BuildIndexes makes sure, on MongoDB, that the statements collection has
// an index that serves recalculation scans (see ScanIndex) and journeys
// one on organisation, building what is missing (unless opts.NoBuild),
// and returns once they exist or ctx ends. IndexesReady reports its
// progress meanwhile. A user not allowed to build the index gets an error
// naming the privilege. On the embedded engine (and a nil LRS) it returns
// at once.
func (l *LRS) BuildIndexes(ctx context.Context, opts IndexOptions) error {
	if l == nil || l.Embedded {
		return nil
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Poll <= 0 {
		opts.Poll = 10 * time.Second
	}
	stmts := l.mongoDB().Collection(l.Statements)
	for {
		specs, err := listIndexes(ctx, l.mongoDB().Collection(l.Statements))
		if err != nil {
			err = fmt.Errorf("lrs: list the indexes of %s: %w", l.Statements, err)
			if isUnauthorized(err) || ctx.Err() != nil {
				l.indexes.set(false, err, ScanIndex{})
				return err
			}
			l.indexes.set(false, err, ScanIndex{})
			log.Warn("cannot list the statements indexes; retrying", "err", err, "in", opts.Poll)
		} else if idx, ok := findScanIndex(specs); ok {
			l.indexes.set(true, nil, idx)
			log.Info("statements index found", "index", idx.Name, "keys", idx.Keys, "idDescending", idx.IDDescending)
			if !hasStoredIndex(specs) {
				log.Warn("no statements index on {stored: -1}: finding the latest stored time when the stream opens scans the whole collection; " +
					"build the index Learning Locker's documentation recommends: db.statements.createIndex({stored: -1})")
			}
			break
		} else if opts.NoBuild {
			why := fmt.Errorf("waiting for the statements index %s to be built out of band (--no-index-build): "+
				"db.%s.createIndex({organisation: 1, stored: 1, _id: 1}, {name: %q})",
				builtScanIndex.Name, l.Statements, builtScanIndex.Name)
			l.indexes.set(false, why, ScanIndex{})
			log.Warn("statements index missing; not building it", "why", why)
		} else {
			why := fmt.Errorf("building the statements index %s: {organisation: 1, stored: 1, _id: 1} on %s since %s (a large collection takes a while)",
				builtScanIndex.Name, l.Statements, time.Now().UTC().Format(time.RFC3339))
			l.indexes.set(false, why, ScanIndex{})
			log.Info("statements index missing: building it", "index", builtScanIndex.Name, "keys", builtScanIndex.Keys)
			start := time.Now()
			_, err := stmts.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: builtScanIndex.Keys, Options: options.Index().SetName(builtScanIndex.Name)})
			if err == nil {
				l.indexes.set(true, nil, builtScanIndex)
				log.Info("statements index built", "index", builtScanIndex.Name, "took", time.Since(start))
				break
			}
			err = unauthorizedHelp(fmt.Errorf("lrs: build the index %s on %s: %w", builtScanIndex.Name, l.Statements, err),
				Need{l.Database, l.Statements, "createIndex", "building the statements index"})
			l.indexes.set(false, err, ScanIndex{})
			if isUnauthorized(err) || ctx.Err() != nil {
				return err
			}
			log.Warn("statements index build failed; retrying", "err", err, "in", opts.Poll)
		}
		if err := sleepCtx(ctx, opts.Poll); err != nil {
			return err
		}
	}
	return l.journeysIndex(ctx, opts.NoBuild, log)
}

// journeysIndex creates journeys {organisation: 1} unless it exists. The
// collection is small: a failure is logged, not fatal.
func (l *LRS) journeysIndex(ctx context.Context, noBuild bool, log *slog.Logger) error {
	specs, err := listIndexes(ctx, l.mongoDB().Collection(l.Journeys))
	if err == nil {
		for _, s := range specs {
			var keys bson.D
			if bson.Unmarshal(s.KeysDocument, &keys) == nil && len(keys) > 0 && keys[0].Key == "organisation" {
				return nil
			}
		}
	}
	if noBuild {
		log.Warn("journeys index missing; not building it (--no-index-build)", "keys", "{organisation: 1}")
		return nil
	}
	_, err = l.mongoDB().Collection(l.Journeys).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "organisation", Value: 1}}})
	if err != nil && !hasCode(err, 85) && !hasCode(err, 86) { // IndexOptionsConflict, IndexKeySpecsConflict
		log.Warn("cannot build the journeys index {organisation: 1}; the API reads journeys without it", "err", err)
	}
	return ctx.Err()
}

// listIndexes lists the indexes of coll; a collection that does not exist
// yet has none.
func listIndexes(ctx context.Context, coll *mongo.Collection) ([]*mongo.IndexSpecification, error) {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if hasCode(err, 26) { // NamespaceNotFound
		return nil, nil
	}
	return specs, err
}

// hasCode reports whether err is a MongoDB server error with the code.
func hasCode(err error, code int) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(code)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
