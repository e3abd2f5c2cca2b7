package cond

import (
	"math"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// isNumber reports whether t is one of the four numeric BSON types, which
// MongoDB compares with each other by value.
func isNumber(t bsontype.Type) bool {
	switch t {
	case bsontype.Int32, bsontype.Int64, bsontype.Double, bsontype.Decimal128:
		return true
	}
	return false
}

// isNaN reports whether v is a double or decimal NaN.
func isNaN(v value) bool {
	switch v.Type {
	case bsontype.Double:
		return math.IsNaN(v.Double())
	case bsontype.Decimal128:
		return decodeDec(v.Data).form == decNaN
	}
	return false
}

// intOf returns the value of an int32 or int64.
func intOf(v value) int64 {
	if v.Type == bsontype.Int32 {
		return int64(v.Int32())
	}
	return v.Int64()
}

// decOf converts any numeric value to a decimal for comparison with a
// decimal: integers exactly, doubles rounded to 34 digits as MongoDB does.
func decOf(v value) dec {
	switch v.Type {
	case bsontype.Decimal128:
		return decodeDec(v.Data)
	case bsontype.Double:
		return decFromFloat(v.Double())
	}
	return decFromInt(intOf(v))
}

// compareNumbers orders two numeric values by value as MongoDB's
// compareElementValues does: across types, exactly for int64 against double
// (no rounding of large integers), NaN below every number and equal to NaN.
func compareNumbers(a, b value) int {
	switch {
	case a.Type == bsontype.Double && b.Type == bsontype.Decimal128:
		return compareFloatDec(a.Double(), decodeDec(b.Data))
	case a.Type == bsontype.Decimal128 && b.Type == bsontype.Double:
		return -compareFloatDec(b.Double(), decodeDec(a.Data))
	case a.Type == bsontype.Decimal128 || b.Type == bsontype.Decimal128:
		return compareDec(decOf(a), decOf(b))
	}
	switch {
	case a.Type == bsontype.Double && b.Type == bsontype.Double:
		return compareDoubles(a.Double(), b.Double())
	case a.Type == bsontype.Double:
		return -compareIntDouble(intOf(b), a.Double())
	case b.Type == bsontype.Double:
		return compareIntDouble(intOf(a), b.Double())
	}
	x, y := intOf(a), intOf(b)
	return boolCmp(x > y, x < y)
}

// compareFloatDec orders a double against a decimal. The exact rule
// converts the double to 34 digits, which costs about a microsecond; most
// pairs differ by far more than the few ulps an approximate conversion of
// the decimal can be off by, so approximations decide them first.
func compareFloatDec(f float64, d dec) int {
	if approx, ok := d.approx(); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
		// The approximation is within ~1e-15 relative; 1e-12 leaves margin.
		if diff := f - approx; math.Abs(diff) > 1e-12*math.Max(math.Abs(f), math.Abs(approx)) {
			return boolCmp(diff > 0, diff < 0)
		}
	}
	return compareDec(decFromFloat(f), d)
}

// compareDoubles orders doubles with NaN below everything and equal to NaN.
func compareDoubles(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	case x == y:
		return 0
	}
	return boolCmp(!math.IsNaN(x), !math.IsNaN(y))
}

// compareIntDouble orders an int64 against a double without the precision
// loss of converting the integer (MongoDB's compareLongToDouble).
func compareIntDouble(i int64, f float64) int {
	if math.IsNaN(f) {
		return 1
	}
	// Integers up to 2^53 in magnitude are exact as doubles.
	const exact = 1 << 53
	if i <= exact && i >= -exact {
		return compareDoubles(float64(i), f)
	}
	// 2^63 is exactly representable; doubles at or beyond it (and
	// infinities) lie outside the int64 range.
	const bound = float64(1 << 63)
	if f >= bound {
		return -1
	}
	if f < -bound {
		return 1
	}
	// |f| > 2^53 here or the comparison is decided by the integer part:
	// truncation keeps the order because |i| > 2^53 has no fraction.
	t := int64(f)
	return boolCmp(i > t, i < t)
}

// truncToInt returns a numeric value truncated toward zero as an int64, and
// false when it is NaN, infinite or out of int64 range. It is $mod's
// conversion of the dividend and of its own arguments.
func truncToInt(v value) (int64, bool) {
	switch v.Type {
	case bsontype.Int32, bsontype.Int64:
		return intOf(v), true
	case bsontype.Double:
		f := math.Trunc(v.Double())
		if math.IsNaN(f) || f < -(1<<63) || f >= 1<<63 {
			return 0, false
		}
		return int64(f), true
	case bsontype.Decimal128:
		return decodeDec(v.Data).truncInt()
	}
	return 0, false
}

// exactInt returns a numeric value as an int64 when it is a whole number in
// range, for arguments such as $size and $type codes.
func exactInt(v value) (int64, bool) {
	switch v.Type {
	case bsontype.Double:
		if f := v.Double(); f != math.Trunc(f) {
			return 0, false
		}
	case bsontype.Decimal128:
		i, ok := truncToInt(v)
		return i, ok && compareDec(decodeDec(v.Data), decFromInt(i)) == 0
	}
	return truncToInt(v)
}

// truthy is MongoDB's BSONElement::trueValue, used for $exists: false,
// null, undefined and numeric zeros are false, everything else is true.
func truthy(v value) bool {
	switch v.Type {
	case bsontype.Boolean:
		return v.Data[0] != 0
	case bsontype.Null, bsontype.Undefined:
		return false
	case bsontype.Int32, bsontype.Int64:
		return intOf(v) != 0
	case bsontype.Double:
		return v.Double() != 0
	case bsontype.Decimal128:
		return !decodeDec(v.Data).zero()
	}
	return true
}
