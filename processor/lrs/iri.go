package lrs

import "net/url"

// isAbsoluteIRI reports whether s is what the checker takes for an absolute
// IRI: a string that net/url parses and that has a scheme. The usual IRI —
// a scheme and then only characters net/url cannot reject — is recognised
// by plainAbsoluteIRI without url.Parse, which builds a URL and copies its
// parts for each of a statement's IRIs; anything else is left to url.Parse,
// so the answer is url.Parse's in every case (TestPlainAbsoluteIRIAgreesWithURLParse).
func isAbsoluteIRI(s string) bool {
	if plainAbsoluteIRI(s) {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != ""
}

// plainAbsoluteIRI reports whether s is a scheme (RFC 3986 §3.1: a letter,
// then letters, digits, "+", "-" or "."), a colon, and a remainder of ASCII
// unreserved characters, sub-delimiters and "/", "?", "#" — plus ":" and
// "@" outside an authority ("//" up to the next "/", "?" or "#"). On such
// a string url.Parse cannot fail: it has no control character, no percent
// escape to be malformed, no port to be non-numeric, no user information
// and no host character it rejects. A false result means only "not
// decided here".
func plainAbsoluteIRI(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			goto rest
		default:
			return false
		}
	}
	return false // no colon: no scheme
rest:
	rest := s[i+1:]
	inAuthority := len(rest) >= 2 && rest[0] == '/' && rest[1] == '/'
	if inAuthority {
		rest = rest[2:]
	}
	for j := 0; j < len(rest); j++ {
		c := rest[j]
		if !iriPlain(c) {
			return false
		}
		switch c {
		case '/', '?', '#':
			inAuthority = false
		case ':', '@':
			if inAuthority {
				return false
			}
		}
	}
	return true
}

// iriPlain reports whether plainAbsoluteIRI accepts c after the scheme:
// RFC 3986's unreserved characters and sub-delimiters, and the delimiters
// "/", "?", "#", ":" and "@".
func iriPlain(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', '/', '?', '#', ':', '@':
		return true
	}
	return false
}
