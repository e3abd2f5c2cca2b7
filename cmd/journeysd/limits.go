package main

import (
	"flag"

	"github.com/journeys/journeys/httpapi"
	"github.com/journeys/journeys/processor/journey"
)

// limitFlags are the configurable limits of docs/design.md §11.
type limitFlags struct {
	Waypoints        int
	Outcomes         int
	ConditionBytes   int
	Count            int
	ProgressAttempts int
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.Waypoints, "max-waypoints", journey.DefaultMaxWaypoints, "waypoints per journey at most (a save with more is a 400)")
	fs.IntVar(&l.Outcomes, "max-outcomes", journey.DefaultMaxOutcomes, "outcomes per journey at most (a save with more is a 400)")
	fs.IntVar(&l.ConditionBytes, "max-condition-bytes", journey.DefaultMaxConditionBytes, "bytes of one waypoint's conditions at most (a save with more is a 400)")
	fs.IntVar(&l.Count, "max-count", journey.DefaultMaxCount, "a waypoint's count at most (progress keeps that many statement references per waypoint)")
	fs.IntVar(&l.ProgressAttempts, "progress-attempts", httpapi.DefaultProgressAttempts, "completed attempts a progress document lists (older ones are paged)")
}

// journeyLimits returns the journey size limits.
func (l limitFlags) journeyLimits() journey.Limits {
	return journey.Limits{Waypoints: l.Waypoints, Outcomes: l.Outcomes, ConditionBytes: l.ConditionBytes, Count: l.Count}
}
