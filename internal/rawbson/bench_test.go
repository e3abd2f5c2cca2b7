package rawbson_test

// Reproduce:
//
//	go test -run='^$' -bench=. -benchmem ./internal/rawbson/
//
// One op reads one generated Learning Locker statement (~2 KB of BSON).

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"

	"github.com/journeys/journeys/internal/rawbson"
	"github.com/journeys/journeys/internal/xapitest"
)

func benchPool() []bson.Raw {
	g := xapitest.New(1, xapitest.Options{Actors: 200})
	pool := make([]bson.Raw, 256)
	for i := range pool {
		pool[i] = g.Next()
	}
	return pool
}

// BenchmarkValidate is the whole-document check the engine runs once per
// statement, against the driver's.
func BenchmarkValidate(b *testing.B) {
	pool := benchPool()
	b.Run("rawbson", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := rawbson.Validate(pool[i%len(pool)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bsoncore", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := bsoncore.Document(pool[i%len(pool)]).Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLookup reads statement.verb.id, against the driver's.
func BenchmarkLookup(b *testing.B) {
	pool := benchPool()
	p := rawbson.ParsePath("statement.verb.id")
	b.Run("rawbson", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for i := 0; i < b.N; i++ {
			rawbson.Walk(pool[i%len(pool)], p, rawbson.LeafTraverse, func(v rawbson.Value) bool {
				n += len(v.Data)
				return true
			})
		}
	})
	b.Run("bsoncore", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for i := 0; i < b.N; i++ {
			n += len(bsoncore.Document(pool[i%len(pool)]).Lookup("statement", "verb", "id").Data)
		}
	})
}
