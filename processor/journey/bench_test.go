package journey

import "testing"

// The journey-level operations run once per save or journey load, not per
// statement; these benchmarks keep them in view.

func BenchmarkDecodeJSON(b *testing.B) {
	body := readTestdata(b, "seed_example_fixed.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVersion(b *testing.B) {
	j, err := DecodeJSON(readTestdata(b, "seed_example_fixed.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		j.Version()
	}
}

func BenchmarkCompile(b *testing.B) {
	j, err := DecodeJSON(readTestdata(b, "seed_example_fixed.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(j); err != nil {
			b.Fatal(err)
		}
	}
}
