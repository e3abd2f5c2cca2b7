package httpapi

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/256dpi/lungo/bsonkit"
	"go.mongodb.org/mongo-driver/bson"
)

// Table tests of the request habits of Learning Locker's clients, each
// against what LL (or the library it serves the request with) does:
//
//   - routes: Express's router matches case-insensitively and without
//     regard to a trailing slash (express.Router caseSensitive: false,
//     strict: false — expressjs.com/en/api.html#express.router), and LL
//     lowercases its generated routes (api/src/routes/HttpRoutes.js:
//     model.modelName.toLowerCase(); RESTIFY_DEFAULTS lowercase: true);
//   - filters: mongoose casts each value compared with a schema path to
//     the path's type (mongoose lib/cast.js; SchemaTypes castForQuery:
//     ObjectId from a 24-hex string, Date via new Date(value)), and a value
//     it cannot cast is a CastError;
//   - sort: express-restify-mongoose passes sort to mongoose's
//     Query.prototype.sort after JSON.parse, or as the string when it is not
//     JSON (src/api/prepareQuery.js); mongoose reads {field: 1 | -1 | "asc"
//     | "desc" | "ascending" | "descending"} and "a -b";
//   - select: the same prepareQuery splits a non-JSON select on commas,
//     "-field" excluding (select[field] = 0), anything else including;
//     mongoose's string form separates fields by spaces;
//   - project: $project's {"as": "$path"} renames.

func TestCanonicalPaths(t *testing.T) {
	s := &server{cfg: Config{Ingest: func(context.Context, Principal, []byte) ([]string, error) { return nil, nil }}}
	c := newCanonicalPaths(nil, s.routeTable())
	for _, tc := range []struct{ in, want string }{
		{"/api/connection/journeyprogress", "/api/connection/journeyProgress"},
		{"/API/Connection/JourneyProgress/", "/api/connection/journeyProgress"},
		{"/api/v2/journey/", "/api/v2/journey"},
		{"/Api/V2/Journey/Count", "/api/v2/journey/count"},
		{"/api/v2/JOURNEYPROGRESS/COUNT/", "/api/v2/journeyprogress/count"},
		// Parameters keep their spelling.
		{"/api/v2/Journey/65A0000000000000000000Ab/Funnel/", "/api/v2/journey/65A0000000000000000000Ab/funnel"},
		{"/data/xapi/statements", "/data/xAPI/statements"},
		{"/HEALTHZ/", "/healthz"},
	} {
		got, ok := c.canonical(tc.in)
		if !ok || got != tc.want {
			t.Errorf("canonical(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	// Paths that name no route are left alone (they are 404 there).
	for _, in := range []string{"/", "/api/v2/journey//", "/api/v2/journey/x/y/z", "/api/v2/journeys", "/api/v2/journey//funnel"} {
		if got, ok := c.canonical(in); ok {
			t.Errorf("canonical(%q) = %q, want no route", in, got)
		}
	}
}

func TestSortForms(t *testing.T) {
	for _, tc := range []struct{ sort, want string }{
		{`{"description": 1, "createdAt": -1}`, "description,-createdAt,_id"},
		{`{"description": "asc", "createdAt": "desc"}`, "description,-createdAt,_id"},
		{`{"description": "ascending", "createdAt": "DESCENDING"}`, "description,-createdAt,_id"},
		{`description -createdAt`, "description,-createdAt,_id"},
		{`description,-createdAt`, "description,-createdAt,_id"},
		{`+description  -createdAt `, "description,-createdAt,_id"},
		{`[["description", 1], ["createdAt", "desc"]]`, "description,-createdAt,_id"},
		{`-_id`, "-_id"},
		{``, "_id"},
	} {
		spec, err := sortParam(url.Values{"sort": {tc.sort}})
		if err != nil {
			t.Errorf("sort %q: %v", tc.sort, err)
			continue
		}
		if spec.text != tc.want {
			t.Errorf("sort %q = %s, want %s", tc.sort, spec.text, tc.want)
		}
	}
	for _, bad := range []string{`{"a": 2}`, `{"a": "up"}`, `[["a"]]`, `[["a", 2]]`, `["a"]`, `[[1, 1]]`, `{"a": 1, "a.b": 1}`, `$a`, `{"a": 1`} {
		if _, err := sortParam(url.Values{"sort": {bad}}); err == nil {
			t.Errorf("sort %q accepted", bad)
		}
	}
}

func TestSelectAndRenames(t *testing.T) {
	doc := []byte(`{"_id":"1","description":"d","waypoints":[{"_id":"w1","description":"a"},{"_id":"w2"}],"isActive":true}`)
	for _, tc := range []struct{ name, value, want string }{
		{"select", "description,isActive", `{"_id":"1","description":"d","isActive":true}`},
		{"select", "description isActive", `{"_id":"1","description":"d","isActive":true}`},
		{"select", "-waypoints", `{"_id":"1","description":"d","isActive":true}`},
		{"select", "-waypoints,-isActive", `{"_id":"1","description":"d"}`},
		{"select", `{"description": 1}`, `{"_id":"1","description":"d"}`},
		{"select", "+description", `{"_id":"1","description":"d"}`},
		{"select", `["description", "isActive"]`, `{"_id":"1","description":"d","isActive":true}`},
		{"select", "description,-_id", `{"description":"d"}`},
		{"project", `{"_id": 0, "t": "$description"}`, `{"t":"d"}`},
		{"project", `{"title": "$description"}`, `{"_id":"1","title":"d"}`},
		{"project", `{"isActive": 1, "title": "$description", "steps": "$waypoints.description"}`,
			`{"_id":"1","isActive":true,"title":"d","steps":["a"]}`},
		{"project", `{"ids": "$waypoints._id"}`, `{"_id":"1","ids":["w1","w2"]}`},
		{"project", `{"x": "$missing"}`, `{"_id":"1"}`},
	} {
		p, err := projectParam(url.Values{tc.name: {tc.value}})
		if err != nil {
			t.Errorf("%s=%s: %v", tc.name, tc.value, err)
			continue
		}
		got, err := p.apply(doc)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%s=%s:\n got %s\nwant %s", tc.name, tc.value, got, tc.want)
		}
	}
	for _, tc := range []struct {
		q             url.Values
		field, reason string
	}{
		{url.Values{"project": {`{"t": {"$concat": ["$a", "b"]}}`}}, "project", "not"},
		{url.Values{"project": {`{"t": "literal"}`}}, "project", "literal values are not supported"},
		{url.Values{"project": {`{"a.b": "$description"}`}}, "project", "not supported"},
		{url.Values{"project": {`{"_id": "$description"}`}}, "project", "not supported"},
		{url.Values{"project": {`{"t": "$description", "waypoints": 0}`}}, "project", "cannot mix"},
		{url.Values{"project": {`{"t": "$description", "t.x": 1}`}}, "project", "collides"},
		{url.Values{"select": {"a,-b"}}, "select", "cannot mix"},
		{url.Values{"select": {`["a", 1]`}}, "select", "field names"},
		{url.Values{"select": {"a"}, "project": {`{"a": 1}`}}, "select", "not both"},
	} {
		_, err := projectParam(tc.q)
		ae, ok := err.(*apiError)
		if !ok || len(ae.fields) != 1 || ae.fields[0].Field != tc.field || !strings.Contains(ae.fields[0].Message, tc.reason) {
			t.Errorf("%v: err %v, want a 400 on %s saying %q", tc.q, err, tc.field, tc.reason)
		}
	}
}

func TestCastFilter(t *testing.T) {
	const hex, hex2 = "65a0000000000000000000aa", "65a0000000000000000000bb"
	for _, tc := range []struct{ filter, want string }{
		// 24-hex strings against ObjectId paths become ObjectIds.
		{`{"_id": "` + hex + `"}`, `{"_id": {"$oid": "` + hex + `"}}`},
		{`{"owner": {"$in": ["` + hex + `", "` + hex2 + `"]}}`, `{"owner": {"$in": [{"$oid": "` + hex + `"}, {"$oid": "` + hex2 + `"}]}}`},
		{`{"sources": "` + hex + `"}`, `{"sources": {"$oid": "` + hex + `"}}`},
		{`{"sources": ["` + hex + `"]}`, `{"sources": [{"$oid": "` + hex + `"}]}`},
		{`{"sources": {"$eq": ["` + hex + `"]}}`, `{"sources": {"$eq": [{"$oid": "` + hex + `"}]}}`},
		{`{"waypoints._id": {"$ne": "` + hex + `"}}`, `{"waypoints._id": {"$ne": {"$oid": "` + hex + `"}}}`},
		{`{"waypoints.0._id": "` + hex + `"}`, `{"waypoints.0._id": {"$oid": "` + hex + `"}}`},
		{`{"waypoints": {"$elemMatch": {"_id": "` + hex + `"}}}`, `{"waypoints": {"$elemMatch": {"_id": {"$oid": "` + hex + `"}}}}`},
		{`{"$or": [{"_id": "` + hex + `"}, {"description": "` + hex + `"}]}`, `{"$or": [{"_id": {"$oid": "` + hex + `"}}, {"description": "` + hex + `"}]}`},
		{`{"_id": {"$not": {"$eq": "` + hex + `"}}}`, `{"_id": {"$not": {"$eq": {"$oid": "` + hex + `"}}}}`},
		// ISO strings (and milliseconds) against date paths become dates.
		{`{"createdAt": {"$gte": "2024-05-01", "$lt": "2024-05-01T12:30:00+02:00"}}`,
			`{"createdAt": {"$gte": {"$date": "2024-05-01T00:00:00Z"}, "$lt": {"$date": "2024-05-01T10:30:00Z"}}}`},
		{`{"updatedAt": 1714564800000}`, `{"updatedAt": {"$date": "2024-05-01T12:00:00Z"}}`},
		{`{"recalculateStatus.finishedAt": {"$in": ["2024-05-01T12:00:00Z"]}}`, `{"recalculateStatus.finishedAt": {"$in": [{"$date": "2024-05-01T12:00:00Z"}]}}`},
		// Strings (and 0/1) against Boolean paths become booleans as
		// mongoose's castBoolean converts them; strings against Number
		// paths become numbers (mongoose lib/schema/boolean.js, number.js).
		{`{"isActive": "true", "isPublic": "no"}`, `{"isActive": true, "isPublic": false}`},
		{`{"waypoints.isActive": {"$in": ["1", 0]}}`, `{"waypoints.isActive": {"$in": [true, false]}}`},
		{`{"waypoints.count": {"$gte": "3"}}`, `{"waypoints.count": {"$gte": 3.0}}`},
		{`{"isActive": false}`, `{"isActive": false}`},
		// Untyped paths, values already typed, null, regexes and operands of
		// other operators are left alone.
		{`{"description": "` + hex + `"}`, `{"description": "` + hex + `"}`},
		{`{"_id": {"$oid": "` + hex + `"}}`, `{"_id": {"$oid": "` + hex + `"}}`},
		{`{"createdAt": null, "_id": {"$exists": true}}`, `{"createdAt": null, "_id": {"$exists": true}}`},
		{`{"owner": {"$regex": "^65"}}`, `{"owner": {"$regex": "^65"}}`},
		{`{"createdAt": {"$type": "date"}}`, `{"createdAt": {"$type": "date"}}`},
	} {
		doc, err := bsonFromExtJSON(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		got, err := castFilter("filter", doc, journeySchema)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		want, _ := bsonFromExtJSON(tc.want)
		if !bsonEqual(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.filter, got, want)
		}
	}
	// Values mongoose cannot cast are a CastError: a 400 naming the value
	// and the path.
	for _, tc := range []struct{ filter, reason string }{
		{`{"_id": "abc"}`, `cast to ObjectId failed for value "abc" at path "_id"`},
		{`{"owner": {"$in": ["` + hex + `", "x"]}}`, `"x" at path "owner"`},
		{`{"createdAt": {"$gt": "yesterday"}}`, `cast to date failed for value "yesterday" at path "createdAt"`},
		{`{"updatedAt": 1.5}`, `cast to date failed`},
		{`{"isActive": "maybe"}`, `cast to Boolean failed for value "maybe" at path "isActive"`},
		{`{"isSequential": 2}`, `cast to Boolean failed`},
		{`{"waypoints.count": "many"}`, `cast to Number failed for value "many" at path "waypoints.count"`},
	} {
		doc, _ := bsonFromExtJSON(tc.filter)
		_, err := castFilter("filter", doc, journeySchema)
		ae, ok := err.(*apiError)
		if !ok || ae.fields[0].Field != "filter" || !strings.Contains(ae.fields[0].Message, tc.reason) {
			t.Errorf("%s: err %v, want a 400 saying %q", tc.filter, err, tc.reason)
		}
	}
}

// bsonFromExtJSON parses relaxed Extended JSON.
func bsonFromExtJSON(s string) (bson.Raw, error) {
	var d bson.Raw
	err := bson.UnmarshalExtJSON([]byte(s), false, &d)
	return d, err
}

// bsonEqual compares two documents as MongoDB compares values.
func bsonEqual(a, b bson.Raw) bool {
	da, err1 := bsonkit.Transform(a)
	db, err2 := bsonkit.Transform(b)
	return err1 == nil && err2 == nil && bsonkit.Compare(*da, *db) == 0 && len(*da) == len(*db)
}
