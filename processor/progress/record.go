package progress

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Record is one owner's progress through one journey: the latest attempt
// (complete or not) and bookkeeping. Completed attempts are also archived
// separately by the engine, so a Record stays bounded in size however often
// a repeatable journey is completed.
type Record struct {
	// CreatedAt and UpdatedAt are the stored times (Unix ms) of the first
	// and the latest statement that counted.
	CreatedAt int64
	UpdatedAt int64
	// Display is the owner's display name where the tracking kind has one
	// (persona), captured from the first statement that counted.
	Display string
	// Attempt is the latest attempt; Number is 0 before anything counted.
	Attempt Attempt
}

// Attempt is one pass through a journey.
type Attempt struct {
	// Number counts attempts from 1.
	Number uint32
	// Waypoints holds per active waypoint (in evaluation order) its count,
	// the statements that counted and its completion time.
	Waypoints []Waypoint
	// CompletedAt is the stored time (Unix ms) of the statement that
	// completed the attempt, or 0.
	CompletedAt int64
}

// Waypoint is the progress of one waypoint in one attempt.
type Waypoint struct {
	// Count is how many statements counted; it stops at the required count.
	Count uint32
	// Refs are the statements that counted, at most the required count.
	Refs []Ref
	// CompletedAt is the stored time (Unix ms) of the statement that
	// completed the waypoint, or 0.
	CompletedAt int64
}

// Ref references a statement that counted toward a waypoint.
type Ref struct {
	Statement [12]byte
	// Timestamp is the statement's timestamp (Unix ms).
	Timestamp int64
}

// Done reports whether the attempt in r is complete.
func (r *Record) Done() bool { return r.Attempt.Number > 0 && r.Attempt.CompletedAt != 0 }

func (r *Record) startAttempt(n uint32, waypoints int) {
	// Always fresh slices: Apply may restore the previous attempt, which
	// must not share backing arrays with the new one.
	r.Attempt = Attempt{Number: n, Waypoints: make([]Waypoint, waypoints)}
}

func (a *Attempt) reshape(n int) {
	w := make([]Waypoint, n)
	copy(w, a.Waypoints)
	a.Waypoints = w
}

func (a *Attempt) count(i, required int, s Stmt) {
	w := &a.Waypoints[i]
	w.Count++
	if len(w.Refs) < required {
		w.Refs = append(w.Refs, Ref{Statement: s.ID, Timestamp: s.refTime()})
	}
	if int(w.Count) >= required {
		w.CompletedAt = s.Stored
	}
}

// refTime is the time kept with a statement reference: the statement's
// timestamp, or its stored time when the document has no timestamp.
func (s Stmt) refTime() int64 {
	if s.Timestamp != 0 {
		return s.Timestamp
	}
	return s.Stored
}

// encodingVersion prefixes every encoded record so the format can evolve.
const encodingVersion = 1

// AppendBinary appends the binary encoding of r to dst.
//
// Layout (all integers varint/uvarint): version byte, createdAt, updatedAt,
// display (length-prefixed), attempt: number, completedAt, waypoint count,
// then per waypoint: count, completedAt, ref count, refs (12-byte id,
// timestamp).
func (r *Record) AppendBinary(dst []byte) []byte {
	dst = append(dst, encodingVersion)
	dst = binary.AppendVarint(dst, r.CreatedAt)
	dst = binary.AppendVarint(dst, r.UpdatedAt)
	dst = binary.AppendUvarint(dst, uint64(len(r.Display)))
	dst = append(dst, r.Display...)
	return r.Attempt.AppendBinary(dst)
}

// AppendBinary appends the binary encoding of a (without version byte).
func (a *Attempt) AppendBinary(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(a.Number))
	dst = binary.AppendVarint(dst, a.CompletedAt)
	dst = binary.AppendUvarint(dst, uint64(len(a.Waypoints)))
	for i := range a.Waypoints {
		w := &a.Waypoints[i]
		dst = binary.AppendUvarint(dst, uint64(w.Count))
		dst = binary.AppendVarint(dst, w.CompletedAt)
		dst = binary.AppendUvarint(dst, uint64(len(w.Refs)))
		for _, ref := range w.Refs {
			dst = append(dst, ref.Statement[:]...)
			dst = binary.AppendVarint(dst, ref.Timestamp)
		}
	}
	return dst
}

// ErrCorrupt is returned (wrapped) when a record cannot be decoded.
var ErrCorrupt = errors.New("progress: corrupt record")

// Decode decodes a record produced by AppendBinary into r, reusing r's
// slices where it can.
func (r *Record) Decode(b []byte) error {
	d := decoder{b: b}
	if v := d.byte(); v != encodingVersion {
		return fmt.Errorf("%w: unknown encoding version %d", ErrCorrupt, v)
	}
	r.CreatedAt = d.varint()
	r.UpdatedAt = d.varint()
	r.Display = string(d.bytes(d.uvarint()))
	r.Attempt.decode(&d)
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	return nil
}

// DecodeAttempt decodes an attempt produced by Attempt.AppendBinary.
func DecodeAttempt(b []byte) (Attempt, error) {
	var a Attempt
	d := decoder{b: b}
	a.decode(&d)
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	return a, d.err
}

func (a *Attempt) decode(d *decoder) {
	a.Number = uint32(d.uvarint())
	a.CompletedAt = d.varint()
	n := d.uvarint()
	if n > uint64(len(d.b)) { // every waypoint takes at least one byte
		d.fail("waypoint count")
		return
	}
	if cap(a.Waypoints) >= int(n) {
		a.Waypoints = a.Waypoints[:n]
	} else {
		a.Waypoints = make([]Waypoint, n)
	}
	for i := range a.Waypoints {
		w := &a.Waypoints[i]
		w.Count = uint32(d.uvarint())
		w.CompletedAt = d.varint()
		nr := d.uvarint()
		if nr > uint64(len(d.b))/13 {
			d.fail("ref count")
			return
		}
		w.Refs = w.Refs[:0]
		for j := uint64(0); j < nr; j++ {
			var ref Ref
			copy(ref.Statement[:], d.bytes(12))
			ref.Timestamp = d.varint()
			w.Refs = append(w.Refs, ref)
		}
	}
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail("length")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if n > uint64(len(d.b)) {
		d.fail("length")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}
