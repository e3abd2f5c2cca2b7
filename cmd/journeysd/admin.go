package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// adminCredential is the static API credential for standalone use, bound
// to an organisation and, for statements ingested with it on the embedded
// store, to a store (lrs_id).
type adminCredential struct {
	Key          string             `json:"key"`
	Secret       string             `json:"secret"`
	Organisation primitive.ObjectID `json:"organisation"`
	Store        primitive.ObjectID `json:"store"`
}

const adminFile = "admin.json"

// loadAdmin returns the admin credential: flags win; what they leave empty
// comes from the data directory's admin.json, or is generated once and
// written there (mode 0600), so that it stays the same across restarts.
func loadAdmin(cfg serveConfig) (adminCredential, error) {
	path := filepath.Join(cfg.DataDir, adminFile)
	var a adminCredential
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &a); err != nil {
			return a, fmt.Errorf("read %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return a, fmt.Errorf("read admin credential: %w", err)
	}
	changed := false
	set := func(dst *string, flag string, gen func() string) {
		switch {
		case flag != "":
			*dst = flag
		case *dst == "":
			*dst, changed = gen(), true
		}
	}
	set(&a.Key, cfg.AdminKey, func() string { return randomHex(12) })
	set(&a.Secret, cfg.AdminSecret, func() string { return randomHex(24) })
	if cfg.AdminOrg != "" {
		id, err := primitive.ObjectIDFromHex(cfg.AdminOrg)
		if err != nil {
			return a, fmt.Errorf("--admin-organisation: %w", err)
		}
		a.Organisation = id
	} else if a.Organisation.IsZero() {
		a.Organisation, changed = primitive.NewObjectID(), true
	}
	if a.Store.IsZero() {
		a.Store, changed = primitive.NewObjectID(), true
	}
	if changed {
		b, err := json.MarshalIndent(a, "", "  ")
		if err != nil {
			return a, err
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return a, fmt.Errorf("write admin credential: %w", err)
		}
	}
	return a, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
