package lrs

import (
	"math/rand/v2"
	"net/url"
	"testing"
)

// urlParseAbsolute is the checker's rule as it was written before the fast
// path: url.Parse succeeds and finds a scheme.
func urlParseAbsolute(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != ""
}

func TestIsAbsoluteIRI(t *testing.T) {
	for _, tc := range []struct {
		s           string
		absolute    bool
		decidedHere bool // plainAbsoluteIRI accepts it without url.Parse
	}{
		{"http://adlnet.gov/expapi/verbs/completed", true, true},
		{"http://example.com/course/42?x=1&y=(2)#top", true, true},
		{"https://w3id.org/xapi/video/verbs/paused", true, true},
		{"urn:uuid:fd41c918-b88b-4b20-a0a5-a4c32391aaa0", true, true},
		{"tag:example.org,2026:course~1", true, true},
		{"mailto:learner@example.com", true, true}, // "@" outside an authority
		{"http:", true, true},
		{"a+b-c.d:x", true, true},
		{"http://example.com/p@th:x", true, true},
		{"http:///path", true, true},
		{"http://example.com:8080/x", true, false}, // a port: url.Parse checks it
		{"http://user@example.com/", true, false},  // user information
		{"http://example.com/caf%C3%A9", true, false},
		{"http://example.com/café", true, false}, // non-ASCII: an IRI, decided by url.Parse
		{"http://[::1]/x", true, false},
		{"http://example.com/a b", true, false}, // url.Parse takes a space in a path
		{"completed", false, false},             // no scheme (xAPI Data §2.2)
		{"", false, false},
		{":x", false, false},
		{"1http://example.com", false, false},
		{"/relative/path", false, false},
		{"http://example.com:port/", false, false},
		{"http://example.com/%zz", false, false},
		{"http://exa mple.com/", false, false},
		{"http://example.com/\x00", false, false},
		{"http://example.com/\x7f", false, false},
	} {
		if got := isAbsoluteIRI(tc.s); got != tc.absolute {
			t.Errorf("isAbsoluteIRI(%q) = %v, want %v", tc.s, got, tc.absolute)
		}
		if got := plainAbsoluteIRI(tc.s); got != tc.decidedHere {
			t.Errorf("plainAbsoluteIRI(%q) = %v, want %v", tc.s, got, tc.decidedHere)
		}
		if got := urlParseAbsolute(tc.s); got != tc.absolute {
			t.Errorf("the table is wrong about %q: url.Parse says %v", tc.s, got)
		}
	}
}

// The fast path never accepts what url.Parse rejects, so isAbsoluteIRI
// answers as url.Parse does: checked on 300,000 strings drawn from the
// characters on which parsing turns (delimiters, "%", brackets, spaces,
// controls, non-ASCII), shaped like IRIs more often than not.
func TestPlainAbsoluteIRIAgreesWithURLParse(t *testing.T) {
	const alphabet = "ab0+-.:/?#@%[]_~!$&'()*,;= \x00\x7fé\"<>\\^`{|}"
	rng := rand.New(rand.NewPCG(10, 10))
	pick := func(n int) string {
		b := make([]byte, 0, n)
		for range n {
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		return string(b)
	}
	prefixes := []string{"", "http:", "http://", "x:", "mailto:", "h://a", "h://a:1", "h://a@b"}
	accepted := 0
	for range 300_000 {
		s := prefixes[rng.IntN(len(prefixes))] + pick(rng.IntN(12))
		plain, want := plainAbsoluteIRI(s), urlParseAbsolute(s)
		if plain && !want {
			t.Fatalf("plainAbsoluteIRI accepts %q, which url.Parse rejects", s)
		}
		if got := isAbsoluteIRI(s); got != want {
			t.Fatalf("isAbsoluteIRI(%q) = %v, url.Parse says %v", s, got, want)
		}
		if plain {
			accepted++
		}
	}
	if accepted < 10_000 {
		t.Errorf("only %d strings took the fast path: the test does not exercise it", accepted)
	}
}

func FuzzIsAbsoluteIRI(f *testing.F) {
	for _, s := range []string{"http://a.b/c", "mailto:x@y", "h://a:1@b/", "urn:x:y#z", "http://[::1]:80/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if plainAbsoluteIRI(s) && !urlParseAbsolute(s) {
			t.Fatalf("plainAbsoluteIRI accepts %q, which url.Parse rejects", s)
		}
	})
}

func BenchmarkIsAbsoluteIRI(b *testing.B) {
	for _, s := range []string{"http://adlnet.gov/expapi/verbs/completed", "http://example.com:8080/course"} {
		b.Run(s[:18], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				isAbsoluteIRI(s)
			}
		})
	}
}
