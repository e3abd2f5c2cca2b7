package main

import (
	"context"

	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeys/journeys/processor"
	"github.com/journeys/journeys/processor/lrs"
)

// mongoStreamOptions sets on c the change stream options that the MongoDB
// startup checks chose (lrs.MongoInfo): journey post-images where the
// journeys collection keeps them, split events where the server can split
// them. Nothing changes on the embedded LRS.
func (d *daemon) mongoStreamOptions(c *processor.PipelineConfig) {
	if d.lrs == nil || d.lrs.Embedded {
		return
	}
	c.FullDocument = options.UpdateLookup
	if d.lrs.Mongo.PostImages {
		c.FullDocument = options.WhenAvailable
	}
	c.SplitLargeEvents = d.lrs.Mongo.SplitLargeEvents
}

// runPipeline runs the pipeline until ctx ends. On MongoDB a missing
// statements index is built first (or awaited, with --no-index-build):
// this runs after the HTTP listener is up, so /healthz answers and
// /readyz reports the build meanwhile (lrs.LRS.IndexesReady).
func (d *daemon) runPipeline(ctx context.Context) error {
	if d.lrs != nil {
		err := d.lrs.BuildIndexes(ctx, lrs.IndexOptions{NoBuild: d.cfg.NoIndexBuild, Logger: d.log.With("component", "lrs")})
		if ctx.Err() != nil {
			return nil // stopping
		}
		if err != nil {
			return err
		}
	}
	return d.pipeline.Run(ctx)
}
