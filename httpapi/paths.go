package httpapi

import (
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"
)

// Learning Locker's API is served by Express, whose router matches paths
// case-insensitively and ignores a trailing slash by default
// (express.Router options caseSensitive: false, strict: false), and its
// generated routes are lowercased model names (api/src/routes/HttpRoutes.js:
// routeSuffix = model.modelName.toLowerCase(), so
// /api/connection/journeyprogress; express-restify-mongoose with
// lowercase: true). LL's clients rely on both. httprouter matches exactly,
// so canonicalPaths rewrites a request path to the spelling of the route it
// names before routing: every route of the table gets the habit for free.

// canonicalPaths routes requests after rewriting their path to the
// canonical spelling of a route pattern: static segments compared without
// regard to case, one trailing slash ignored. Parameter segments are kept
// as sent. Paths that name no route are passed on unchanged (and answer
// 404 there).
type canonicalPaths struct {
	router   *httprouter.Router
	patterns [][]string // each route pattern's segments, without duplicates
}

// newCanonicalPaths wraps router, whose routes are routes.
func newCanonicalPaths(router *httprouter.Router, routes []route) *canonicalPaths {
	c := &canonicalPaths{router: router}
	seen := map[string]bool{}
	for _, rt := range routes {
		if seen[rt.pattern] {
			continue
		}
		seen[rt.pattern] = true
		c.patterns = append(c.patterns, strings.Split(strings.TrimPrefix(rt.pattern, "/"), "/"))
	}
	return c
}

// ServeHTTP implements http.Handler.
func (c *canonicalPaths) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p, ok := c.canonical(r.URL.Path); ok && p != r.URL.Path {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = p, ""
		r = r2
	}
	c.router.ServeHTTP(w, r)
}

// canonical returns the canonical spelling of path, and whether a route
// pattern matches it. Among matching patterns the one with the most
// static segments wins, so /API/V2/JOURNEY/COUNT is the count route rather
// than a journey with id "COUNT".
func (c *canonicalPaths) canonical(path string) (string, bool) {
	trimmed := strings.TrimPrefix(path, "/")
	if len(trimmed) > 1 && strings.HasSuffix(trimmed, "/") {
		trimmed = trimmed[:len(trimmed)-1]
	}
	segs := strings.Split(trimmed, "/")
	var best []string
	bestStatic := -1
	for _, pat := range c.patterns {
		static, ok := matchSegments(pat, segs)
		if ok && static > bestStatic {
			best, bestStatic = pat, static
		}
	}
	if best == nil {
		return path, false
	}
	var b strings.Builder
	for i, s := range segs {
		b.WriteByte('/')
		if strings.HasPrefix(best[i], ":") {
			b.WriteString(s)
		} else {
			b.WriteString(best[i])
		}
	}
	return b.String(), true
}

// matchSegments reports whether the path segments segs match the pattern
// pat, static segments without regard to case, and how many static
// segments it has.
func matchSegments(pat, segs []string) (static int, ok bool) {
	if len(pat) != len(segs) {
		return 0, false
	}
	for i, p := range pat {
		switch {
		case strings.HasPrefix(p, ":"):
			if segs[i] == "" {
				return 0, false
			}
		case strings.EqualFold(p, segs[i]):
			static++
		default:
			return 0, false
		}
	}
	return static, true
}
