package httpapi

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAll reads bodies whose declared length is right, short, long or
// unknown, through a reader that returns one byte at a time: the bytes read
// are the body's, whatever was declared.
func TestReadAll(t *testing.T) {
	body := strings.Repeat(`{"id":"x"},`, 300)
	for _, tc := range []struct {
		name     string
		declared int64
	}{
		{"exact", int64(len(body))},
		{"declared shorter", 10},
		{"declared longer", int64(len(body)) * 2},
		{"declared zero", 0},
		{"unknown", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(iotest.OneByteReader(strings.NewReader(body)), tc.declared)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != body {
				t.Fatalf("read %d bytes, want the %d of the body", len(got), len(body))
			}
		})
	}
	t.Run("beyond the presized buffer", func(t *testing.T) {
		big := bytes.Repeat([]byte("0123456789"), presizeMax/10*3)
		got, err := readAll(bytes.NewReader(big), int64(len(big)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, big) {
			t.Fatalf("read %d bytes, want the %d of the body", len(got), len(big))
		}
	})
	t.Run("declared huge, nothing sent", func(t *testing.T) {
		got, err := readAll(strings.NewReader(""), 1<<40)
		if err != nil || len(got) != 0 || cap(got) > presizeMax+1 {
			t.Fatalf("got %d bytes (cap %d), %v; want none, cap at most %d", len(got), cap(got), err, presizeMax+1)
		}
	})
	t.Run("error", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := readAll(io.MultiReader(strings.NewReader(body), iotest.ErrReader(boom)), int64(len(body)))
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
	})
}

// TestReadAllOneAllocation shows a body of declared length is read into a
// single buffer.
func TestReadAllOneAllocation(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 64<<10)
	r := bytes.NewReader(body)
	allocs := testing.AllocsPerRun(20, func() {
		r.Reset(body)
		if _, err := readAll(r, int64(len(body))); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Fatalf("%v allocations, want 1", allocs)
	}
}
