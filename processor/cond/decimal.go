package cond

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
)

// decForm distinguishes finite decimals from infinities and NaN.
type decForm uint8

const (
	decFinite decForm = iota
	decInf
	decNaN
)

// dec is an IEEE 754-2008 decimal128 value unpacked for comparison: the
// value is (-1)^neg × coef × 10^exp. coef has at most 34 digits, so every
// alignment needed to compare two values fits in 128 bits. Working on this
// form instead of math/big keeps numeric comparisons allocation-free.
type dec struct {
	neg    bool
	form   decForm
	hi, lo uint64 // coefficient
	exp    int
}

// maxCoefHi and maxCoefLo are 10^34-1, the largest canonical coefficient.
const (
	maxCoefHi = 0x0001ed09bead87c0
	maxCoefLo = 0x378d8e63ffffffff
)

// decodeDec unpacks the 16 little-endian bytes of a BSON decimal128 (BID
// encoding). Non-canonical coefficients read as zero, as the standard says.
func decodeDec(b []byte) dec {
	lo := binary.LittleEndian.Uint64(b)
	hi := binary.LittleEndian.Uint64(b[8:])
	d := dec{neg: hi>>63 == 1}
	switch {
	case (hi>>58)&0x1f == 0x1f:
		d.form = decNaN
		return d
	case (hi>>58)&0x1f == 0x1e:
		d.form = decInf
		return d
	case (hi>>61)&3 == 3:
		// The implied coefficient prefix 100 makes it exceed 10^34-1: zero.
		d.exp = int((hi>>47)&0x3fff) - 6176
		return d
	}
	d.exp = int((hi>>49)&0x3fff) - 6176
	d.hi, d.lo = hi&(1<<49-1), lo
	if d.hi > maxCoefHi || (d.hi == maxCoefHi && d.lo > maxCoefLo) {
		d.hi, d.lo = 0, 0
	}
	return d
}

// decFromInt converts an integer exactly.
func decFromInt(i int64) dec {
	if i < 0 {
		return dec{neg: true, lo: uint64(-(i + 1)) + 1}
	}
	return dec{lo: uint64(i)}
}

// decFromFloat converts a double the way MongoDB compares doubles with
// decimals: rounded to 34 significant digits (Decimal128 kRoundTo34Digits),
// which is why the double 9.99 differs from NumberDecimal("9.99").
func decFromFloat(f float64) dec {
	switch {
	case math.IsNaN(f):
		return dec{form: decNaN}
	case math.IsInf(f, 0):
		return dec{form: decInf, neg: f < 0}
	}
	var buf [48]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', 33, 64) // [-]d.<33 digits>e±dd
	d := dec{}
	if s[0] == '-' {
		d.neg, s = true, s[1:]
	}
	i := 0
	for ; s[i] != 'e'; i++ {
		if c := s[i]; c != '.' {
			d.hi, d.lo = mul10(d.hi, d.lo)
			d.lo, d.hi = addCarry(d.lo, d.hi, uint64(c-'0'))
		}
	}
	e := 0
	for _, c := range s[i+2:] { // skip 'e' and the exponent's sign
		e = e*10 + int(c-'0')
	}
	if s[i+1] == '-' {
		e = -e
	}
	d.exp = e - 33
	return d
}

// approx returns d as a double within a few ulps, and false when d is not
// finite or its exponent is outside the range where the double product
// below stays normal and that accurate.
func (d dec) approx() (float64, bool) {
	if d.form != decFinite || d.exp < -290 || d.exp > 270 {
		return 0, false
	}
	f := (float64(d.hi)*(1<<64) + float64(d.lo)) * math.Pow10(d.exp)
	if d.neg {
		f = -f
	}
	return f, true
}

// zero reports whether d is a finite zero (of either sign).
func (d dec) zero() bool { return d.form == decFinite && d.hi == 0 && d.lo == 0 }

// sign returns -1, 0 or 1; zeros of either sign are 0.
func (d dec) sign() int {
	switch {
	case d.zero():
		return 0
	case d.neg:
		return -1
	}
	return 1
}

// compareDec orders two decimals: NaN sorts below every number and equals
// NaN (MongoDB's compareDecimals), -0 equals 0.
func compareDec(a, b dec) int {
	if aNaN, bNaN := a.form == decNaN, b.form == decNaN; aNaN || bNaN {
		return boolCmp(bNaN && !aNaN, aNaN && !bNaN)
	}
	sa, sb := a.sign(), b.sign()
	if sa != sb {
		return cmpInt(sa, sb)
	}
	if sa == 0 {
		return 0
	}
	c := compareMagnitude(a, b)
	if sa < 0 {
		return -c
	}
	return c
}

// compareMagnitude orders |a| and |b| for nonzero, non-NaN a and b.
func compareMagnitude(a, b dec) int {
	if aInf, bInf := a.form == decInf, b.form == decInf; aInf || bInf {
		return boolCmp(aInf && !bInf, bInf && !aInf)
	}
	da, db := digits(a.hi, a.lo), digits(b.hi, b.lo)
	// The adjusted exponent (position of the leading digit) decides first.
	if ea, eb := da+a.exp, db+b.exp; ea != eb {
		return cmpInt(ea, eb)
	}
	// Same leading position: align the shorter coefficient; both then have
	// max(da, db) ≤ 34 digits and fit in 128 bits.
	ah, al, bh, bl := a.hi, a.lo, b.hi, b.lo
	for ; da < db; da++ {
		ah, al = mul10(ah, al)
	}
	for ; db < da; db++ {
		bh, bl = mul10(bh, bl)
	}
	if ah != bh {
		return boolCmp(ah > bh, ah < bh)
	}
	return boolCmp(al > bl, al < bl)
}

// truncInt returns d rounded toward zero as an int64, and false for NaN,
// infinities and values out of int64 range ($mod's rule for decimals).
func (d dec) truncInt() (int64, bool) {
	if d.form != decFinite {
		return 0, false
	}
	hi, lo := d.hi, d.lo
	for e := d.exp; e < 0 && (hi != 0 || lo != 0); e++ {
		hi, lo = div10(hi, lo)
	}
	for e := d.exp; e > 0 && (hi != 0 || lo != 0); e-- {
		if hi > math.MaxUint64/10 {
			return 0, false
		}
		hi, lo = mul10(hi, lo)
	}
	switch {
	case hi != 0 || lo > 1<<63 || (lo == 1<<63 && !d.neg):
		return 0, false
	case lo == 1<<63:
		return math.MinInt64, true
	case d.neg:
		return -int64(lo), true
	}
	return int64(lo), true
}

// digits returns the number of decimal digits of the 128-bit integer hi:lo
// (1 for zero).
func digits(hi, lo uint64) int {
	n := 1
	for ph, pl := uint64(0), uint64(10); hi > ph || (hi == ph && lo >= pl); n++ {
		if ph > math.MaxUint64/10 {
			return n + 1
		}
		ph, pl = mul10(ph, pl)
	}
	return n
}

// mul10 multiplies the 128-bit integer hi:lo by ten, discarding overflow.
func mul10(hi, lo uint64) (uint64, uint64) {
	carry, lo := bits.Mul64(lo, 10)
	return hi*10 + carry, lo
}

// div10 divides the 128-bit integer hi:lo by ten, truncating.
func div10(hi, lo uint64) (uint64, uint64) {
	qh, r := hi/10, hi%10
	ql, _ := bits.Div64(r, lo, 10)
	return qh, ql
}

// addCarry adds x to lo, carrying into hi.
func addCarry(lo, hi, x uint64) (uint64, uint64) {
	lo, c := bits.Add64(lo, x, 0)
	return lo, hi + c
}

// cmpInt returns the sign of a-b.
func cmpInt(a, b int) int {
	return boolCmp(a > b, a < b)
}

// boolCmp turns "greater" and "less" flags into 1, -1 or 0.
func boolCmp(greater, less bool) int {
	switch {
	case greater:
		return 1
	case less:
		return -1
	}
	return 0
}
