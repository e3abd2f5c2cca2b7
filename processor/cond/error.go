package cond

import "strings"

// Error is a compile error. It names the operator (if any), the path (if
// any) and the reason; its message joins the non-empty parts, as in
// `statement.verb.id: $regex: invalid pattern "(?<=a)b": …` or
// `$where: unsupported operator (JavaScript is not evaluated)`.
type Error struct {
	// Operator is the offending operator as written, e.g. "$where" or
	// "$in"; empty when the error is not about one operator.
	Operator string
	// Path is the dotted field path the operator applies to, as written in
	// its (sub-)query; empty at the top level.
	Path string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	for _, s := range [...]string{e.Path, e.Operator} {
		if s != "" {
			b.WriteString(s)
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Reason)
	return b.String()
}

// rejectOperator returns the error for an operator this package does not
// evaluate: a known MongoDB operator that cannot run in process, or an
// unknown one.
func rejectOperator(op, path string) *Error {
	reason := "unknown operator"
	switch op {
	case "$where", "$function", "$accumulator":
		reason = "unsupported operator (JavaScript is not evaluated)"
	case "$expr":
		reason = "unsupported operator (aggregation expressions are not evaluated)"
	case "$text", "$search":
		reason = "unsupported operator (text search needs a text index)"
	case "$jsonSchema":
		reason = "unsupported operator (schema validation is not evaluated)"
	case "$geoWithin", "$geoIntersects", "$near", "$nearSphere", "$within",
		"$box", "$center", "$centerSphere", "$polygon", "$geometry",
		"$maxDistance", "$minDistance", "$uniqueDocs":
		reason = "unsupported operator (geospatial queries are not evaluated)"
	case "$bitsAllSet", "$bitsAllClear", "$bitsAnySet", "$bitsAnyClear":
		reason = "unsupported operator (bitwise queries are not evaluated)"
	case "$sampleRate", "$alwaysTrue", "$alwaysFalse", "$isolated", "$atomic", "$comment":
		reason = "unsupported operator here"
	}
	return &Error{Operator: op, Path: path, Reason: reason}
}
