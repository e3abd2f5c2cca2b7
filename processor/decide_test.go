package processor

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// TestDecide covers every row of the journey change decision.
func TestDecide(t *testing.T) {
	r1, r2 := primitive.NewObjectID(), primitive.NewObjectID()
	const at, now, rebuild = int64(1000), int64(5000), int64(300)
	known := func(f func(*storedJourney)) *storedJourney {
		s := &storedJourney{Version: "v1", Request: r1}
		if f != nil {
			f(s)
		}
		return s
	}
	active := journeyChange{Compiles: true, Active: true, Version: "v1", At: at}
	with := func(f func(*journeyChange)) journeyChange {
		c := active
		f(&c)
		return c
	}
	tests := []struct {
		name string
		old  *storedJourney
		ch   journeyChange
		req  recalcRequest
		want action
	}{
		{"does not compile", known(nil), journeyChange{At: at}, recalcRequest{Now: now}, action{Kind: actSuspend, Request: r1}},
		{"does not compile, unknown", nil, journeyChange{}, recalcRequest{Now: now}, action{Kind: actSuspend}},
		{"does not compile, new request kept", known(nil), journeyChange{}, recalcRequest{ID: r2, Now: now}, action{Kind: actSuspend, Request: r2}},
		{"deactivated, same waypoints", known(nil), with(func(c *journeyChange) { c.Active, c.Version = false, "v2" }), recalcRequest{Now: now},
			action{Kind: actDeactivate, Request: r1}},
		{"deactivated with other waypoints", known(nil), with(func(c *journeyChange) { c.Active, c.Version, c.ShapeChanged = false, "v2", true }), recalcRequest{Now: now},
			action{Kind: actDeactivate, ResetProgress: true, Request: r1}},
		{"deactivated mid-recalculation", known(func(s *storedJourney) { s.Recalculating = true }), with(func(c *journeyChange) { c.Active, c.Version = false, "v2" }), recalcRequest{Now: now},
			action{Kind: actDeactivate, ResetProgress: true, Request: r1}},
		{"inactive, recalculation requested", known(nil), with(func(c *journeyChange) { c.Active = false }), recalcRequest{ID: r2, Now: now},
			action{Kind: actDeactivate, ReportInactive: true, Request: r2}},
		{"inactive, old request", known(nil), with(func(c *journeyChange) { c.Active = false }), recalcRequest{ID: r1, Now: now},
			action{Kind: actDeactivate, Request: r1}},
		{"created", nil, active, recalcRequest{Now: now}, action{Kind: actRecalculate, QuietBefore: at}},
		{"created, not seen in the stream", nil, with(func(c *journeyChange) { c.At = 0 }), recalcRequest{Now: now}, action{Kind: actRecalculate, QuietBefore: now}},
		{"version changed", known(nil), with(func(c *journeyChange) { c.Version = "v2" }), recalcRequest{Now: now}, action{Kind: actRecalculate, QuietBefore: at, Request: r1}},
		{"reactivated", known(func(s *storedJourney) { s.Version = "inactive" }), active, recalcRequest{Now: now}, action{Kind: actRecalculate, QuietBefore: at, Request: r1}},
		{"fixed after suspension", known(func(s *storedJourney) { s.Suspended, s.Version = true, "" }), active, recalcRequest{Now: now}, action{Kind: actRecalculate, QuietBefore: at, Request: r1}},
		{"requested", known(nil), active, recalcRequest{ID: r2, Now: now}, action{Kind: actRecalculate, QuietBefore: at, Request: r2}},
		{"requested with notify", known(nil), active, recalcRequest{ID: r2, Notify: true, Now: now}, action{Kind: actRecalculate, QuietBefore: 0, Request: r2}},
		{"requested while recalculating", known(func(s *storedJourney) { s.Recalculating = true }), active, recalcRequest{ID: r2, Now: now}, action{Kind: actRecalculate, QuietBefore: at, Request: r2}},
		{"first request on a new journey", nil, active, recalcRequest{ID: r2, Now: now}, action{Kind: actRecalculate, QuietBefore: at, Request: r2}},
		{"rebuild", known(nil), with(func(c *journeyChange) { c.At = 0 }), recalcRequest{ID: r1, Rebuild: rebuild, Now: now}, action{Kind: actRecalculate, QuietBefore: rebuild, Request: r1}},
		{"rebuild with a new notify request", known(nil), with(func(c *journeyChange) { c.At = 0 }), recalcRequest{ID: r2, Notify: true, Rebuild: rebuild, Now: now}, action{Kind: actRecalculate, Request: r2}},
		{"rebuild with a new request", known(nil), with(func(c *journeyChange) { c.At = 0 }), recalcRequest{ID: r2, Rebuild: rebuild, Now: now}, action{Kind: actRecalculate, QuietBefore: rebuild, Request: r2}},
		{"description edited while recalculating", known(func(s *storedJourney) { s.Recalculating = true }), with(func(c *journeyChange) { c.EngineChanged = true }), recalcRequest{ID: r1, Now: now},
			action{Kind: actMetadata, Request: r1}},
		{"status written while recalculating", known(func(s *storedJourney) { s.Recalculating = true }), active, recalcRequest{ID: r1, Now: now}, action{Kind: actDocOnly, Request: r1}},
		{"outcomes edited", known(nil), with(func(c *journeyChange) { c.EngineChanged = true }), recalcRequest{ID: r1, Now: now}, action{Kind: actMetadata, Request: r1}},
		{"status or updatedAt only", known(nil), active, recalcRequest{Now: now}, action{Kind: actDocOnly, Request: r1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decide(tt.old, tt.ch, tt.req); got != tt.want {
				t.Errorf("decide = %+v (%s), want %+v (%s)", got, got.Kind, tt.want, tt.want.Kind)
			}
		})
	}
}
