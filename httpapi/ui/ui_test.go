package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/journeys/journeys/httpapi/ui"
)

// newServer serves the page as the daemon mounts it, with a stand-in for
// the API at every other path.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(ui.Prefix, ui.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get sends a request and returns the response with its body read.
func get(t *testing.T, srv *httptest.Server, method, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	// Do not follow redirects: they are asserted.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

func TestServesAssets(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/ui/", "text/html; charset=utf-8", `<script type="module" src="app.js"></script>`},
		{"/ui/index.html", "text/html; charset=utf-8", `<form id="signin"`},
		{"/ui/app.js", "text/javascript; charset=utf-8", "import { createEditor } from './editor.js';"},
		{"/ui/editor.js", "text/javascript; charset=utf-8", "export function createEditor("},
		{"/ui/condition.js", "text/javascript; charset=utf-8", "export function toQuery("},
		{"/ui/app.css", "text/css; charset=utf-8", "prefers-color-scheme"},
		{"/ui/icon.svg", "image/svg+xml", "<svg"},
	} {
		res, body := get(t, srv, http.MethodGet, tc.path, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", tc.path, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, directive := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "form-action 'none'"} {
			if !strings.Contains(csp, directive) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", tc.path, csp, directive)
			}
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: headers %v", tc.path, res.Header)
		}
	}
}

func TestRevalidatesWithETag(t *testing.T) {
	srv := newServer(t)
	res, _ := get(t, srv, http.MethodGet, "/ui/app.js", nil)
	etag := res.Header.Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(etag) {
		t.Fatalf("ETag %q is not a quoted digest", etag)
	}
	res, body := get(t, srv, http.MethodGet, "/ui/app.js", http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("conditional GET: status %d, %d body bytes; want 304 and none", res.StatusCode, len(body))
	}
	other, _ := get(t, srv, http.MethodGet, "/ui/app.css", nil)
	if other.Header.Get("ETag") == etag {
		t.Errorf("app.css and app.js share the ETag %s", etag)
	}
}

func TestMethodsAndPaths(t *testing.T) {
	srv := newServer(t)
	res, body := get(t, srv, http.MethodHead, "/ui/", nil)
	if res.StatusCode != http.StatusOK || body != "" || res.ContentLength <= 0 {
		t.Errorf("HEAD /ui/: status %d, length %d, %d body bytes", res.StatusCode, res.ContentLength, len(body))
	}
	res, _ = get(t, srv, http.MethodPost, "/ui/", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /ui/: status %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
	for _, path := range []string{"/ui/missing.js", "/ui/static/app.js", "/ui/app.js/"} {
		if res, _ := get(t, srv, http.MethodGet, path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, res.StatusCode)
		}
	}
	// The mount redirects the bare prefix to the page and leaves every
	// other path to the API.
	res, _ = get(t, srv, http.MethodGet, "/ui", nil)
	if res.StatusCode/100 != 3 || res.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /ui: status %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := get(t, srv, http.MethodGet, "/api/v2/journey", nil); res.StatusCode != http.StatusTeapot {
		t.Errorf("GET /api/v2/journey reached the page handler: status %d", res.StatusCode)
	}
	// A handler mounted without the mux still refuses paths outside the
	// prefix.
	rec := httptest.NewRecorder()
	ui.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/app.js", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /app.js on the bare handler: status %d, want 404", rec.Code)
	}
}

// TestPageIsSelfContained checks that every file the page references is
// served and that nothing is loaded from another origin.
func TestPageIsSelfContained(t *testing.T) {
	srv := newServer(t)
	_, page := get(t, srv, http.MethodGet, "/ui/", nil)
	_, css := get(t, srv, http.MethodGet, "/ui/app.css", nil)
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("page references %d files, want at least the script, the styles and the icon", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if ref == "#main" {
			continue
		}
		if strings.Contains(ref, ":") || strings.HasPrefix(ref, "/") {
			t.Errorf("page references %q: not a file beside it", ref)
			continue
		}
		if res, _ := get(t, srv, http.MethodGet, "/ui/"+ref, nil); res.StatusCode != http.StatusOK {
			t.Errorf("page references %q: status %d", ref, res.StatusCode)
		}
	}
	if strings.Contains(css, "url(") || strings.Contains(css, "@import") {
		t.Error("app.css loads a resource")
	}
	// The scripts are modules: app.js and what it imports, transitively.
	imports := regexp.MustCompile(`(?m)^import .* from '\./([a-z]+\.js)';$`)
	seen := map[string]bool{}
	for queue := []string{"app.js"}; len(queue) > 0; queue = queue[1:] {
		name := queue[0]
		if seen[name] {
			continue
		}
		seen[name] = true
		res, js := get(t, srv, http.MethodGet, "/ui/"+name, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", name, res.StatusCode)
			continue
		}
		if regexp.MustCompile(`https?://`).MatchString(js) || strings.Contains(js, "innerHTML") || strings.Contains(js, "insertAdjacentHTML") {
			t.Errorf("%s names another origin or writes HTML", name)
		}
		for _, m := range imports.FindAllStringSubmatch(js, -1) {
			queue = append(queue, m[1])
		}
	}
	if !seen["editor.js"] || !seen["condition.js"] {
		t.Errorf("the modules reached from app.js are %v, want editor.js and condition.js among them", seen)
	}
}
