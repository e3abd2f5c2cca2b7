// Package docs holds the design document the code cites; its test checks
// that every citation resolves.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDesignReferencesResolve: every "docs/design.md §n" in the
// repository's Go, JSON and Markdown files names a section that exists,
// and no file cites a design document that is not in the repository (the
// "SPEC §n" of a spec kept elsewhere).
func TestDesignReferencesResolve(t *testing.T) {
	raw, err := os.ReadFile("design.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## (\d+)\. `).FindAllStringSubmatch(string(raw), -1) {
		sections[m[1]] = true
	}
	if len(sections) != 11 {
		t.Fatalf("design.md has sections %v, want 1 to 11", sections)
	}
	cite := regexp.MustCompile(`design\.md (?:\\u00a7|§)(\d+)`)
	foreign := regexp.MustCompile(`\bSPEC (?:\\u00a7|§)\d+`)
	refs := 0
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "node_modules" || name == ".git" || strings.HasPrefix(name, ".") && name != ".." {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".json", ".md", ".js", ".yml":
		default:
			return nil
		}
		if filepath.Base(path) == "design_test.go" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range cite.FindAllStringSubmatch(string(b), -1) {
			refs++
			if !sections[m[1]] {
				t.Errorf("%s cites docs/design.md §%s, which does not exist", path, m[1])
			}
		}
		for _, m := range foreign.FindAllString(string(b), -1) {
			t.Errorf("%s cites %q: cite docs/design.md §n, the design document in the repository", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if refs == 0 {
		t.Fatal("no citation found: is the walk looking at the repository?")
	}
}
