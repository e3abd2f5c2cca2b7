package rawbson_test

import (
	"encoding/binary"

	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// everyType returns a document holding a value of every BSON type, nested
// documents and arrays included.
func everyType() []byte {
	inner := bsoncore.NewDocumentBuilder().AppendString("b", "x").AppendInt32("c", 1).Build()
	arr := bsoncore.NewArrayBuilder().AppendInt32(1).AppendDocument(inner).AppendString("s").Build()
	return bsoncore.NewDocumentBuilder().
		AppendDouble("double", 1.5).
		AppendString("string", "héllo").
		AppendDocument("a", inner).
		AppendArray("arr", arr).
		AppendBinary("bin", 0, []byte{1, 2, 3}).
		AppendUndefined("undef").
		AppendObjectID("oid", primitive.ObjectID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}).
		AppendBoolean("bool", true).
		AppendDateTime("date", 1700000000000).
		AppendNull("null").
		AppendRegex("re", "^a.b", "i").
		AppendDBPointer("dbp", "coll", primitive.ObjectID{1}).
		AppendJavaScript("js", "f()").
		AppendSymbol("sym", "s").
		AppendCodeWithScope("cws", "g()", inner).
		AppendInt32("i32", -7).
		AppendTimestamp("ts", 100, 7).
		AppendInt64("i64", 1<<40).
		AppendDecimal128("dec", primitive.NewDecimal128(1, 2)).
		AppendMinKey("min").
		AppendMaxKey("max").
		Build()
}

// malformedCase is one shape of malformed input and what it is.
type malformedCase struct {
	name string
	doc  []byte
}

// malformedCases damages the well-formed document doc (whose first element
// is at byte 4) in each way the policy names.
func malformedCases(doc []byte) []malformedCase {
	clone := func() []byte { return append([]byte(nil), doc...) }
	withLen := func(n int) []byte {
		d := clone()
		binary.LittleEndian.PutUint32(d, uint32(n))
		return d
	}
	unknownType := clone()
	unknownType[4] = 0x42
	badKey := clone()
	badKey[5] = 0xff // the first key's first byte: not UTF-8
	return []malformedCase{
		{"truncated", clone()[:len(doc)/2]},
		{"length larger than the bytes", withLen(len(doc) + 1)},
		{"length smaller than the bytes", withLen(len(doc) - 1)},
		{"negative length", withLen(-1)},
		{"trailing bytes", append(clone(), 0)},
		{"no terminator", append(clone()[:len(doc)-1], 1)},
		{"unknown type", unknownType},
		{"bad UTF-8 in a key", badKey},
	}
}
