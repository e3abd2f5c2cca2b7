package cond

import (
	"fmt"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// regexPred is $regex, or a regex operand of implicit equality, $in or
// $all (RegexMatchExpression): it matches strings and symbols the pattern
// finds, and regex values with the same pattern and options.
type regexPred struct {
	re               *regexp.Regexp
	pattern, options string
}

func (p *regexPred) test(v value) bool {
	switch v.Type {
	case bsontype.String, bsontype.Symbol:
		return p.re.Match(v.Str())
	case bsontype.Regex:
		pat, opt := v.Regex()
		return string(pat) == p.pattern && string(opt) == p.options
	}
	return false
}

// compileRegex compiles a MongoDB (PCRE) regular expression with its
// options for Go's RE2. Options i, m and s map to RE2 flags; x (extended)
// is applied by stripping whitespace and comments; u is accepted and
// redundant, as in MongoDB. Patterns RE2 cannot express (look-around,
// back-references, possessive quantifiers…) are errors.
func compileRegex(pattern, options string) (*regexPred, error) {
	var flags []byte
	extended := false
	for i := 0; i < len(options); i++ {
		switch c := options[i]; c {
		case 'i', 'm', 's':
			flags = append(flags, c)
		case 'x':
			extended = true
		case 'u':
		default:
			return nil, fmt.Errorf("invalid regex option %q in %q", c, options)
		}
	}
	if strings.IndexByte(pattern, 0) >= 0 {
		return nil, fmt.Errorf("invalid pattern %q: contains a NUL byte", pattern)
	}
	multiline := strings.IndexByte(options, 'm') >= 0 || hasInlineFlag(pattern, 'm')
	src := translatePattern(pattern, extended, multiline)
	if len(flags) > 0 {
		src = "(?" + string(flags) + ")" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, fmt.Errorf("invalid pattern %q: %w", pattern, err)
	}
	return &regexPred{re: re, pattern: pattern, options: options}, nil
}

// translatePattern rewrites the PCRE constructs whose meaning differs in
// RE2. Outside character classes and \Q…\E quotes:
//   - with extended set, unescaped whitespace and #-comments are removed;
//   - without multiline, $ and \Z become (?:\n?\z): PCRE lets them match
//     before a final newline, RE2's $ only at the very end. (Consuming the
//     newline is harmless: matching only asks whether a match exists.)
func translatePattern(p string, extended, multiline bool) string {
	var b strings.Builder
	b.Grow(len(p) + 8)
	const endAnchor = `(?:\n?\z)`
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			switch p[i+1] {
			case 'Q':
				end := strings.Index(p[i+2:], `\E`)
				if end < 0 {
					b.WriteString(p[i:])
					return b.String()
				}
				b.WriteString(p[i : i+2+end+2])
				i += end + 3
			case 'Z':
				b.WriteString(endAnchor)
				i++
			default:
				b.WriteString(p[i : i+2])
				i++
			}
		case c == '[':
			i = copyClass(&b, p, i)
		case extended && isPCRESpace(c):
		case extended && c == '#':
			for i+1 < len(p) && p[i+1] != '\n' {
				i++
			}
		case c == '$' && !multiline:
			b.WriteString(endAnchor)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// copyClass copies the character class starting at p[i] == '[' verbatim and
// returns the index of its closing bracket (or the end of p). A ']' first in
// the class is literal; escapes and POSIX classes like [:alpha:] are
// skipped whole so their brackets do not end the class.
func copyClass(b *strings.Builder, p string, i int) int {
	j := i + 1
	if j < len(p) && p[j] == '^' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for ; j < len(p); j++ {
		switch {
		case p[j] == '\\':
			j++
		case p[j] == '[' && j+1 < len(p) && p[j+1] == ':':
			if end := strings.Index(p[j+2:], ":]"); end >= 0 {
				j += end + 3
			}
		case p[j] == ']':
			b.WriteString(p[i : j+1])
			return j
		}
	}
	b.WriteString(p[i:])
	return len(p)
}

// isPCRESpace reports whether c is whitespace that extended mode ignores.
func isPCRESpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

// hasInlineFlag reports whether the pattern turns flag on inline, as in
// "(?m)" or "(?im:…)", so that $ keeps its multiline meaning there. Letters
// after a '-' turn flags off and are not counted.
func hasInlineFlag(p string, flag byte) bool {
	for i := strings.Index(p, "(?"); i >= 0; {
		for j := i + 2; j < len(p) && strings.IndexByte("imsxU", p[j]) >= 0; j++ {
			if p[j] == flag {
				return true
			}
		}
		next := strings.Index(p[i+2:], "(?")
		if next < 0 {
			return false
		}
		i += 2 + next
	}
	return false
}
