package rawbson

import (
	"bytes"
	"encoding/binary"
	"math"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// Value is one BSON value as it lies in a document: its type byte and its
// bytes (for strings, the int32 length, the bytes and the NUL; for
// documents and arrays, the whole embedded document with its length
// prefix). The zero Value, type 0, stands for a missing field, like
// MongoDB's EOO element.
//
// The accessors read values produced by this package's readers, whose
// framing is checked: they do not check it again, and on a Value of another
// type than the one they read they return a meaningless result, never a
// panic for Values from a reader. Values built by hand must respect the
// framing of their type.
type Value struct {
	Type bsontype.Type
	Data []byte
}

// Missing reports whether v stands for an absent field.
func (v Value) Missing() bool { return v.Type == 0 }

// Str returns the contents of a string, symbol or JavaScript value without
// its length prefix and terminating NUL, aliasing v.
func (v Value) Str() []byte {
	if len(v.Data) < 5 {
		return nil
	}
	return v.Data[4 : len(v.Data)-1]
}

// StringOK returns the contents of a string value, and false for any other
// type.
func (v Value) StringOK() ([]byte, bool) {
	if v.Type != bsontype.String {
		return nil, false
	}
	return v.Str(), true
}

// Double returns the value of a double.
func (v Value) Double() float64 { return math.Float64frombits(v.u64()) }

// Int32 returns the value of an int32.
func (v Value) Int32() int32 {
	if len(v.Data) < 4 {
		return 0
	}
	return int32(binary.LittleEndian.Uint32(v.Data))
}

// Int64 returns the value of an int64, or of a date (Unix milliseconds) or
// timestamp read as a signed integer.
func (v Value) Int64() int64 { return int64(v.u64()) }

// Uint64 returns the 8 bytes of a double, int64, date or timestamp as an
// unsigned integer (a timestamp orders this way).
func (v Value) Uint64() uint64 { return v.u64() }

func (v Value) u64() uint64 {
	if len(v.Data) < 8 {
		return 0
	}
	return binary.LittleEndian.Uint64(v.Data)
}

// Boolean reports whether v is the boolean true.
func (v Value) Boolean() bool {
	return v.Type == bsontype.Boolean && len(v.Data) == 1 && v.Data[0] == 1
}

// DateTime returns the Unix milliseconds of a date, and false for any
// other type.
func (v Value) DateTime() (int64, bool) {
	if v.Type != bsontype.DateTime {
		return 0, false
	}
	return v.Int64(), true
}

// ObjectID returns the 12 bytes of an ObjectId, and false for any other
// type.
func (v Value) ObjectID() ([12]byte, bool) {
	if v.Type != bsontype.ObjectID || len(v.Data) != 12 {
		return [12]byte{}, false
	}
	return [12]byte(v.Data), true
}

// Document returns the bytes of an embedded document, and false for any
// other type.
func (v Value) Document() ([]byte, bool) {
	if v.Type != bsontype.EmbeddedDocument {
		return nil, false
	}
	return v.Data, true
}

// Array returns the bytes of an array (a document keyed "0", "1", …), and
// false for any other type.
func (v Value) Array() ([]byte, bool) {
	if v.Type != bsontype.Array {
		return nil, false
	}
	return v.Data, true
}

// Regex splits a regular expression value into its pattern and options.
func (v Value) Regex() (pattern, options []byte) {
	i := bytes.IndexByte(v.Data, 0)
	if i < 0 || len(v.Data) < i+2 {
		return nil, nil
	}
	return v.Data[:i], v.Data[i+1 : len(v.Data)-1]
}

// CodeWithScope splits a code-with-scope value into its code string's
// contents and its scope document.
func (v Value) CodeWithScope() (code, scope []byte) {
	if len(v.Data) < 4 {
		return nil, nil
	}
	n := valueLen(bsontype.String, v.Data[4:])
	if n < 0 {
		return nil, nil
	}
	s := Value{Type: bsontype.String, Data: v.Data[4 : 4+n]}
	return s.Str(), v.Data[4+n:]
}

// Timestamp returns the seconds and increment of a timestamp, and false for
// any other type.
func (v Value) Timestamp() (t, i uint32, ok bool) {
	if v.Type != bsontype.Timestamp || len(v.Data) != 8 {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint32(v.Data[4:]), binary.LittleEndian.Uint32(v.Data), true
}
