package state

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestAppendPrefixEnd(t *testing.T) {
	tests := []struct {
		prefix, want []byte
	}{
		{[]byte{kindProgress, 1, 2}, []byte{kindProgress, 1, 3}},
		{[]byte{kindProgress, 1, 0xFF}, []byte{kindProgress, 2}},
		{[]byte{kindProgress, 0xFF, 0xFF}, []byte{kindProgress + 1}},
		{[]byte{kindOutbox}, []byte{kindOutbox + 1}},
	}
	for _, tt := range tests {
		got := appendPrefixEnd([]byte("keep"), tt.prefix)
		if want := append([]byte("keep"), tt.want...); !bytes.Equal(got, want) {
			t.Errorf("appendPrefixEnd(%x) = %x, want %x", tt.prefix, got, want)
		}
	}
}

// TestJourneyRangeBoundsAreTight checks, for ids whose neighbours differ in
// the last byte or carry over 0xFF, that every key of journey j's range
// sorts inside [prefix, prefixEnd) and every key of its neighbours outside.
func TestJourneyRangeBoundsAreTight(t *testing.T) {
	ids := []JourneyID{
		journey(0, 0), journey(0, 1), journey(0, 0xFF), journey(1, 0),
		journey(0xFF, 0xFE), journey(0xFF, 0xFF),
	}
	owners := [][]byte{nil, {0}, {0xFF}, bytes.Repeat([]byte{0xFF}, MaxOwnerLen)}
	for _, j := range ids {
		lower := appendJourneyPrefix(nil, kindAttempt, j)
		upper := appendPrefixEnd(nil, lower)
		for _, other := range ids {
			for _, owner := range owners {
				for _, n := range []uint32{0, 0xFFFFFFFF} {
					key := appendAttemptKey(nil, kindAttempt, other, owner, n)
					inside := bytes.Compare(key, lower) >= 0 && bytes.Compare(key, upper) < 0
					if inside != (other == j) {
						t.Errorf("key %x of journey %x: inside range of %x = %v", key[:journeyPrefixLen], other, j, inside)
					}
				}
			}
		}
	}
}

// TestOwnerKeysSortShortlex checks the documented owner order: the encoded
// keys of random owners sort like the owners compared by length, then bytes.
func TestOwnerKeysSortShortlex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	owners := make([][]byte, 500)
	for i := range owners {
		owners[i] = make([]byte, rng.IntN(300))
		for k := range owners[i] {
			// A tiny alphabet with both extremes makes ties and shared
			// prefixes common.
			owners[i][k] = []byte{0x00, 0x01, 0xFF}[rng.IntN(3)]
		}
	}
	j := journey(7, 7)
	byKey := slices.Clone(owners)
	slices.SortFunc(byKey, func(a, b []byte) int {
		return bytes.Compare(appendOwnerKey(nil, kindProgress, j, a), appendOwnerKey(nil, kindProgress, j, b))
	})
	shortlex := slices.Clone(owners)
	slices.SortFunc(shortlex, func(a, b []byte) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return bytes.Compare(a, b)
	})
	if !slices.EqualFunc(byKey, shortlex, bytes.Equal) {
		t.Fatal("owner keys do not sort shortlex")
	}
}

func TestDecodeOwner(t *testing.T) {
	owner := []byte("mbox\x00mailto:a@b.c\xFF")
	key := appendAttemptKey(nil, kindAttempt, journey(1, 2), owner, 9)
	got, tail, err := decodeOwner(key[journeyPrefixLen:])
	if err != nil || !bytes.Equal(got, owner) || !bytes.Equal(tail, []byte{0, 0, 0, 9}) {
		t.Fatalf("decodeOwner = %q, %x, %v; want %q, 00000009, nil", got, tail, err, owner)
	}
	for _, rest := range [][]byte{{}, {0}, {0, 3, 'a', 'b'}} {
		if _, _, err := decodeOwner(rest); !errors.Is(err, errCorruptKey) {
			t.Errorf("decodeOwner(%x) error = %v, want errCorruptKey", rest, err)
		}
	}
}

func TestCheckOwner(t *testing.T) {
	if err := checkOwner(make([]byte, MaxOwnerLen)); err != nil {
		t.Errorf("owner of MaxOwnerLen bytes: %v", err)
	}
	if err := checkOwner(make([]byte, MaxOwnerLen+1)); !errors.Is(err, ErrOwnerTooLong) {
		t.Errorf("owner of MaxOwnerLen+1 bytes: error = %v, want ErrOwnerTooLong", err)
	}
}
