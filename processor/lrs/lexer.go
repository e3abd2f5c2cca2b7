package lrs

import (
	"encoding/json"
	"errors"
)

// lexer reads the tokens of a JSON text that json.Valid accepted, without
// allocating: a token is its kind and its bytes in the text. (The first
// version used encoding/json's Decoder.Token, whose state machine and
// per-value Decode dominated the cost of ingesting a statement; the second
// returned json.Tokens, whose boxed strings were a third of Prepare's
// allocations.) Commas and colons are skipped, as the Decoder does.
type lexer struct {
	data []byte
	pos  int
}

// Token kinds returned by next, besides the delimiters '{', '}', '[' and
// ']'.
const (
	tokString = '"'
	tokNumber = '0'
	tokTrue   = 't'
	tokFalse  = 'f'
	tokNull   = 'n'
)

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

// next returns the next token's kind and, for a string, its decoded
// content, for a number, its text. The bytes alias the text unless the
// string had escapes or bytes that are not printable ASCII.
func (l *lexer) next() (byte, []byte, error) {
	l.skip()
	if l.pos >= len(l.data) {
		return 0, nil, errEnd
	}
	switch c := l.data[l.pos]; c {
	case '{', '}', '[', ']':
		l.pos++
		return c, nil, nil
	case '"':
		s, err := l.str()
		return tokString, s, err
	case 't':
		l.pos += len("true")
		return tokTrue, nil, nil
	case 'f':
		l.pos += len("false")
		return tokFalse, nil, nil
	case 'n':
		l.pos += len("null")
		return tokNull, nil, nil
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
	return tokNumber, l.data[start:l.pos], nil
}

// str reads a string token. A string of printable ASCII without escapes
// (nearly all of them) is taken as is; others are decoded by encoding/json,
// so escapes and invalid UTF-8 are handled exactly as it does.
func (l *lexer) str() ([]byte, error) {
	start := l.pos
	l.pos++
	simple := true
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		switch {
		case c == '"':
			l.pos++
			if simple {
				return l.data[start+1 : l.pos-1], nil
			}
			var s string
			if err := json.Unmarshal(l.data[start:l.pos], &s); err != nil {
				return nil, err
			}
			return []byte(s), nil
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
