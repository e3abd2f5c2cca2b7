// Package ui serves the journeys page: a single page under /ui/ that lists
// the journeys with their status, draws a journey's funnel, looks up a
// learner's attempts, and edits journeys.
//
// The editor creates, changes, deactivates and deletes journeys. Waypoint
// conditions are built from common clauses (verb, activity id and type,
// result success, scaled score range, context parent and grouping) or
// written as raw JSON, and both round-trip to the conditions string the
// journey stores. As the operator types, each waypoint's conditions are
// tested against the organisation's recent statements
// (POST /api/v2/journey/conditions/test). The API's validation errors are
// shown at their fields, the page says what a save does to progress before
// it is made, and a recalculation's status is followed live after it.
//
// The page is static — index.html, the ES modules app.js, editor.js and
// condition.js, and app.css, embedded in the binary — and reads and writes
// everything through the same authenticated HTTP API as any other client
// (package httpapi), so it needs no server-side state and grants nothing
// the API does not. Credentials typed into its sign-in form
// live in a JavaScript variable only: never in storage, cookies or URLs.
//
// Mount the handler beside the API on the same origin, so the page's API
// requests are same-origin:
//
//	mux.Handle("/ui/", ui.Handler())
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the path the page is served under.
const Prefix = "/ui/"

// assets holds the page's files.
//
//go:embed static
var assets embed.FS

// securityPolicy confines the page to its own files and the API on its own
// origin. Loading nothing from elsewhere is an acceptance rule, and with
// inline scripts refused an injected string can never run as code, even if
// some rendering path forgot to treat API data as text.
const securityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentType returns the type of the page's files by extension, or "".
// It is fixed rather than read from mime.TypeByExtension, which consults
// the host's MIME tables and so could vary between machines.
func contentType(ext string) string {
	switch ext {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return ""
}

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler returns the handler serving the page under Prefix: the page at
// Prefix itself (and at Prefix + "index.html"), its scripts and styles
// beside it. It answers GET and HEAD only; other paths are 404.
//
// Responses carry a strong ETag and "Cache-Control: no-cache", so a
// browser revalidates (a cheap 304) and never runs a stale page after an
// upgrade of the daemon.
func Handler() http.Handler {
	files, err := load(assets)
	if err != nil {
		// The files are embedded at build time; failing to read them is a
		// build defect that no caller could handle.
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, files)
	})
}

// load reads every file under static into assets keyed by their path under
// Prefix ("" is the page itself).
func load(fsys fs.FS) (map[string]*asset, error) {
	files := map[string]*asset{}
	err := fs.WalkDir(fsys, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("ui: read %s: %w", name, err)
		}
		ct := contentType(path.Ext(name))
		if ct == "" {
			return fmt.Errorf("ui: %s: no content type for its extension", name)
		}
		sum := sha256.Sum256(body)
		files[strings.TrimPrefix(name, "static/")] = &asset{
			body:        body,
			contentType: ct,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	index, ok := files["index.html"]
	if !ok {
		return nil, fmt.Errorf("ui: static/index.html is missing")
	}
	files[""] = index
	return files, nil
}

// serve answers one request from files.
func serve(w http.ResponseWriter, r *http.Request, files map[string]*asset) {
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	a := files[name]
	if !ok || a == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", securityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// ServeContent answers If-None-Match with 304 and HEAD without a body;
	// the zero modification time leaves the ETag as the only validator.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
