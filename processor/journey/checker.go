package journey

import (
	"slices"
	"strings"
)

// checker collects field errors. Paths in skip (and everything below them)
// were already reported by the decoder as having the wrong JSON type; the
// value left in the Journey for them is a placeholder, so semantic checks on
// it would only repeat the complaint.
type checker struct {
	errs []FieldError
	skip map[string]struct{}
}

// add records msg for field unless the field is skipped.
func (c *checker) add(field, msg string) {
	if c.skipped(field) {
		return
	}
	c.errs = append(c.errs, FieldError{Field: field, Message: msg})
}

// bad records msg for field and skips it (and its children) from then on.
func (c *checker) bad(field, msg string) {
	c.add(field, msg)
	if c.skip == nil {
		c.skip = map[string]struct{}{}
	}
	c.skip[field] = struct{}{}
}

// skipped reports whether field or one of its ancestors is skipped. It
// walks up the path rather than over the skip set, so a body with many bad
// elements costs linear time, not quadratic.
func (c *checker) skipped(field string) bool {
	for f := field; f != ""; f = parent(f) {
		if _, ok := c.skip[f]; ok {
			return true
		}
	}
	return false
}

// parent returns the path of the object or array holding field
// ("waypoints[1]" for "waypoints[1].count", "waypoints" for
// "waypoints[1]"), or "" for a top-level field.
func parent(field string) string {
	i := strings.LastIndexAny(field, ".[")
	if i < 0 {
		return ""
	}
	return field[:i]
}

// err returns the collected errors as a *ValidationError sorted by path, or
// nil when there are none.
func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	errs := slices.Clone(c.errs)
	slices.SortStableFunc(errs, func(a, b FieldError) int { return comparePaths(a.Field, b.Field) })
	return &ValidationError{Errors: errs}
}

// comparePaths orders field paths naturally: runs of digits compare as
// numbers, so "waypoints[2]" sorts before "waypoints[10]".
func comparePaths(a, b string) int {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := splitDigits(a)
			nb, rb := splitDigits(b)
			// Equal-length digit runs compare lexically; otherwise the
			// longer (leading zeros aside, never produced here) is larger.
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// splitDigits splits s after its leading run of digits.
func splitDigits(s string) (digits, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}
