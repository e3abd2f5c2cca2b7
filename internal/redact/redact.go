// Package redact removes credentials from URLs before they reach a log line
// or an API error message. It is the one place that decides what of a URL
// is secret, so every log and error that shows a callback URL or the
// MongoDB URI goes through it.
//
// What is secret: the userinfo (user name and password: a token is often
// sent as the user name) and every query value (a signature, a token or an
// API key can hide under any parameter name, so no list of names is
// trusted). The scheme, host, port, path and query parameter names are
// kept, which is what an operator needs to tell one target from another.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces every secret part of a URL.
const Mask = "REDACTED"

// URL returns raw with its userinfo and query values replaced by Mask. A
// string that does not parse as a URL is searched for URLs the way Text
// does, and what remains unparsable after an "@" is masked whole, so a
// malformed URL cannot leak its password by failing to parse.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return maskUnparsable(raw)
	}
	if u.User != nil {
		u.User = url.User(Mask)
	}
	if u.RawQuery != "" {
		u.RawQuery = maskQuery(u.RawQuery)
	}
	if u.Fragment != "" {
		u.Fragment = Mask
	}
	return u.String()
}

// maskQuery keeps the parameter names of a query and masks their values.
// The names are kept in their original order; an unparsable query is
// masked whole.
func maskQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		if hasValue {
			parts[i] = name + "=" + Mask
		}
	}
	return strings.Join(parts, "&")
}

// maskUnparsable masks everything of s between its scheme and the last "@"
// (the userinfo), and everything after a "?".
func maskUnparsable(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i+1] + Mask
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		start := strings.Index(s, "://")
		if start >= 0 && start < at {
			s = s[:start+3] + Mask + s[at:]
		} else {
			s = Mask + s[at:]
		}
	}
	return s
}

// Text returns s with every URL in it (a scheme followed by "://", up to
// the next white space or quote, or to the closing quote of a quoted URL)
// redacted as URL does. It is for messages
// that embed URLs, such as the errors of net/http ("Post \"https://…\":
// …") and of the MongoDB driver.
func Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		// Walk back over the scheme.
		start := i
		for start > 0 && isSchemeByte(s[start-1]) {
			start--
		}
		end := i + 3
		if start > 0 && s[start-1] == '"' {
			// A quoted URL ends at its closing quote, even if it holds
			// spaces (as an unparsable one may).
			if q := strings.IndexByte(s[end:], '"'); q >= 0 {
				end += q
			} else {
				end = len(s)
			}
		} else {
			for end < len(s) && !isURLEnd(s[end]) {
				end++
			}
		}
		b.WriteString(s[:start])
		if start == i { // "://" with no scheme: not a URL, keep it
			b.WriteString(s[i:end])
		} else {
			b.WriteString(URL(s[start:end]))
		}
		s = s[end:]
	}
}

func isSchemeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

func isURLEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`'
}
