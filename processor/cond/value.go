package cond

import "github.com/journeys/journeys/internal/rawbson"

// value is one BSON value as it lies in a document (rawbson reads them);
// the zero value stands for a missing field.
type value = rawbson.Value
