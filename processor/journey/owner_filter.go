package journey

import (
	"bytes"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

// OwnerFilter returns the MongoDB query that selects the stored statement
// documents of the owner whose key is key (from AppendOwnerKey): for a
// persona {"person._id": id}; for an actor the equality on its inverse
// functional identifier under statement.actor ({"statement.actor.mbox": …},
// or both members of account). It narrows a scan (LL's indexes on
// person._id and statement.actor.* serve it); it selects a superset when an
// actor also carries a second IFI, which AppendOwnerKey does not track, so
// the caller still compares each document's owner key.
func OwnerFilter(key []byte) (bson.D, error) {
	if len(key) < 2 {
		return nil, fmt.Errorf("owner key %q: too short", key)
	}
	body := key[1:]
	switch key[0] {
	case keyMbox:
		return bson.D{{Key: "statement.actor.mbox", Value: string(body)}}, nil
	case keyMboxSHA1:
		return bson.D{{Key: "statement.actor.mbox_sha1sum", Value: string(body)}}, nil
	case keyOpenID:
		return bson.D{{Key: "statement.actor.openid", Value: string(body)}}, nil
	case keyAccount:
		homePage, name, ok := bytes.Cut(body, []byte{0})
		if !ok || len(homePage) == 0 || len(name) == 0 {
			return nil, fmt.Errorf("owner key %q: malformed account", key)
		}
		return bson.D{
			{Key: "statement.actor.account.homePage", Value: string(homePage)},
			{Key: "statement.actor.account.name", Value: string(name)},
		}, nil
	case keyPersona:
		if len(key) != personaKeyLen {
			return nil, fmt.Errorf("owner key %q: persona id must be 12 bytes", key)
		}
		return bson.D{{Key: "person._id", Value: primitive.ObjectID(body)}}, nil
	}
	return nil, fmt.Errorf("owner key %q: unknown kind %q", key, key[0])
}

// PersonaKey returns the owner key of the persona id.
func PersonaKey(id primitive.ObjectID) []byte {
	return append([]byte{keyPersona}, id[:]...)
}
