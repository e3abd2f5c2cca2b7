package xapitest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Account is an xAPI account identifier: an actor's name on a system.
type Account struct {
	HomePage string
	Name     string
}

// Actor is one learner of a Generator's pool. Exactly one of Mbox,
// MboxSHA1Sum, OpenID and Account is set: the actor's inverse functional
// identifier (IFI). Which one depends on the actor's index i: i%8 in 0..4 is
// an mbox, 5 an mbox_sha1sum, 6 an openid and 7 an account, so that every IFI
// kind occurs in a pool of at least eight actors while mbox dominates, as in
// real LRS traffic.
type Actor struct {
	// Name is the display name; it does not identify the actor.
	Name string
	// Mbox is a "mailto:" IRI.
	Mbox string
	// MboxSHA1Sum is the hex SHA-1 of a "mailto:" IRI.
	MboxSHA1Sum string
	// OpenID is an OpenID URI.
	OpenID string
	// Account is an account on a home page.
	Account *Account
	// Person is the Learning Locker persona id stored as person._id.
	Person primitive.ObjectID
	// PersonaIdentifier is the id stored as personaIdentifier.
	PersonaIdentifier primitive.ObjectID
}

// Ident returns the actor's IFI in the string form Learning Locker stores in
// a document's agents and relatedAgents arrays: the mbox, the sha1sum, the
// openid, or "homePage|name" for an account.
func (a *Actor) Ident() string {
	switch {
	case a.Mbox != "":
		return a.Mbox
	case a.MboxSHA1Sum != "":
		return a.MboxSHA1Sum
	case a.OpenID != "":
		return a.OpenID
	default:
		return a.Account.HomePage + "|" + a.Account.Name
	}
}

// IFI returns the actor's IFI as a one-element document, exactly as it
// appears in statement.actor (e.g. {mbox: "mailto:…"}).
func (a *Actor) IFI() bson.D {
	switch {
	case a.Mbox != "":
		return bson.D{{Key: "mbox", Value: a.Mbox}}
	case a.MboxSHA1Sum != "":
		return bson.D{{Key: "mbox_sha1sum", Value: a.MboxSHA1Sum}}
	case a.OpenID != "":
		return bson.D{{Key: "openid", Value: a.OpenID}}
	default:
		return bson.D{{Key: "account", Value: bson.D{
			{Key: "homePage", Value: a.Account.HomePage},
			{Key: "name", Value: a.Account.Name},
		}}}
	}
}

// document returns the actor as statement.actor.
func (a *Actor) document() bson.D {
	d := bson.D{
		{Key: "objectType", Value: "Agent"},
		{Key: "name", Value: a.Name},
	}
	return append(d, a.IFI()...)
}

// newActor builds the actor at index i, drawing its name and ids from g.
func (g *Generator) newActor(i int) Actor {
	firstNames := [...]string{"Ada", "Ben", "Chloé", "Dev", "Emeka", "Fatima", "Goran", "Hana", "Ivo", "Jun"}
	lastNames := [...]string{"Okafor", "Smith", "Nakamura", "García", "Novak", "Haddad", "Lindqvist", "Rossi"}
	a := Actor{
		Name:              firstNames[g.rng.IntN(len(firstNames))] + " " + lastNames[g.rng.IntN(len(lastNames))],
		Person:            g.objectID(),
		PersonaIdentifier: g.objectID(),
	}
	mbox := fmt.Sprintf("mailto:learner%d@example.org", i)
	switch i % 8 {
	case 5:
		sum := sha1.Sum([]byte(mbox))
		a.MboxSHA1Sum = hex.EncodeToString(sum[:])
	case 6:
		a.OpenID = fmt.Sprintf("https://openid.example.org/learner%d", i)
	case 7:
		a.Account = &Account{HomePage: "https://sso.example.org", Name: fmt.Sprintf("learner%d", i)}
	default:
		a.Mbox = mbox
	}
	return a
}
