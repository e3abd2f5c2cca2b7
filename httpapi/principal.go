package httpapi

import (
	"slices"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Scopes the API understands, as found in a Learning Locker client's
// scopes array.
const (
	// ScopeAll allows everything within the organisation.
	ScopeAll = "all"
	// ScopeAllRead allows reading everything within the organisation.
	ScopeAllRead = "all/read"
	// ScopeViewAllJourneys allows reading every journey of the
	// organisation, with its progress, funnel and deliveries.
	ScopeViewAllJourneys = "org/all/journey/view"
	// ScopeViewPublicJourneys allows reading the organisation's public
	// journeys and those the principal owns.
	ScopeViewPublicJourneys = "org/public/journey/view"
	// ScopeXAPIAll and ScopeStatementsWrite allow storing statements.
	ScopeXAPIAll         = "xapi/all"
	ScopeStatementsWrite = "statements/write"
)

// Principal is an authenticated caller: an LRS client or the admin.
//
// What it may do follows its scopes: ScopeAll (and the admin) read and
// write everything of the organisation; ScopeAllRead and
// ScopeViewAllJourneys read every journey; ScopeViewPublicJourneys reads
// public journeys and the principal's own (isPublic and owner are
// respected); ScopeXAPIAll and ScopeStatementsWrite store statements.
// Writing journeys, requesting recalculations and replaying deliveries need
// ScopeAll.
type Principal struct {
	// ID is the client's _id; journeys the principal creates name it as
	// their owner. The admin's ID is derived from its key.
	ID primitive.ObjectID
	// Organisation scopes every read and write of the principal.
	Organisation primitive.ObjectID
	// Store is the client's LRS store (lrs_id), where the statements it
	// ingests are stored.
	Store  primitive.ObjectID
	Scopes []string
	// Admin is set for the static admin credential.
	Admin bool
}

// has reports whether p holds any of scopes.
func (p *Principal) has(scopes ...string) bool {
	for _, s := range scopes {
		if slices.Contains(p.Scopes, s) {
			return true
		}
	}
	return false
}

// allows reports whether p may use a route requiring a.
func (p *Principal) allows(a access) bool {
	if p.Admin || p.has(ScopeAll) {
		return true
	}
	switch a {
	case accessRead:
		return p.has(ScopeAllRead, ScopeViewAllJourneys, ScopeViewPublicJourneys)
	case accessIngest:
		return p.has(ScopeXAPIAll, ScopeStatementsWrite)
	}
	return false
}

// readsAll reports whether p reads every journey of its organisation,
// public or not.
func (p *Principal) readsAll() bool {
	return p.Admin || p.has(ScopeAll, ScopeAllRead, ScopeViewAllJourneys)
}

// sees reports whether p may read a journey of its organisation with the
// given visibility and owner.
func (p *Principal) sees(isPublic bool, owner primitive.ObjectID) bool {
	return p.readsAll() || isPublic || owner == p.ID
}
