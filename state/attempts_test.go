package state

import (
	"fmt"
	"slices"
	"testing"
)

func TestAttemptsBeforePages(t *testing.T) {
	s := openStore(t, "")
	j := journey(7, 7)
	for _, owner := range trickyOwners {
		commit(t, s, func(b *Batch) {
			for n := uint32(1); n <= 25; n++ {
				b.PutAttempt(j, []byte(owner), n, fmt.Appendf(nil, "%s/%d", owner, n))
			}
			// Neighbours that must not leak into the page.
			b.PutAttempt(journey(7, 8), []byte(owner), 26, []byte("neighbour"))
			if len(owner) < MaxOwnerLen { // an owner extending this one
				b.PutAttempt(j, []byte(owner+"~"), 30, []byte("longer owner"))
			}
		})
	}
	page := func(owner string, before uint32, limit int) []uint32 {
		t.Helper()
		var got []uint32
		err := s.AttemptsBefore(j, []byte(owner), before, limit, func(n uint32, v []byte) error {
			if want := fmt.Sprintf("%s/%d", owner, n); string(v) != want {
				t.Errorf("attempt %d of %q = %q, want %q", n, owner, v, want)
			}
			got = append(got, n)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	seq := func(from, to uint32) []uint32 { // descending from..to
		var out []uint32
		for n := from; n >= to; n-- {
			out = append(out, n)
		}
		return out
	}
	for _, owner := range trickyOwners {
		tests := []struct {
			before uint32
			limit  int
			want   []uint32
		}{
			{0, 10, seq(25, 16)},
			{16, 10, seq(15, 6)},
			{6, 10, seq(5, 1)},
			{1, 10, nil},
			{0, 0, seq(25, 1)},
			{100, 3, seq(25, 23)},
		}
		for _, tt := range tests {
			if got := page(owner, tt.before, tt.limit); !slices.Equal(got, tt.want) {
				t.Errorf("owner %q before %d limit %d: %v, want %v", owner, tt.before, tt.limit, got, tt.want)
			}
		}
	}
}
