// Package httpapi serves the journeys HTTP API (docs/design.md §3, §9) with Learning
// Locker's conventions: the journeys collection as a models API
// (/api/v2/journey) and a cursor-paginated connection API
// (/api/connection/journey), read-only journey progress from the state
// store, recalculation requests, funnels, callback deliveries, and, on the
// embedded statement log, the xAPI statement resource.
//
// # Writes go through the journeys collection
//
// The API never talks to the pipeline. It writes journey documents; the
// daemon's change stream picks every write up at its position in the
// stream. A recalculation request is a recalculateRequest field set on the
// journey document, which the pipeline notices the same way.
//
// # Queries are evaluated in process
//
// List queries read the principal's organisation's journeys with one
// equality query on organisation, and apply filter, sort and pagination in
// process: the database only ever sees queries the API builds itself.
// Filters are compiled by processor/cond, the engine that evaluates
// waypoint conditions, so they have MongoDB semantics on both backends —
// including $regex, which the embedded lungo engine lacks. Sorting uses
// MongoDB's cross-type order (lungo's bsonkit), which lets cursors address
// a position exactly: a range query pushed to the database would skip
// documents whose sort field has another type. The cost is reading an
// organisation's journeys per list request (about 4 ms for 250 journeys);
// journeys are configuration, counted in hundreds, and the daemon holds all
// of them in memory anyway. Only the documents of the page are decoded.
//
// # Learning Locker's request habits
//
// Clients written against Learning Locker's API keep working: routes match
// without regard to case or a trailing slash, as Express's router does
// (canonicalPaths, one wrapper over the route table); filter values
// compared with ObjectId and date fields are cast as mongoose casts them
// (castFilter, per schema: journeySchema, progressSchema); sort takes
// mongoose's forms, project and restify's select take inclusions,
// exclusions and $project renames; conditions and filters accept LL's
// {"$dte"} and {"$oid"} markers (processor/cond.ParseQuery). What is not
// supported is a 400 naming it: a query parameter an operation does not
// list in the OpenAPI document, a progress filter on a field the progress
// view does not hold, an aggregation expression in project.
//
// Progress lives in the state store, not in a collection: a progress
// filter is evaluated in process on a small BSON view of each record (see
// progress_filter.go), and GET /api/v2/journeyprogress/:id finds the
// record whose derived id matches by walking the organisation's progress,
// as the state store has no index from that id to its (journey, owner).
//
// # Testing conditions before they count
//
// POST /api/v2/journey/conditions/test compiles a condition exactly as a
// waypoint save does (journey.ParseConditions) and evaluates it against the
// newest N (at most MaxTestStatements) statements of the principal's
// organisation, read through Config.Statements, newest first. It answers
// how many match, the newest matches, the verbs seen, and whether the
// candidate index serves the condition (processor.IndexPath). It reads only
// and needs the scope a journey write needs. httprouter cannot register
// the static segment "conditions" beside /api/v2/journey/:id, so the route
// is registered as /api/v2/journey/:id/test (route.routed) and documented
// under its real path.
//
// # Authentication and scoping
//
// Every /api and /data route needs HTTP Basic credentials: an LRS client's
// api.basic_key and api.basic_secret, or the static admin credential.
// Every read and write is scoped to the principal's organisation, and
// another organisation's ids answer 404, exactly like ids that do not exist.
// See Principal for what each scope allows.
package httpapi
