// Package processor turns the LRS's statements into journey progress: the
// Engine applies statements, the Pipeline feeds it from one Stream (a
// MongoDB change stream or the embedded statement log; stream.go) and runs
// recalculations and owner recomputes beside the live stream. The
// behaviour is docs/design.md §4, §6 and §7; this is how the parts fit.
//
// # One goroutine, one batch
//
// The Pipeline's goroutine owns the Engine. Each change event is applied
// in stream order (pipeline.go's apply): a statement insert to the
// journeys it is eligible for (Engine.Statement), a journey change through
// the one decision function (decide.go) to an action, a statement update
// to the owner recomputes it queues (recompute.go), a journey delete to
// its progress. Everything the applied events changed — progress,
// archived attempts, fired markers, deliveries due, journey metas, the
// running recalculations' records — goes into the engine's pending
// state.Batch and is committed with the checkpoint of the last applied
// event, so a crash at any point replays from a state that was whole.
// The engine reports what it did with a statement as a Result (stmt.go);
// callers read that value, not the engine's scratch.
//
// # Three ways progress is rebuilt
//
//   - A recalculation (recalc.go) rebuilds a whole journey from every
//     stored statement, by a scan that runs in its own goroutine in
//     (stored, _id) order and shares one pass among the journeys pending
//     together (pushdown.go builds the filter the LRS evaluates). The
//     pipeline applies the scan in chunks between live events and commits
//     the scan's position with them. The journey's own live statements
//     are held back in a durable pending log and applied after the scan
//     (the hand-over), skipping those the scan already applied.
//   - An owner recompute (recompute.go) rebuilds one (journey, owner)
//     pair from the owner's stored eligible statements when Learning
//     Locker updates a statement (persona assigned or merged, voided).
//     Recomputes are queued and run once per owner just before the commit.
//   - Live application, for everything else.
//
// They compose through the journey's state, never by reading each other's:
//
//   - A statement update for a journey that is recalculating is not
//     recomputed beside the scan (which may have read the statement before
//     the update) or the pending log (which holds statements as inserted):
//     it is recorded in the journey's meta and recomputed in the batch that
//     hands the journey over. A new run of the recalculation (the journey
//     changed again) drops these, and the recompute skip set: its scan
//     reads the statements as every update so far left them.
//   - A recompute queued for a journey that begins recalculating before
//     the commit is dropped for the same reason; one queued for a journey
//     edited without a new version runs against the new definition.
//   - Statements a recompute or a scan reads before the stream delivers
//     them would count twice: both keep a bounded skip set of them
//     (recompute_skip.go, and the recalculation's in the state store),
//     under the LRS's clock-skew margin (PipelineConfig.SkewMargin).
//   - Fired markers outlive every rebuild, so an attempt number that fired
//     never fires again, whichever path completes it.
package processor
