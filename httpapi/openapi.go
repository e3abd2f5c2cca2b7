package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// openAPITemplate describes every route the API can serve. Routes that
// depend on the configuration (ingest, replay, metrics) are removed from
// the served document when they are not routed, so that the document
// always matches the router.
//
//go:embed openapi.json
var openAPITemplate []byte

// openAPIPath converts an httprouter pattern to an OpenAPI path.
func openAPIPath(pattern string) string {
	segs := strings.Split(pattern, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// renderOpenAPI returns the OpenAPI document of routes: the template
// without the operations that are not routed. It fails when the template
// lacks a route, which the package's tests catch.
func renderOpenAPI(routes []route) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPITemplate, &doc); err != nil {
		return nil, fmt.Errorf("openapi template: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	routed := map[string]map[string]bool{}
	for _, rt := range routes {
		p := openAPIPath(rt.pattern)
		if routed[p] == nil {
			routed[p] = map[string]bool{}
		}
		m := strings.ToLower(rt.method)
		routed[p][m] = true
		item, _ := paths[p].(map[string]any)
		if _, ok := item[m]; !ok {
			return nil, fmt.Errorf("openapi template: no operation %s %s", rt.method, p)
		}
	}
	for p, v := range paths {
		item, _ := v.(map[string]any)
		for m := range item {
			if isOperation(m) && !routed[p][m] {
				delete(item, m)
			}
		}
		if len(routed[p]) == 0 {
			delete(paths, p)
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	return b, nil
}

// isOperation reports whether a path item member is an HTTP method.
func isOperation(member string) bool {
	switch member {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}
