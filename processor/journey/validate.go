package journey

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/journeys/journeys/internal/redact"
	"github.com/journeys/journeys/processor/cond"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// maxCount bounds Waypoint.Count: MongoDB stores the count as a 32-bit
// integer, and progress keeps up to Count statement refs per waypoint.
const maxCount = math.MaxInt32

// Validate checks the journey against the rules of docs/design.md §3 and returns a
// *ValidationError listing every invalid field, or nil. It compiles every
// waypoint's conditions, so it is meant for saves and journey loads, not
// per-statement paths.
func (j *Journey) Validate() error {
	var c checker
	j.check(&c, false)
	return c.err()
}

// check records every rule violation of j in c and returns the compiled
// matcher of each waypoint (nil where the conditions are invalid). A patch
// holds only some top-level fields, so rules spanning fields (an active
// journey needs an active waypoint) are left to the Validate that follows
// the merge.
func (j *Journey) check(c *checker, patch bool) []*cond.Matcher {
	if j.TrackBy != TrackByActor && j.TrackBy != TrackByPersona {
		c.add("trackBy", fmt.Sprintf("must be %q or %q, got %q", TrackByActor, TrackByPersona, j.TrackBy))
	}
	matchers := make([]*cond.Matcher, len(j.Waypoints))
	active := false
	ids := idSet{array: "waypoints", first: map[primitive.ObjectID]int{}}
	for i := range j.Waypoints {
		w := &j.Waypoints[i]
		path := "waypoints[" + strconv.Itoa(i) + "]"
		ids.check(c, i, w.ID)
		if w.Count < 1 || w.Count > maxCount {
			c.add(path+".count", countMessage(strconv.Itoa(w.Count)))
		}
		if math.IsNaN(w.Order) || math.IsInf(w.Order, 0) {
			c.add(path+".order", "must be a finite number")
		}
		m, err := compileConditions(w.Conditions)
		if err != nil {
			c.add(path+".conditions", err.Error())
		}
		matchers[i] = m
		active = active || w.IsActive
	}
	if j.IsActive && !active && !patch {
		c.add("waypoints", "an active journey needs at least one active waypoint")
	}
	ids = idSet{array: "outcomes", first: map[primitive.ObjectID]int{}}
	for i := range j.Outcomes {
		o := &j.Outcomes[i]
		path := "outcomes[" + strconv.Itoa(i) + "]"
		ids.check(c, i, o.ID)
		switch o.Type {
		case OutcomeCallback:
		case "":
			c.add(path+".type", fmt.Sprintf("is required: only %q is supported", OutcomeCallback))
		default:
			c.add(path+".type", fmt.Sprintf("unsupported outcome type %q: only %q is supported", o.Type, OutcomeCallback))
		}
		if msg := checkCallback(o.Callback); msg != "" {
			c.add(path+".callback", msg)
		}
	}
	return matchers
}

// idSet checks the _ids of one array: progress and deliveries are keyed by
// them, so each must be set and unique within the array.
type idSet struct {
	array string
	first map[primitive.ObjectID]int // id → index of its first element
}

// check reports a zero id, or one an earlier element already uses, at
// element i.
func (s idSet) check(c *checker, i int, id primitive.ObjectID) {
	path := s.array + "[" + strconv.Itoa(i) + "]._id"
	if id.IsZero() {
		c.add(path, "must be a non-zero ObjectId")
		return
	}
	if k, dup := s.first[id]; dup {
		c.add(path, fmt.Sprintf("duplicate _id %s (also %s[%d]._id)", id.Hex(), s.array, k))
		return
	}
	s.first[id] = i
}

// checkCallback returns why raw is not an absolute http(s) URL with a host
// and a valid port, or "" when it is one. Such a URL could never be
// delivered, so it is refused at save rather than retried for the whole
// retry window.
func checkCallback(raw string) string {
	if raw == "" {
		return "is required: an absolute http or https URL"
	}
	u, err := url.Parse(raw)
	if err != nil {
		// The parser's message quotes the URL, credentials included: only
		// the reason is kept.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Sprintf("not a valid URL: %v", redact.Text(err.Error()))
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return fmt.Sprintf("must be an absolute http or https URL, got scheme %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return "must be an absolute http or https URL with a host"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Sprintf("port %s is not a TCP port (1-65535)", p)
		}
	}
	return ""
}
