package main

import (
	"context"
	"fmt"
	"path/filepath"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/lrs"
	"github.com/journeys/journeys/processor/outbox"
	"github.com/journeys/journeys/processor/statementlog"
)

// openLRS opens the LRS side: the MongoDB database --mongo-uri names, or
// else the embedded statement log in --data-dir (importing an old embedded
// store file first, see importOldStore).
func (d *daemon) openLRS(ctx context.Context) error {
	if d.cfg.MongoURI != "" {
		l, err := lrs.Open(ctx, lrs.Config{URI: d.cfg.MongoURI, Database: d.cfg.MongoDB})
		if err != nil {
			return err
		}
		d.lrs = l
		return nil
	}
	sl, err := statementlog.Open(filepath.Join(d.cfg.DataDir, statementlog.Dir), statementlog.Options{Logger: d.log})
	if err != nil {
		return err
	}
	d.statements = sl
	return importOldStore(ctx, d.cfg.DataDir, sl, d.log)
}

// pipelineConfig returns the pipeline's configuration on the open LRS.
func (d *daemon) pipelineConfig() processor.PipelineConfig {
	c := processor.PipelineConfig{
		Store:         d.store,
		BatchSize:     d.cfg.BatchSize,
		CacheBytes:    cacheBudget(d.cfg.ProgressCache),
		ScanRate:      d.cfg.ScanRate,
		HandoverChunk: d.cfg.HandoverChunk,
		// d.disp is created after the pipeline; the pipeline calls this
		// only once it runs.
		OnDurable: func(ds []outbox.Delivery) {
			d.disp.Enqueue(ds...)
			if f := d.cfg.observeDurable; f != nil {
				f(ds)
			}
		},
		Logger: d.log.With("component", "pipeline"),
	}
	if sl := d.statements; sl != nil {
		c.OpenStream = func(ctx context.Context, resumeAfter bson.Raw) (processor.Stream, error) {
			r, err := sl.Open(ctx, resumeAfter)
			if err != nil {
				return nil, err
			}
			return r, nil
		}
		c.Scanner = sl.Scanner()
		c.JourneyStore = sl
		return c
	}
	c.DB = d.lrs.DB
	c.Statements, c.Journeys = d.lrs.Config.Statements, d.lrs.Config.Journeys
	c.ServerSideFilter = true
	// The scan follows the order of the statements index BuildIndexes
	// finds (Learning Locker's own, walked backwards) or builds.
	scanner := lrs.NewMongoScanner(d.lrs.DB, d.lrs.Config.Statements)
	scanner.Chunk = d.cfg.ScanChunk
	scanner.Index = d.lrs.ScanIndex // LL's org_stored__id as it is
	c.Scanner = scanner
	return c
}

// pingLRS checks that the LRS side answers.
func (d *daemon) pingLRS(ctx context.Context) error {
	if d.statements != nil {
		return d.statements.Ping()
	}
	if err := d.lrs.Ping(ctx); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// cacheBudget maps --progress-cache-bytes to the engine's CacheBytes, where
// 0 means the default and a negative value none.
func cacheBudget(flag int) int {
	if flag == 0 {
		return -1
	}
	return flag
}
