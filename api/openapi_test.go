package api

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/nearby/nearby"
)

// loadSpec parses the embedded OpenAPI document.
func loadSpec(t *testing.T) map[string]any {
	t.Helper()
	if len(OpenAPI) == 0 {
		t.Fatal("embedded openapi.yaml is empty")
	}
	var doc map[string]any
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml is not valid YAML: %v", err)
	}
	return doc
}

// get walks doc along keys, each a map key; it fails the test if a step is
// missing or not a string-keyed map.
func get(t *testing.T, doc any, keys ...string) any {
	t.Helper()
	cur := doc
	for i, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: not a map with string keys (%T)", strings.Join(keys[:i], "."), cur)
		}
		cur, ok = m[k]
		if !ok {
			t.Fatalf("%s: missing", strings.Join(keys[:i+1], "."))
		}
	}
	return cur
}

func asMap(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: want a map with string keys, got %T", what, v)
	}
	return m
}

func asList(t *testing.T, v any, what string) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: want a list, got %T", what, v)
	}
	return l
}

// resolve follows a local reference ("#/a/b") from the document root, or
// any reference object it lands on, and returns the target.
func resolve(t *testing.T, doc map[string]any, v any) any {
	t.Helper()
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		target, err := pointer(doc, ref)
		if err != nil {
			t.Fatalf("$ref %q: %v", ref, err)
		}
		v = target
	}
	t.Fatalf("reference chain too long")
	return nil
}

// pointer resolves a local reference: "#" followed by an RFC 6901 JSON
// pointer, percent-encoded as a URI fragment.
func pointer(doc map[string]any, ref string) (any, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("not a reference within this document")
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, err
	}
	if frag == "" {
		return doc, nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("fragment is not a JSON pointer")
	}
	var cur any = doc
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("no %q", tok)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("no element %q", tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("cannot step into %T with %q", cur, tok)
		}
	}
	return cur, nil
}

func TestVersionAndInfo(t *testing.T) {
	doc := loadSpec(t)
	if v, _ := doc["openapi"].(string); v != "3.1.0" {
		t.Errorf("openapi = %#v, want \"3.1.0\"", doc["openapi"])
	}
	if v := get(t, doc, "info", "title"); v != "nearby searchd" {
		t.Errorf("info.title = %#v", v)
	}
	if v := get(t, doc, "info", "version"); v != "1.0.0" {
		t.Errorf("info.version = %#v", v)
	}
	if v, _ := get(t, doc, "info", "description").(string); strings.TrimSpace(v) == "" {
		t.Error("info.description is empty")
	}
	servers := asList(t, get(t, doc, "servers"), "servers")
	if len(servers) == 0 || asMap(t, servers[0], "servers[0]")["url"] != "http://localhost:8080" {
		t.Errorf("servers = %v, want http://localhost:8080 first", servers)
	}
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestPaths checks that exactly the routes searchd serves are described,
// each with GET only, and with the statuses the handlers can answer.
func TestPaths(t *testing.T) {
	doc := loadSpec(t)
	paths := asMap(t, get(t, doc, "paths"), "paths")
	want := map[string][]string{
		"/v1/search/nearby":   {"200", "400", "409", "414", "503"},
		"/v1/businesses/{id}": {"200", "400", "404", "503"},
		"/healthz":            {"200"},
		"/readyz":             {"200", "503"},
		"/metrics":            {"200"},
		"/openapi.yaml":       {"200"},
	}
	for p := range paths {
		if _, ok := want[p]; !ok {
			t.Errorf("path %s is described but searchd does not serve it", p)
		}
	}
	opIDs := map[string]string{}
	for p, codes := range want {
		item, ok := paths[p]
		if !ok {
			t.Errorf("path %s is missing", p)
			continue
		}
		item = resolve(t, doc, item)
		pi := asMap(t, item, p)
		for _, m := range methods {
			if _, ok := pi[m]; ok && m != "get" {
				t.Errorf("%s: method %s is described but only GET is served", p, m)
			}
		}
		op, ok := pi["get"].(map[string]any)
		if !ok {
			t.Errorf("%s: no get operation", p)
			continue
		}
		if id, _ := op["operationId"].(string); id == "" {
			t.Errorf("GET %s: no operationId", p)
		} else if prev, dup := opIDs[id]; dup {
			t.Errorf("GET %s: operationId %q already used by %s", p, id, prev)
		} else {
			opIDs[id] = p
		}
		responses := asMap(t, op["responses"], "GET "+p+" responses")
		for _, c := range codes {
			if _, ok := responses[c]; !ok {
				t.Errorf("GET %s: response %s missing", p, c)
			}
		}
		// Every error an operation describes is a problem document.
		for c, r := range responses {
			if c >= "400" {
				content := asMap(t, get(t, resolve(t, doc, r), "content"), "GET "+p+" "+c+" content")
				if _, ok := content["application/problem+json"]; !ok || len(content) != 1 {
					t.Errorf("GET %s: response %s is not only application/problem+json", p, c)
				}
			}
		}
		// Every path template variable is a required path parameter.
		for _, name := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(p, -1) {
			found := false
			for _, prm := range params(t, doc, op, pi) {
				if prm["name"] == name[1] && prm["in"] == "path" && prm["required"] == true {
					found = true
				}
			}
			if !found {
				t.Errorf("GET %s: no required path parameter %q", p, name[1])
			}
		}
	}

	// The search answers JSON or GeoJSON, chosen by format.
	ok200 := resolve(t, doc, get(t, paths, "/v1/search/nearby", "get", "responses", "200"))
	content := asMap(t, get(t, ok200, "content"), "nearby 200 content")
	for _, mt := range []string{"application/json", "application/geo+json"} {
		if _, ok := content[mt]; !ok {
			t.Errorf("GET /v1/search/nearby 200: no %s content", mt)
		}
	}
	ready503 := resolve(t, doc, get(t, paths, "/readyz", "get", "responses", "503"))
	if _, ok := asMap(t, get(t, ready503, "headers"), "readyz 503 headers")["Retry-After"]; !ok {
		t.Error("GET /readyz 503: no Retry-After header")
	}
}

// params returns the resolved parameters of an operation and its path item.
func params(t *testing.T, doc map[string]any, op, item map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, src := range []map[string]any{item, op} {
		if l, ok := src["parameters"]; ok {
			for i, p := range asList(t, l, "parameters") {
				out = append(out, asMap(t, resolve(t, doc, p), fmt.Sprintf("parameters[%d]", i)))
			}
		}
	}
	return out
}

// TestNearbyParameters checks the search's query parameters against the
// limits in package nearby.
func TestNearbyParameters(t *testing.T) {
	doc := loadSpec(t)
	op := asMap(t, get(t, doc, "paths", "/v1/search/nearby", "get"), "nearby get")
	byName := map[string]map[string]any{}
	for _, p := range params(t, doc, op, asMap(t, get(t, doc, "paths", "/v1/search/nearby"), "nearby")) {
		if p["in"] == "query" {
			byName[p["name"].(string)] = p
		}
	}
	var names []string
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"category", "cursor", "format", "lat", "limit", "lon", "radius"}
	if !slices.Equal(names, want) {
		t.Fatalf("query parameters = %v, want %v", names, want)
	}
	for _, n := range []string{"lat", "lon"} {
		if byName[n]["required"] != true {
			t.Errorf("%s is not required", n)
		}
	}
	num := func(v any) float64 {
		switch x := v.(type) {
		case int:
			return float64(x)
		case float64:
			return x
		}
		t.Fatalf("%#v is not a number", v)
		return 0
	}
	schema := func(n string) map[string]any { return asMap(t, resolve(t, doc, byName[n]["schema"]), n+" schema") }
	checks := []struct {
		param, key string
		want       float64
	}{
		{"lat", "minimum", -90}, {"lat", "maximum", 90},
		{"lon", "minimum", -180}, {"lon", "maximum", 180},
		{"radius", "exclusiveMinimum", 0}, {"radius", "maximum", nearby.MaxRadiusM}, {"radius", "default", nearby.DefaultRadiusM},
		{"limit", "minimum", 1}, {"limit", "maximum", nearby.MaxLimit}, {"limit", "default", nearby.DefaultLimit},
	}
	for _, c := range checks {
		v, ok := schema(c.param)[c.key]
		if !ok {
			t.Errorf("%s schema: no %s", c.param, c.key)
		} else if num(v) != c.want {
			t.Errorf("%s schema: %s = %v, want %v", c.param, c.key, v, c.want)
		}
	}
	if f := asList(t, schema("format")["enum"], "format enum"); !slices.Equal(f, []any{"json", "geojson"}) {
		t.Errorf("format enum = %v, want [json geojson]", f)
	}
}

// TestRefsResolve checks that every $ref points inside the document at
// something that exists.
func TestRefsResolve(t *testing.T) {
	doc := loadSpec(t)
	n := 0
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"]; ok {
				n++
				s, ok := ref.(string)
				if !ok {
					t.Errorf("%s: $ref is %T, not a string", at, ref)
				} else if target, err := pointer(doc, s); err != nil {
					t.Errorf("%s: $ref %q does not resolve: %v", at, s, err)
				} else if _, ok := target.(map[string]any); !ok {
					t.Errorf("%s: $ref %q points at a %T, not an object", at, s, target)
				}
			}
			for k, e := range x {
				walk(e, at+"/"+k)
			}
		case []any:
			for i, e := range x {
				walk(e, at+"/"+strconv.Itoa(i))
			}
		case map[any]any:
			t.Errorf("%s: map with non-string keys (quote numeric keys such as response codes)", at)
		}
	}
	walk(doc, "#")
	if n == 0 {
		t.Error("no $ref found; the walk is broken")
	}
}

// TestCategoryEnum checks that the spec's categories are exactly the
// domain's, in the same order.
func TestCategoryEnum(t *testing.T) {
	doc := loadSpec(t)
	enum := asList(t, get(t, doc, "components", "schemas", "Category", "enum"), "Category enum")
	var got []string
	for _, e := range enum {
		s, ok := e.(string)
		if !ok {
			t.Fatalf("Category enum holds %#v, not a string", e)
		}
		got = append(got, s)
	}
	if want := nearby.CategoryNames(); !slices.Equal(got, want) {
		t.Errorf("Category enum = %v\nwant nearby.CategoryNames() = %v", got, want)
	}
	// The category parameter takes a list of that enum.
	p := resolve(t, doc, get(t, doc, "components", "parameters", "Category"))
	items := resolve(t, doc, get(t, p, "schema", "items"))
	if !slices.Equal(asList(t, get(t, items, "enum"), "category items enum"), enum) {
		t.Error("category parameter items are not the Category enum")
	}
}
