package lrs

import (
	"encoding/json"
	"errors"
)

// lexer reads the tokens of a JSON text that json.Valid accepted, with the
// results of encoding/json's Decoder.Token and More (UseNumber set) at a
// fraction of their cost: the Decoder runs its full state machine and a
// Decode per value, which dominated the cost of ingesting a statement.
// Commas and colons are skipped, as the Decoder does.
type lexer struct {
	data []byte
	pos  int
}

// errEnd is returned when the text ends where a token was expected (only
// for a text that was not validated).
var errEnd = errors.New("unexpected end of JSON input")

// skip moves past whitespace, commas and colons.
func (l *lexer) skip() {
	for l.pos < len(l.data) {
		switch l.data[l.pos] {
		case ' ', '\t', '\n', '\r', ',', ':':
			l.pos++
		default:
			return
		}
	}
}

// More reports whether the current array or object has another element.
func (l *lexer) More() bool {
	l.skip()
	return l.pos < len(l.data) && l.data[l.pos] != ']' && l.data[l.pos] != '}'
}

// Token returns the next token: json.Delim, string, json.Number, bool or
// nil for null.
func (l *lexer) Token() (json.Token, error) {
	l.skip()
	if l.pos >= len(l.data) {
		return nil, errEnd
	}
	switch c := l.data[l.pos]; c {
	case '{', '}', '[', ']':
		l.pos++
		return json.Delim(c), nil
	case '"':
		return l.str()
	case 't':
		l.pos += len("true")
		return true, nil
	case 'f':
		l.pos += len("false")
		return false, nil
	case 'n':
		l.pos += len("null")
		return nil, nil
	}
	start := l.pos
	for l.pos < len(l.data) {
		switch l.data[l.pos] {
		case '-', '+', '.', 'e', 'E', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			l.pos++
			continue
		}
		break
	}
	return json.Number(l.data[start:l.pos]), nil
}

// str reads a string token. A string of printable ASCII without escapes
// (nearly all of them) is taken as is; others are decoded by encoding/json,
// so escapes and invalid UTF-8 are handled exactly as it does.
func (l *lexer) str() (json.Token, error) {
	start := l.pos
	l.pos++
	simple := true
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		switch {
		case c == '"':
			l.pos++
			if simple {
				return string(l.data[start+1 : l.pos-1]), nil
			}
			var s string
			if err := json.Unmarshal(l.data[start:l.pos], &s); err != nil {
				return nil, err
			}
			return s, nil
		case c == '\\':
			simple = false
			l.pos += 2
			continue
		case c < 0x20 || c >= 0x80:
			simple = false
		}
		l.pos++
	}
	return nil, errEnd
}
