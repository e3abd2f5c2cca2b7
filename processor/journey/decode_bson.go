package journey

import (
	"crypto/sha256"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/internal/rawbson"
)

// DecodeBSON reads a journey document as stored in MongoDB by any writer —
// this daemon's API, Learning Locker, or a script — applying the defaults
// of docs/design.md §3 to fields the writer left out: isActive true (journey,
// waypoints and outcomes), trackBy "actor", count 1, order the array
// position. conditions may be stored as a string or as an embedded
// document; a waypoint or outcome without an _id gets one derived from the
// journey's id and its position, so that the version digest is the same on
// every read. The result is not validated: Compile does that.
func DecodeBSON(doc bson.Raw) (*Journey, error) {
	// rawbson's check first (the one malformed-input policy, every nested
	// length included): the driver's Validate panics on a document whose
	// length prefix is zero.
	if err := rawbson.Validate(doc); err != nil {
		return nil, fmt.Errorf("journey document: %w", err)
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("journey document: %w", err)
	}
	norm, err := normaliseBSON(doc)
	if err != nil {
		return nil, err
	}
	var j Journey
	if err := bson.Unmarshal(norm, &j); err != nil {
		return nil, fmt.Errorf("journey document: %w", err)
	}
	if j.TrackBy == "" {
		j.TrackBy = TrackByActor
	}
	if _, err := doc.LookupErr("isActive"); err != nil {
		j.IsActive = true
	}
	for i := range j.Waypoints {
		w := &j.Waypoints[i]
		raw := doc.Lookup("waypoints", fmt.Sprint(i))
		wd, _ := raw.DocumentOK()
		if _, err := wd.LookupErr("isActive"); err != nil {
			w.IsActive = true
		}
		if _, err := wd.LookupErr("count"); err != nil {
			w.Count = 1
		}
		if _, err := wd.LookupErr("order"); err != nil {
			w.Order = float64(i)
		}
		if w.ID.IsZero() {
			w.ID = derivedID(j.ID, "waypoint", i)
		}
	}
	for i := range j.Outcomes {
		o := &j.Outcomes[i]
		od, _ := doc.Lookup("outcomes", fmt.Sprint(i)).DocumentOK()
		if _, err := od.LookupErr("isActive"); err != nil {
			o.IsActive = true
		}
		if o.ID.IsZero() {
			o.ID = derivedID(j.ID, "outcome", i)
		}
	}
	return &j, nil
}

// normaliseBSON rewrites the fields bson.Unmarshal cannot read into the
// Journey struct as they are: embedded-document conditions become their
// Extended JSON string.
func normaliseBSON(doc bson.Raw) (bson.Raw, error) {
	wps, err := doc.LookupErr("waypoints")
	if err != nil || wps.Type != bsontype.Array {
		return doc, nil
	}
	vals, err := wps.Array().Values()
	if err != nil {
		return nil, fmt.Errorf("journey document: waypoints: %w", err)
	}
	rewrite := false
	for _, v := range vals {
		if c, err := v.Document().LookupErr("conditions"); err == nil && c.Type == bsontype.EmbeddedDocument {
			rewrite = true
		}
	}
	if !rewrite {
		return doc, nil
	}
	var d bson.D
	if err := bson.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("journey document: %w", err)
	}
	for i, e := range d {
		if e.Key != "waypoints" {
			continue
		}
		arr, _ := e.Value.(bson.A)
		for k, w := range arr {
			wd, ok := w.(bson.D)
			if !ok {
				continue
			}
			for n, f := range wd {
				if f.Key != "conditions" {
					continue
				}
				if sub, ok := f.Value.(bson.D); ok {
					s, err := bson.MarshalExtJSON(sub, false, false)
					if err != nil {
						return nil, fmt.Errorf("journey document: waypoints[%d].conditions: %w", k, err)
					}
					wd[n].Value = string(s)
				}
			}
			arr[k] = wd
		}
		d[i].Value = arr
	}
	out, err := bson.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("journey document: %w", err)
	}
	return out, nil
}

// derivedID is a stable ObjectId for an element the writer stored without
// one.
func derivedID(journey primitive.ObjectID, kind string, i int) primitive.ObjectID {
	h := sha256.Sum256(fmt.Appendf(journey[:], "%s/%d", kind, i))
	var id primitive.ObjectID
	copy(id[:], h[:12])
	return id
}
