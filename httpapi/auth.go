package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/journeys/journeys/processor/lrs"
)

const (
	// authCacheTTL bounds how long a client's credentials (or their
	// absence) are reused without reading the client collection: a revoked
	// or changed client takes effect within it.
	authCacheTTL = 10 * time.Second
	// authCacheMax bounds the cache; a flood of unknown keys empties it
	// rather than growing it.
	authCacheMax = 4096
)

// authenticator checks HTTP Basic credentials against the LRS client
// collection and the static admin credential.
type authenticator struct {
	clients lrs.ClientStore // nil: no clients
	admin   *credential     // nil when no admin is configured
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]*credential // by basic key
}

// credential is a key's secret digest and the principal it authenticates.
// A credential with a nil principal caches "no usable client".
type credential struct {
	secret  [sha256.Size]byte
	p       *Principal
	expires time.Time
}

// clientDoc is what the API reads of a Learning Locker client document.
type clientDoc struct {
	ID           primitive.ObjectID `bson:"_id"`
	Organisation primitive.ObjectID `bson:"organisation"`
	LRS          primitive.ObjectID `bson:"lrs_id"`
	Scopes       []string           `bson:"scopes"`
	IsTrusted    *bool              `bson:"isTrusted"`
	API          struct {
		Key    string `bson:"basic_key"`
		Secret string `bson:"basic_secret"`
	} `bson:"api"`
}

func newAuthenticator(clients lrs.ClientStore, admin Admin, now func() time.Time) *authenticator {
	a := &authenticator{clients: clients, now: now, cache: map[string]*credential{}}
	if admin.Key != "" {
		id := sha256.Sum256([]byte("journeys admin\x00" + admin.Key))
		a.admin = &credential{
			secret: secretDigest(admin.Key, admin.Secret),
			p: &Principal{
				ID:           primitive.ObjectID(id[:12]),
				Organisation: admin.Organisation,
				Store:        admin.Store,
				Scopes:       []string{ScopeAll},
				Admin:        true,
			},
		}
	}
	return a
}

// secretDigest hashes a key and secret together, so that comparing digests
// in constant time compares both without leaking their lengths.
func secretDigest(key, secret string) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s", len(key), key)
	h.Write([]byte(secret))
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// errUnauthorized is the answer to missing or wrong credentials; it never
// says which part was wrong.
func errUnauthorized(msg string) *apiError {
	return &apiError{status: http.StatusUnauthorized, msg: msg, authenticate: true}
}

// authenticate returns the principal of r's credentials.
func (a *authenticator) authenticate(ctx context.Context, r *http.Request) (*Principal, error) {
	key, secret, ok := r.BasicAuth()
	if !ok || key == "" {
		return nil, errUnauthorized("HTTP Basic credentials are required")
	}
	digest := secretDigest(key, secret)
	if a.admin != nil && subtle.ConstantTimeCompare(digest[:], a.admin.secret[:]) == 1 {
		return a.admin.p, nil
	}
	c, err := a.lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	if c.p == nil || subtle.ConstantTimeCompare(digest[:], c.secret[:]) != 1 {
		return nil, errUnauthorized("invalid credentials")
	}
	return c.p, nil
}

// lookup returns the cached credential of key, reading the client
// collection when it is missing or expired.
func (a *authenticator) lookup(ctx context.Context, key string) (*credential, error) {
	now := a.now()
	a.mu.Lock()
	c, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c, nil
	}
	c, err := a.load(ctx, key)
	if err != nil {
		return nil, err
	}
	c.expires = now.Add(authCacheTTL)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= authCacheMax {
		for k, old := range a.cache {
			if !now.Before(old.expires) {
				delete(a.cache, k)
			}
		}
		if len(a.cache) >= authCacheMax {
			clear(a.cache)
		}
	}
	a.cache[key] = c
	return c, nil
}

// load reads the client of key. A key with no usable client (absent,
// untrusted, without an organisation or a secret, or not decodable) yields
// a credential without principal.
func (a *authenticator) load(ctx context.Context, key string) (*credential, error) {
	if a.clients == nil {
		return &credential{}, nil
	}
	raw, err := a.clients.Client(ctx, key)
	if errors.Is(err, lrs.ErrNotFound) {
		return &credential{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read client: %w", errUnavailable, err)
	}
	var doc clientDoc
	if err := bson.Unmarshal(raw, &doc); err != nil {
		return &credential{}, nil
	}
	if doc.API.Secret == "" || doc.Organisation.IsZero() || (doc.IsTrusted != nil && !*doc.IsTrusted) {
		return &credential{}, nil
	}
	return &credential{
		secret: secretDigest(key, doc.API.Secret),
		p: &Principal{
			ID:           doc.ID,
			Organisation: doc.Organisation,
			Store:        doc.LRS,
			Scopes:       doc.Scopes,
		},
	}, nil
}
