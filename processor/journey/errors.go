package journey

import (
	"bytes"
	"fmt"
	"strings"
)

// FieldError is one invalid field of a journey.
type FieldError struct {
	// Field is the path of the field, e.g. "waypoints[1].conditions".
	Field string `json:"field"`
	// Message says what is wrong with it.
	Message string `json:"message"`
}

// ValidationError lists every invalid field of a journey, sorted by path.
type ValidationError struct {
	Errors []FieldError `json:"errors"`
}

// Error implements error; it summarises the invalid fields on one line.
func (e *ValidationError) Error() string {
	var b strings.Builder
	if len(e.Errors) == 1 {
		b.WriteString("invalid journey: ")
	} else {
		fmt.Fprintf(&b, "invalid journey (%d fields): ", len(e.Errors))
	}
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Field)
		b.WriteString(": ")
		b.WriteString(fe.Message)
	}
	return b.String()
}

// SyntaxError reports a request body that is not valid JSON.
type SyntaxError struct {
	// Offset is the byte offset of the input at which the error was
	// detected (the count of bytes read, as in encoding/json).
	Offset int64
	// Line and Column (1-based, in bytes) locate Offset for humans.
	Line, Column int
	// Msg is the parser's description of the problem.
	Msg string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at line %d, column %d (offset %d): %s", e.Line, e.Column, e.Offset, e.Msg)
}

// newSyntaxError locates offset within data.
func newSyntaxError(data []byte, offset int64, msg string) *SyntaxError {
	offset = max(0, min(offset, int64(len(data))))
	// encoding/json's offset counts the offending byte, so the error sits at
	// offset-1; lines and columns point at that byte.
	at := max(0, offset-1)
	prefix := data[:at]
	line := bytes.Count(prefix, []byte{'\n'}) + 1
	col := len(prefix) - bytes.LastIndexByte(prefix, '\n')
	return &SyntaxError{Offset: offset, Line: line, Column: col, Msg: msg}
}
