package state

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// benchOwners returns n distinct owner keys shaped like actor IFIs.
func benchOwners(n int) [][]byte {
	owners := make([][]byte, n)
	for i := range owners {
		owners[i] = fmt.Appendf(nil, "mbox\x00mailto:learner%06d@example.com", i)
	}
	return owners
}

// BenchmarkCommit measures a group commit of keys progress writes plus the
// checkpoint, fsynced to a real directory unless sync=false. ns/key is the
// cost per statement effect that group commit amortises the fsync over.
func BenchmarkCommit(b *testing.B) {
	for _, sync := range []bool{true, false} {
		for _, keys := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("sync=%v/keys=%d", sync, keys), func(b *testing.B) {
				s, err := Open(b.TempDir(), Options{NoSync: !sync})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				j := journey(1, 2)
				owners := benchOwners(keys)
				value := make([]byte, 128)
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					batch := s.NewBatch()
					for _, o := range owners {
						binary.BigEndian.PutUint64(value, uint64(i))
						batch.PutProgress(j, o, value)
					}
					batch.SetCheckpoint(binary.BigEndian.AppendUint64(nil, uint64(i)))
					if err := batch.Commit(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*keys), "ns/key")
			})
		}
	}
}

// BenchmarkCommitParallel commits one-key synced batches from many
// goroutines: Pebble's commit pipeline shares each WAL fsync among the
// commits waiting for it, so this beats sequential sync=true/keys=1.
func BenchmarkCommitParallel(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	j := journey(1, 2)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		value := make([]byte, 128)
		owner := fmt.Appendf(nil, "mbox\x00mailto:%p@example.com", value)
		for pb.Next() {
			batch := s.NewBatch()
			batch.PutProgress(j, owner, value)
			if err := batch.Commit(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkProgress measures the engine's per-statement point read, for an
// owner with progress (hit) and one without (miss), with the data flushed
// to an sstable so that misses exercise the bloom filter.
func BenchmarkProgress(b *testing.B) {
	s, err := Open(b.TempDir(), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	j := journey(1, 2)
	owners := benchOwners(10000)
	batch := s.NewBatch()
	for _, o := range owners {
		batch.PutProgress(j, o, make([]byte, 128))
	}
	if err := batch.Commit(); err != nil {
		b.Fatal(err)
	}
	if err := s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	for _, hit := range []bool{true, false} {
		b.Run(fmt.Sprintf("hit=%v", hit), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				owner := owners[i%len(owners)]
				if !hit {
					owner = owners[i%len(owners)][1:]
				}
				if _, ok, err := s.Progress(j, owner); err != nil || ok != hit {
					b.Fatalf("Progress = %v, %v; want %v", ok, err, hit)
				}
			}
		})
	}
}
