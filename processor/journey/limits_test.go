package journey

import (
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// sizedJourney returns a journey with waypoints waypoints whose conditions
// are condBytes long (a valid query padded with a $comment) and outcomes
// outcomes.
func sizedJourney(t *testing.T, waypoints, outcomes, condBytes int) *Journey {
	return countedJourney(t, waypoints, outcomes, condBytes, 1)
}

// countedJourney is sizedJourney with each waypoint's count.
func countedJourney(t *testing.T, waypoints, outcomes, condBytes, count int) *Journey {
	t.Helper()
	const head, tail = `{"statement.verb.id":"v","$comment":"`, `"}`
	if condBytes < len(head)+len(tail) {
		t.Fatalf("condition of %d bytes too short", condBytes)
	}
	cond := head + strings.Repeat("x", condBytes-len(head)-len(tail)) + tail
	j := &Journey{IsActive: true, TrackBy: TrackByActor}
	for range waypoints {
		j.Waypoints = append(j.Waypoints, Waypoint{ID: primitive.NewObjectID(), IsActive: true, Conditions: cond, Count: count})
	}
	for range outcomes {
		j.Outcomes = append(j.Outcomes, Outcome{ID: primitive.NewObjectID(), IsActive: true, Type: OutcomeCallback, Callback: "https://example.com/hook"})
	}
	return j
}

func TestLimitsCheck(t *testing.T) {
	small := Limits{Waypoints: 3, Outcomes: 2, ConditionBytes: 100, Count: 5}
	tests := []struct {
		name                         string
		limits                       Limits
		waypoints, outcomes, condLen int
		count                        int
		wantHit                      []string
		wantFields                   []string
		wantInMessage                string
	}{
		{"defaults at every limit", Limits{}, 100, 20, 64 << 10, 1000, nil, nil, ""},
		{"default count over", Limits{}, 1, 0, 100, 1001, []string{LimitCount}, []string{"waypoints[0].count"}, "limit of 1000 statements per waypoint"},
		{"default waypoints over", Limits{}, 101, 1, 100, 1, []string{LimitWaypoints}, []string{"waypoints"}, "limit of 100 waypoints"},
		{"default outcomes over", Limits{}, 1, 21, 100, 1, []string{LimitOutcomes}, []string{"outcomes"}, "limit of 20 outcomes"},
		{"default condition over", Limits{}, 2, 0, 64<<10 + 1, 1, []string{LimitConditionBytes},
			[]string{"waypoints[0].conditions", "waypoints[1].conditions"}, "condition size limit of 65536 bytes"},
		{"configured at every limit", small, 3, 2, 100, 5, nil, nil, ""},
		{"configured count over", small, 2, 0, 100, 6, []string{LimitCount}, []string{"waypoints[0].count", "waypoints[1].count"}, "6 exceeds the limit of 5 statements per waypoint"},
		{"configured waypoints over", small, 4, 2, 100, 1, []string{LimitWaypoints}, []string{"waypoints"}, "limit of 3 waypoints"},
		{"configured outcomes over", small, 3, 3, 100, 1, []string{LimitOutcomes}, []string{"outcomes"}, "limit of 2 outcomes"},
		{"configured condition over", small, 1, 0, 101, 1, []string{LimitConditionBytes}, []string{"waypoints[0].conditions"}, "101 bytes exceed the condition size limit of 100 bytes"},
		{"every limit over", small, 4, 3, 101, 6, []string{LimitWaypoints, LimitOutcomes, LimitConditionBytes, LimitCount},
			[]string{"outcomes", "waypoints", "waypoints[0].conditions", "waypoints[0].count", "waypoints[1].conditions", "waypoints[1].count",
				"waypoints[2].conditions", "waypoints[2].count", "waypoints[3].conditions", "waypoints[3].count"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := countedJourney(t, tt.waypoints, tt.outcomes, tt.condLen, tt.count)
			if err := j.Validate(); err != nil {
				t.Fatalf("fixture invalid: %v", err)
			}
			hit, err := tt.limits.Check(j)
			if !slices.Equal(hit, tt.wantHit) {
				t.Errorf("hit = %v, want %v", hit, tt.wantHit)
			}
			if tt.wantFields == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if got := fieldsOf(t, err); !slices.Equal(got, tt.wantFields) {
				t.Errorf("fields = %v, want %v", got, tt.wantFields)
			}
			if !strings.Contains(err.Error(), tt.wantInMessage) {
				t.Errorf("error %q does not name the limit (%q)", err, tt.wantInMessage)
			}
		})
	}
}
