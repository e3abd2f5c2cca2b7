package lrs

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError is one invalid field of one statement of an Ingest body.
type FieldError struct {
	// Index is the statement's position in the body (0 for a body that is
	// a single statement), or -1 when the body as a whole is wrong.
	Index int
	// Field is the path inside the statement, e.g. "verb.id" or
	// "actor.member[1].mbox"; empty for the statement itself.
	Field string
	// Message says what is wrong.
	Message string
}

// Path returns the field's path in the request, e.g.
// "statements[2].verb.id", as the HTTP API reports it.
func (e FieldError) Path() string {
	if e.Index < 0 {
		return "statements"
	}
	p := "statements[" + strconv.Itoa(e.Index) + "]"
	if e.Field != "" {
		p += "." + e.Field
	}
	return p
}

// IngestError lists every invalid field of the statements of one Ingest
// call, in body order. Nothing was stored.
type IngestError struct {
	Errors []FieldError
}

// Error implements error; it lists the fields on one line.
func (e *IngestError) Error() string {
	var b strings.Builder
	b.WriteString("invalid statements: ")
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Path())
		b.WriteString(": ")
		b.WriteString(fe.Message)
	}
	return b.String()
}

// ConflictError reports statement ids that the store already holds (an LRS
// answers 409 Conflict). Nothing was stored.
type ConflictError struct {
	// IDs are the conflicting statement ids, in body order.
	IDs []string
}

// Error implements error.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("statement id already stored: %s", strings.Join(e.IDs, ", "))
}
