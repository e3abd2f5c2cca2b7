package cond

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// decOfString parses a decimal literal through the driver into our form.
func decOfString(t *testing.T, s string) dec {
	t.Helper()
	d, err := primitive.ParseDecimal128(s)
	if err != nil {
		t.Fatalf("ParseDecimal128(%q): %v", s, err)
	}
	hi, lo := d.GetBytes()
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i], b[8+i] = byte(lo>>(8*i)), byte(hi>>(8*i))
	}
	return decodeDec(b[:])
}

// Decimal ordering, per IEEE 754-2008 totalOrder on values (cohorts equal)
// with MongoDB's NaN rule.
func TestCompareDec(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1", "1.000", 0},
		{"1E+2", "100", 0},
		{"0", "-0", 0},
		{"0E+10", "0E-10", 0},
		{"1", "2", -1},
		{"-1", "-2", 1},
		{"-1", "1", -1},
		{"0.1", "0.09", 1},
		{"9999999999999999999999999999999999", "1E+34", -1},
		{"9999999999999999999999999999999999E-33", "10", -1},
		{"1234567890123456789012345678901234", "1234567890123456789012345678901235", -1},
		{"1E-6176", "0", 1},
		{"9.999999999999999999999999999999999E+6144", "Infinity", -1},
		{"-Infinity", "-9.999999999999999999999999999999999E+6144", -1},
		{"Infinity", "Infinity", 0},
		{"NaN", "-Infinity", -1},
		{"NaN", "NaN", 0},
		{"1", "NaN", 1},
	}
	for _, c := range cases {
		if got := compareDec(decOfString(t, c.a), decOfString(t, c.b)); got != c.want {
			t.Errorf("compareDec(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := compareDec(decOfString(t, c.b), decOfString(t, c.a)); got != -c.want {
			t.Errorf("compareDec(%s, %s) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

// Doubles become decimals rounded to 34 significant digits.
func TestDecFromFloat(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{0.1, "0.1000000000000000055511151231257827"},
		{9.99, "9.990000000000000213162820728030056"},
		{1, "1"},
		{-2.5, "-2.5"},
		{1e300, "1.000000000000000052504760255204420E+300"},
		{5e-324, "4.940656458412465441765687928682214E-324"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, c := range cases {
		if got := compareDec(decFromFloat(c.f), decOfString(t, c.want)); got != 0 {
			t.Errorf("decFromFloat(%v) differs from %s (%d)", c.f, c.want, got)
		}
	}
	if decFromFloat(math.NaN()).form != decNaN {
		t.Error("NaN did not convert to NaN")
	}
}

func TestDecTruncInt(t *testing.T) {
	cases := []struct {
		s    string
		want int64
		ok   bool
	}{
		{"3.7", 3, true},
		{"-3.7", -3, true},
		{"0.0001", 0, true},
		{"12E+3", 12000, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"1E+19", 0, false},
		{"1E+40", 0, false},
		{"1E-6176", 0, true},
		{"Infinity", 0, false},
		{"NaN", 0, false},
	}
	for _, c := range cases {
		got, ok := decOfString(t, c.s).truncInt()
		if got != c.want || ok != c.ok {
			t.Errorf("truncInt(%s) = %d, %v; want %d, %v", c.s, got, ok, c.want, c.ok)
		}
	}
}

// The approximate fast path of compareFloatDec never disagrees with the
// exact 34-digit rule, including for pairs closer than its threshold.
func TestCompareFloatDecAgreesWithExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for i := 0; i < 20000; i++ {
		f := math.Ldexp(r.Float64()+0.5, r.IntN(120)-60)
		if r.IntN(2) == 0 {
			f = -f
		}
		// Decimals near f: its shortest form, 17 and 34 digits, and a
		// random value of similar magnitude.
		lits := []string{
			strconv.FormatFloat(f, 'g', -1, 64),
			strconv.FormatFloat(f, 'e', 16, 64),
			strconv.FormatFloat(f, 'e', 33, 64),
			strconv.FormatFloat(f*(1+(r.Float64()-0.5)*1e-9), 'e', 20, 64),
		}
		for _, s := range lits {
			d := decOfString(t, s)
			want := compareDec(decFromFloat(f), d)
			if got := compareFloatDec(f, d); got != want {
				t.Fatalf("compareFloatDec(%v, %s) = %d, exact rule says %d", f, s, got, want)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
}

func BenchmarkCompareFloatDec(b *testing.B) {
	d := decFromInt(8)
	d.exp, d.lo = -1, 8 // 0.8
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			compareFloatDec(0.85, d)
		}
	})
	b.Run("exact", func(b *testing.B) {
		for b.Loop() {
			compareDec(decFromFloat(0.85), d)
		}
	})
}
