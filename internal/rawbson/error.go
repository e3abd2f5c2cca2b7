package rawbson

import "errors"

// ErrMalformed is matched (errors.Is) by every error this package reports
// about the bytes it reads.
var ErrMalformed = errors.New("malformed BSON")

// Error describes why a document is malformed.
type Error struct {
	// Path is the dotted path of the element at fault, "" for the
	// document's own framing.
	Path string
	// Reason says what is wrong.
	Reason string
}

// Error returns "malformed BSON: <path>: <reason>".
func (e *Error) Error() string {
	if e.Path == "" {
		return "malformed BSON: " + e.Reason
	}
	return "malformed BSON: field " + e.Path + ": " + e.Reason
}

// Is reports whether target is ErrMalformed.
func (e *Error) Is(target error) bool { return target == ErrMalformed }
