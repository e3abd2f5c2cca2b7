// Package xapitest generates realistic Learning Locker v2 statement documents
// for tests and benchmarks.
//
// A Generator is deterministic: the same seed and Options yield the same
// sequence of documents, byte for byte. Each document is a bson.Raw of about
// 2 KB shaped like a row of Learning Locker's statements collection (see
// docs/design.md §2), with stored times strictly increasing, so a sequence can stand in
// for a change stream or for a recalculation's (stored, _id) order.
package xapitest

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Options configures a Generator. Zero fields take the documented defaults.
type Options struct {
	// Organisation is stored as organisation. Default: derived from the seed.
	Organisation primitive.ObjectID
	// Store is stored as lrs_id. Default: derived from the seed.
	Store primitive.ObjectID
	// Actors is the size of the learner pool. Default: 100.
	Actors int
	// Verbs are the verb ids Next draws from. Default: StandardVerbs().
	Verbs []string
	// ActivityTypes are the activity types Next draws from. Default:
	// StandardActivityTypes().
	ActivityTypes []string
	// Activities is the number of distinct activity ids per activity type.
	// Default: 20.
	Activities int
	// Start is the stored time of the first statement. Default:
	// 2024-01-01T00:00:00Z.
	Start time.Time
}

// Spec pins parts of a statement made by Generator.Make; zero fields are
// drawn at random like Next does.
type Spec struct {
	// Actor is the learner, typically from Generator.Actor.
	Actor *Actor
	// Anonymous makes the actor an anonymous Group (members but no IFI), which
	// journeys cannot track by actor; such documents have no person fields.
	// It overrides Actor.
	Anonymous bool
	// Verb is statement.verb.id.
	Verb string
	// ActivityType is statement.object.definition.type.
	ActivityType string
	// Object is statement.object.id; when empty it is an ActivityID of the
	// statement's activity type.
	Object string
	// Organisation overrides Options.Organisation.
	Organisation primitive.ObjectID
	// Store overrides Options.Store as lrs_id.
	Store primitive.ObjectID
	// Voided stores the document with voided true.
	Voided bool
}

// Generator produces statement documents. It is not safe for concurrent use.
type Generator struct {
	rng     *rand.Rand
	opts    Options
	actors  []Actor
	stored  time.Time
	process [5]byte // the ObjectId "random value" part, fixed per generator
	counter uint32  // the ObjectId counter part
}

// New returns a Generator seeded with seed.
func New(seed int64, opts Options) *Generator {
	g := &Generator{rng: rand.New(rand.NewPCG(uint64(seed), 0x6a6f75726e657973))}
	binary.BigEndian.PutUint32(g.process[:4], g.rng.Uint32())
	g.process[4] = byte(g.rng.Uint32())
	g.counter = g.rng.Uint32() & 0xffffff

	if opts.Start.IsZero() {
		opts.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	g.stored = opts.Start.UTC().Truncate(time.Millisecond)
	if opts.Organisation.IsZero() {
		opts.Organisation = g.objectID()
	}
	if opts.Store.IsZero() {
		opts.Store = g.objectID()
	}
	if opts.Actors <= 0 {
		opts.Actors = 100
	}
	if len(opts.Verbs) == 0 {
		opts.Verbs = StandardVerbs()
	}
	if len(opts.ActivityTypes) == 0 {
		opts.ActivityTypes = StandardActivityTypes()
	}
	if opts.Activities <= 0 {
		opts.Activities = 20
	}
	g.opts = opts

	g.actors = make([]Actor, opts.Actors)
	for i := range g.actors {
		g.actors[i] = g.newActor(i)
	}
	return g
}

// Options returns the options in effect, defaults filled in.
func (g *Generator) Options() Options {
	return g.opts
}

// Actor returns the learner at index i of the pool; i must be in
// [0, Options().Actors).
func (g *Generator) Actor(i int) *Actor {
	return &g.actors[i]
}

// Next returns the next statement document, everything drawn at random.
func (g *Generator) Next() bson.Raw {
	return g.Make(Spec{})
}

// Make returns the next statement document with the parts pinned by spec.
// Its stored time is strictly later than the previous document's.
func (g *Generator) Make(spec Spec) bson.Raw {
	s := g.fill(spec)
	raw, err := bson.Marshal(g.document(s))
	if err != nil {
		// Every value is built here from Go scalars and bson.D, which always
		// marshal; failure would be a bug in this package.
		panic(fmt.Sprintf("xapitest: marshal statement: %v", err))
	}
	return raw
}

// ActivityID returns the id of activity n of type typ, e.g.
// ActivityID(TypeCourse, 3) is "https://lms.example.org/activities/course/3".
// Generated objects of that type have ids ActivityID(typ, 0..Activities-1).
func ActivityID(typ string, n int) string {
	return fmt.Sprintf("%s%s/%d", ActivityBase, lastSegment(typ), n)
}

// fill draws every field spec leaves open.
func (g *Generator) fill(spec Spec) Spec {
	if spec.Actor == nil && !spec.Anonymous {
		spec.Actor = &g.actors[g.rng.IntN(len(g.actors))]
	}
	if spec.Verb == "" {
		spec.Verb = g.pick(g.opts.Verbs)
	}
	if spec.ActivityType == "" {
		spec.ActivityType = g.pick(g.opts.ActivityTypes)
	}
	if spec.Object == "" {
		spec.Object = ActivityID(spec.ActivityType, g.rng.IntN(g.opts.Activities))
	}
	if spec.Organisation.IsZero() {
		spec.Organisation = g.opts.Organisation
	}
	if spec.Store.IsZero() {
		spec.Store = g.opts.Store
	}
	return spec
}

// pick returns a random element of list.
func (g *Generator) pick(list []string) string {
	return list[g.rng.IntN(len(list))]
}

// objectID returns a fresh ObjectId laid out like the drivers' (seconds,
// per-process random value, counter) with the current stored time, so ids
// ascend with stored as they do in a real LRS.
func (g *Generator) objectID() primitive.ObjectID {
	var id primitive.ObjectID
	binary.BigEndian.PutUint32(id[0:4], uint32(g.stored.Unix()))
	copy(id[4:9], g.process[:])
	g.counter = (g.counter + 1) & 0xffffff
	id[9], id[10], id[11] = byte(g.counter>>16), byte(g.counter>>8), byte(g.counter)
	return id
}

// uuid returns a random version-4 UUID string.
func (g *Generator) uuid() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], g.rng.Uint64())
	binary.BigEndian.PutUint64(b[8:], g.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
