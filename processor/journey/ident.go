package journey

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// Ident decodes an owner key (from AppendOwnerKey or OwnerKeyFromIdent)
// into the identity the API and callbacks show: for an actor
// {"mbox": …, "objectType": "Agent"} (or mbox_sha1sum, openid, or
// "account": {"homePage": …, "name": …}); for a persona
// {"persona": "<24 hex>"} — the persona's display name is not part of the
// key (see PersonaDisplay).
func Ident(key []byte) (map[string]any, error) {
	if len(key) < 2 {
		return nil, fmt.Errorf("owner key %q: too short", key)
	}
	body := key[1:]
	switch key[0] {
	case keyMbox:
		return agent("mbox", string(body)), nil
	case keyMboxSHA1:
		return agent("mbox_sha1sum", string(body)), nil
	case keyOpenID:
		return agent("openid", string(body)), nil
	case keyAccount:
		homePage, name, ok := bytes.Cut(body, []byte{0})
		if !ok || len(homePage) == 0 || len(name) == 0 {
			return nil, fmt.Errorf("owner key %q: malformed account", key)
		}
		return agent("account", map[string]any{"homePage": string(homePage), "name": string(name)}), nil
	case keyPersona:
		if len(key) != personaKeyLen {
			return nil, fmt.Errorf("owner key %q: persona id must be 12 bytes", key)
		}
		return map[string]any{"persona": primitive.ObjectID(body).Hex()}, nil
	}
	return nil, fmt.Errorf("owner key %q: unknown kind %q", key, key[0])
}

// agent builds an actor identity holding one IFI.
func agent(ifi string, value any) map[string]any {
	return map[string]any{ifi: value, "objectType": "Agent"}
}

// OwnerKeyFromIdent returns the owner key of an identity given by an API
// user, for progress lookups: for TrackByActor an object holding exactly one
// IFI — {"mbox": "mailto:a@b.c"}, {"mbox_sha1sum": …}, {"openid": …} or
// {"account": {"homePage": …, "name": …}} — whose other members (name,
// objectType) are ignored as they are for statements; for TrackByPersona
// {"persona": "<24 hex>"}. Values are taken exactly, with no normalisation,
// as statements are compared. It inverts Ident.
func OwnerKeyFromIdent(by TrackBy, ident map[string]any) ([]byte, error) {
	switch by {
	case TrackByActor:
		return actorKeyFromIdent(ident)
	case TrackByPersona:
		hex, ok := ident["persona"].(string)
		if !ok {
			return nil, errors.New(`persona ident: "persona" must be a string`)
		}
		id, err := primitive.ObjectIDFromHex(hex)
		if err != nil {
			return nil, fmt.Errorf("persona ident: %w", err)
		}
		return append([]byte{keyPersona}, id[:]...), nil
	}
	return nil, fmt.Errorf("ident: unknown trackBy %q", by)
}

// actorKeyFromIdent implements OwnerKeyFromIdent for TrackByActor.
func actorKeyFromIdent(ident map[string]any) ([]byte, error) {
	var key []byte
	found := 0
	for _, ifi := range [...]string{"mbox", "mbox_sha1sum", "openid", "account"} {
		v, ok := ident[ifi]
		if !ok || v == nil {
			continue
		}
		if found++; found > 1 {
			return nil, errors.New("actor ident: more than one of mbox, mbox_sha1sum, openid, account")
		}
		if ifi == "account" {
			var err error
			if key, err = accountKey(v); err != nil {
				return nil, err
			}
			continue
		}
		s, ok := v.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("actor ident: %s must be a non-empty string", ifi)
		}
		key = append([]byte{ifiTag([]byte(ifi))}, s...)
	}
	if found == 0 {
		return nil, errors.New("actor ident: needs one of mbox, mbox_sha1sum, openid, account")
	}
	return key, nil
}

// accountKey encodes an ident's account member.
func accountKey(v any) ([]byte, error) {
	account, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("actor ident: account must be an object")
	}
	homePage, ok1 := account["homePage"].(string)
	name, ok2 := account["name"].(string)
	if !ok1 || !ok2 || homePage == "" || name == "" {
		return nil, errors.New("actor ident: account needs non-empty homePage and name strings")
	}
	if strings.IndexByte(homePage, 0) >= 0 {
		return nil, errors.New("actor ident: account homePage must not contain NUL")
	}
	key := append([]byte{keyAccount}, homePage...)
	return append(append(key, 0), name...), nil
}
