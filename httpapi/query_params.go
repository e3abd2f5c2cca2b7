package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Nothing a client sends is silently ignored: a query parameter that an
// operation does not document in the OpenAPI document is a 400 naming it.
// The OpenAPI document is the single list of what each route reads, so a
// client of Learning Locker's models API sending what LL accepts and
// journeysd does not (populate, distinct, hint, …) learns it at once
// instead of getting a result that silently differs.

// queryParams maps "METHOD path" (OpenAPI path syntax) to the query
// parameters of the operation, sorted.
type queryParams map[string][]string

// documentedQueryParams reads the query parameters of every operation of
// an OpenAPI document, resolving references to components.parameters.
func documentedQueryParams(doc []byte) (queryParams, error) {
	type param struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	}
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters map[string]param `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	type operation struct {
		Parameters []param `json:"parameters"`
	}
	out := queryParams{}
	for path, item := range d.Paths {
		var shared operation // the path item's parameters, shared by its operations
		if raw, ok := item["parameters"]; ok {
			if err := json.Unmarshal([]byte(`{"parameters":`+string(raw)+`}`), &shared); err != nil {
				return nil, fmt.Errorf("openapi document: %s: %w", path, err)
			}
		}
		for method, raw := range item {
			if !isOperation(method) {
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi document: %s %s: %w", method, path, err)
			}
			names := []string{}
			for _, p := range slices.Concat(shared.Parameters, op.Parameters) {
				if p.Ref != "" {
					ref, ok := d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
					if !ok {
						return nil, fmt.Errorf("openapi document: %s %s: unresolved parameter %s", method, path, p.Ref)
					}
					p = ref
				}
				if p.In == "query" {
					names = append(names, p.Name)
				}
			}
			slices.Sort(names)
			out[strings.ToUpper(method)+" "+path] = names
		}
	}
	return out, nil
}

// check returns a 400 for the first query parameter of r that the route
// rt does not document. A request to an alias route (/api/v2/journey/count,
// routed through /api/v2/journey/:id) is checked against the alias: its
// path, canonical by then, names it exactly.
func (qp queryParams) check(rt route, r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return errBadRequest("query string", "malformed: "+err.Error())
	}
	known, ok := qp[rt.method+" "+r.URL.Path]
	if !ok {
		known = qp[rt.method+" "+openAPIPath(rt.pattern)]
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, found := slices.BinarySearch(known, name); found {
			continue
		}
		accepts := "no query parameters"
		if len(known) > 0 {
			accepts = "only " + strings.Join(known, ", ")
		}
		return errBadRequest(name, fmt.Sprintf("unknown or unsupported query parameter: %s %s accepts %s", rt.method, openAPIPath(rt.pattern), accepts))
	}
	return nil
}
