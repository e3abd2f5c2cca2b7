package lrs

import (
	"fmt"
	"slices"
	"strings"
)

// Privilege is one entry of MongoDB's connectionStatus
// authenticatedUserPrivileges: actions allowed on a resource.
type Privilege struct {
	Resource PrivilegeResource `bson:"resource"`
	Actions  []string          `bson:"actions"`
}

// PrivilegeResource is the resource of a Privilege. An empty DB means every
// database, an empty Collection every (non-system) collection of DB.
type PrivilegeResource struct {
	DB          string `bson:"db"`
	Collection  string `bson:"collection"`
	AnyResource bool   `bson:"anyResource"`
	Cluster     bool   `bson:"cluster"`
}

// covers reports whether r includes the resource db.coll (coll empty: the
// database resource itself, which only a database-wide grant covers).
func (r PrivilegeResource) covers(db, coll string) bool {
	switch {
	case r.AnyResource:
		return true
	case r.Cluster:
		return false
	case r.DB != "" && r.DB != db:
		return false
	case coll == "":
		return r.Collection == ""
	}
	return r.Collection == "" || r.Collection == coll
}

// Need is an action journeysd needs on a resource (Collection empty: the
// whole database).
type Need struct {
	DB, Collection, Action string
	// Why says what the action is for, for the error message.
	Why string
}

// String renders the need as "action on db[.collection] (why)".
func (n Need) String() string {
	on := n.DB
	if n.Collection != "" {
		on += "." + n.Collection
	}
	return fmt.Sprintf("%s on %s (%s)", n.Action, on, n.Why)
}

// requiredPrivileges lists what journeysd does on the LRS database db:
// a database-wide change stream (changeStream and find on the database),
// reading statements, journeys and API clients, listing collections and
// indexes, and writing journeys through its API. Building a missing index
// (createIndex) is checked when it is needed (see BuildIndexes).
func requiredPrivileges(db, journeys string) []Need {
	return []Need{
		{db, "", "changeStream", "the change stream over the database"},
		{db, "", "find", "the change stream over the database and reading statements, journeys and clients"},
		{db, "", "listCollections", "reading the journeys collection's options"},
		{db, "", "listIndexes", "finding the statements index"},
		{db, journeys, "insert", "creating journeys through the API"},
		{db, journeys, "update", "editing journeys and their recalculation status"},
		{db, journeys, "remove", "deleting journeys through the API"},
	}
}

// missingPrivileges returns, in order, each of needs that no privilege in
// have grants.
func missingPrivileges(have []Privilege, needs []Need) []string {
	var missing []string
	for _, n := range needs {
		if !slices.ContainsFunc(have, func(p Privilege) bool {
			return p.Resource.covers(n.DB, n.Collection) && slices.Contains(p.Actions, n.Action)
		}) {
			missing = append(missing, n.String())
		}
	}
	return missing
}

// unauthorizedHelp turns an Unauthorized error of a command journeysd sent
// into one that names the privilege to grant.
func unauthorizedHelp(err error, n Need) error {
	if err == nil || !isUnauthorized(err) {
		return err
	}
	return fmt.Errorf("the MongoDB user lacks the privilege %s: grant it (or the role readWrite on database %s), "+
		"or build the index out of band and start journeysd with --no-index-build: %w", n, n.DB, err)
}

// isUnauthorized reports whether err is MongoDB's Unauthorized (13).
func isUnauthorized(err error) bool {
	return err != nil && (hasCode(err, 13) || strings.Contains(err.Error(), "not authorized"))
}
