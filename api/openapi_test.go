package api

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/ratelimit"
	"github.com/nearby/nearby/internal/web"
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

// routes are the paths searchd serves (internal/httpapi, internal/web), with
// the statuses GET can answer on each.
// Every route but the internal shard API is rate-limited by the built-in
// rules, hence its 429 (TestRateLimits checks that against the middleware).
var routes = map[string][]string{
	"/v1/search/nearby":                  {"200", "400", "409", "414", "429", "500", "503"},
	"/v1/businesses/{id}":                {"200", "400", "404", "414", "429", "500", "503"},
	"/v1/index":                          {"200", "400", "414", "429", "503"},
	"/v1/index/density":                  {"200", "400", "404", "414", "429", "500", "503"},
	"/v1/cities":                         {"200", "400", "414", "429", "500"},
	"/":                                  {"200", "206", "304", "412", "414", "416", "429", "500"},
	"/static/{name}":                     {"200", "206", "304", "404", "412", "414", "416", "429", "500"},
	"/healthz":                           {"200", "414", "429"},
	"/readyz":                            {"200", "414", "429", "503"},
	"/metrics":                           {"200", "429"},
	"/openapi.yaml":                      {"200", "414", "429"},
	"/internal/v1/shard/nearby":          {"200", "400", "414", "500", "503"},
	"/internal/v1/shard/businesses/{id}": {"200", "400", "404", "414", "500", "503"},
}

// notProblems are the error responses that are not problem documents: the
// conditional and range failures Go's http.ServeContent writes itself.
var notProblems = map[string]bool{
	"/ 412": true, "/ 416": true,
	"/static/{name} 412": true, "/static/{name} 416": true,
}

// TestPaths checks that exactly the routes searchd serves are described,
// each with GET and HEAD only (every route answers HEAD like GET), with
// the statuses the handlers can answer.
func TestPaths(t *testing.T) {
	doc := loadSpec(t)
	paths := asMap(t, get(t, doc, "paths"), "paths")
	for p := range paths {
		if _, ok := routes[p]; !ok {
			t.Errorf("path %s is described but searchd does not serve it", p)
		}
	}
	declared := map[string]bool{}
	for i, tag := range asList(t, get(t, doc, "tags"), "tags") {
		name, _ := asMap(t, tag, fmt.Sprintf("tags[%d]", i))["name"].(string)
		declared[name] = true
	}
	opIDs := map[string]string{}
	for p, codes := range routes {
		item, ok := paths[p]
		if !ok {
			t.Errorf("path %s is missing", p)
			continue
		}
		item = resolve(t, doc, item)
		pi := asMap(t, item, p)
		for _, m := range methods {
			if _, ok := pi[m]; ok && m != "get" && m != "head" {
				t.Errorf("%s: method %s is described but only GET and HEAD are served", p, m)
			}
		}
		ops := map[string]map[string]any{}
		for _, m := range []string{"get", "head"} {
			op, ok := pi[m].(map[string]any)
			if !ok {
				t.Errorf("%s: no %s operation", p, m)
				continue
			}
			ops[m] = op
			what := strings.ToUpper(m) + " " + p
			if id, _ := op["operationId"].(string); id == "" {
				t.Errorf("%s: no operationId", what)
			} else if prev, dup := opIDs[id]; dup {
				t.Errorf("%s: operationId %q already used by %s", what, id, prev)
			} else {
				opIDs[id] = what
			}
			// One declared tag; internal for the internal API only.
			tags := asList(t, op["tags"], what+" tags")
			if len(tags) != 1 || !declared[fmt.Sprint(tags[0])] {
				t.Errorf("%s: tags %v, want one declared tag", what, tags)
			} else if internal := strings.HasPrefix(p, "/internal/"); (tags[0] == "internal") != internal {
				t.Errorf("%s: tag %v (the internal tag is for /internal/ paths, and they have it)", what, tags[0])
			}
			// Every response carries the request id.
			for c, r := range asMap(t, op["responses"], what+" responses") {
				r := asMap(t, resolve(t, doc, r), what+" "+c)
				h, _ := r["headers"].(map[string]any)
				if _, ok := h["X-Request-Id"]; !ok {
					t.Errorf("%s: response %s has no X-Request-Id header", what, c)
				}
				if c == "503" {
					if _, ok := h["Retry-After"]; !ok && m == "get" {
						t.Errorf("%s: response 503 has no Retry-After header", what)
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
					t.Errorf("%s: no required path parameter %q", what, name[1])
				}
			}
		}
		getOp, headOp := ops["get"], ops["head"]
		if getOp == nil {
			continue
		}
		responses := asMap(t, getOp["responses"], "GET "+p+" responses")
		var got []string
		for c := range responses {
			got = append(got, c)
		}
		slices.Sort(got)
		if !slices.Equal(got, codes) {
			t.Errorf("GET %s: responses %v, want %v", p, got, codes)
		}
		// Every error an operation describes is a problem document.
		for c, r := range responses {
			if c >= "400" && !notProblems[p+" "+c] {
				content := asMap(t, get(t, resolve(t, doc, r), "content"), "GET "+p+" "+c+" content")
				if _, ok := content["application/problem+json"]; !ok || len(content) != 1 {
					t.Errorf("GET %s: response %s is not only application/problem+json", p, c)
				}
			}
		}
		if headOp == nil {
			continue
		}
		// HEAD is GET without a body: same parameters, same statuses.
		paramKeys := func(op map[string]any) []string {
			var keys []string
			for _, prm := range params(t, doc, op, pi) {
				keys = append(keys, fmt.Sprint(prm["in"], ":", prm["name"]))
			}
			return keys
		}
		if g, h := paramKeys(getOp), paramKeys(headOp); !slices.Equal(g, h) {
			t.Errorf("HEAD %s: parameters %v, GET has %v", p, h, g)
		}
		headResponses := asMap(t, headOp["responses"], "HEAD "+p+" responses")
		var headCodes []string
		for c, r := range headResponses {
			headCodes = append(headCodes, c)
			if _, ok := asMap(t, resolve(t, doc, r), "HEAD "+p+" "+c)["content"]; ok {
				t.Errorf("HEAD %s: response %s has content", p, c)
			}
		}
		slices.Sort(headCodes)
		if !slices.Equal(headCodes, got) {
			t.Errorf("HEAD %s: responses %v, GET has %v", p, headCodes, got)
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
	// A 405 says which methods are served.
	allow := resolve(t, doc, get(t, doc, "components", "responses", "MethodNotAllowed", "headers", "Allow"))
	if c := get(t, allow, "schema", "const"); c != "GET, HEAD" {
		t.Errorf("405 Allow header = %#v, want \"GET, HEAD\"", c)
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

// queryParams returns the resolved query parameters of GET path by name.
func queryParams(t *testing.T, doc map[string]any, path string) map[string]map[string]any {
	t.Helper()
	item := asMap(t, get(t, doc, "paths", path), path)
	op := asMap(t, get(t, item, "get"), path+" get")
	byName := map[string]map[string]any{}
	for _, p := range params(t, doc, op, item) {
		if p["in"] == "query" {
			byName[p["name"].(string)] = p
		}
	}
	return byName
}

func number(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	t.Fatalf("%#v is not a number", v)
	return 0
}

// bound is an expected keyword of a parameter's schema.
type bound struct {
	param, key string
	want       float64
}

// checkQuery checks that GET path takes exactly the query parameters of
// want (name → required) and that their schemas have the bounds.
func checkQuery(t *testing.T, doc map[string]any, path string, want map[string]bool, bounds []bound) {
	t.Helper()
	byName := queryParams(t, doc, path)
	var got, names []string
	for n := range byName {
		got = append(got, n)
	}
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(got)
	slices.Sort(names)
	if !slices.Equal(got, names) {
		t.Errorf("GET %s: query parameters %v, want %v", path, got, names)
		return
	}
	for n, req := range want {
		if (byName[n]["required"] == true) != req {
			t.Errorf("GET %s: %s required = %v, want %v", path, n, byName[n]["required"], req)
		}
	}
	for _, b := range bounds {
		schema := asMap(t, resolve(t, doc, byName[b.param]["schema"]), path+" "+b.param+" schema")
		if v, ok := schema[b.key]; !ok {
			t.Errorf("GET %s: %s schema has no %s", path, b.param, b.key)
		} else if number(t, v) != b.want {
			t.Errorf("GET %s: %s schema %s = %v, want %v", path, b.param, b.key, v, b.want)
		}
	}
}

// TestExplorerParameters checks the explorer endpoints' parameters against
// the limits in package web.
func TestExplorerParameters(t *testing.T) {
	doc := loadSpec(t)
	checkQuery(t, doc, "/v1/index", map[string]bool{}, nil)
	checkQuery(t, doc, "/v1/index/density",
		map[string]bool{"min_lat": true, "min_lon": true, "max_lat": true, "max_lon": true, "cols": false, "rows": false, "category": false},
		[]bound{
			{"min_lat", "minimum", -90}, {"min_lat", "maximum", 90}, {"max_lat", "minimum", -90}, {"max_lat", "maximum", 90},
			{"min_lon", "minimum", -180}, {"min_lon", "maximum", 180}, {"max_lon", "minimum", -180}, {"max_lon", "maximum", 180},
			{"cols", "minimum", 1}, {"cols", "maximum", web.MaxDensityCells}, {"cols", "default", 64},
			{"rows", "minimum", 1}, {"rows", "maximum", web.MaxDensityCells}, {"rows", "default", 64},
		})
	checkQuery(t, doc, "/v1/cities", map[string]bool{"q": false, "limit": false}, []bound{
		{"q", "maxLength", web.MaxCityQueryBytes},
		{"limit", "minimum", 1}, {"limit", "maximum", web.MaxCityLimit}, {"limit", "default", web.DefaultCityLimit},
	})
	// The density answer holds at most MaxDensityCells counts.
	counts := get(t, doc, "components", "schemas", "Density", "properties", "counts")
	if v := number(t, get(t, counts, "maxItems")); v != web.MaxDensityCells {
		t.Errorf("Density counts maxItems = %v, want %d", v, web.MaxDensityCells)
	}
	// The density's category parameter is the search's (same parsing).
	if got, want := queryParams(t, doc, "/v1/index/density")["category"], resolve(t, doc, get(t, doc, "components", "parameters", "Category")); !reflect.DeepEqual(got, want) {
		t.Errorf("density category parameter is %v, want the Category parameter", got)
	}
}

// TestShardParameters checks the internal shard API's parameters.
func TestShardParameters(t *testing.T) {
	doc := loadSpec(t)
	checkQuery(t, doc, "/internal/v1/shard/nearby",
		map[string]bool{"region": true, "lat": true, "lon": true, "radius": true, "limit": true, "category": false, "after_distance": false, "after_id": false},
		[]bound{
			{"lat", "minimum", -90}, {"lat", "maximum", 90}, {"lon", "minimum", -180}, {"lon", "maximum", 180},
			{"radius", "exclusiveMinimum", 0}, {"radius", "maximum", nearby.MaxRadiusM},
			// The asking node asks for one more result than its page.
			{"limit", "minimum", 1}, {"limit", "maximum", nearby.MaxLimit + 1},
			{"category", "minimum", 0}, {"category", "maximum", math.MaxUint32},
		})
	checkQuery(t, doc, "/internal/v1/shard/businesses/{id}", map[string]bool{"region": true}, nil)
	results := get(t, doc, "components", "schemas", "ShardAnswer", "properties", "results")
	if v := number(t, get(t, results, "maxItems")); v != nearby.MaxLimit+1 {
		t.Errorf("ShardAnswer results maxItems = %v, want %d", v, nearby.MaxLimit+1)
	}
}

// TestAssetNames checks that the asset names are exactly the embedded
// files of the map explorer.
func TestAssetNames(t *testing.T) {
	doc := loadSpec(t)
	p := resolve(t, doc, get(t, doc, "components", "parameters", "AssetName"))
	var names []string
	for _, e := range asList(t, get(t, p, "schema", "enum"), "AssetName enum") {
		names = append(names, fmt.Sprint(e))
	}
	files, err := os.ReadDir("../internal/web/static")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		if !f.IsDir() {
			want = append(want, f.Name())
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("AssetName enum = %v, want the files of internal/web/static %v", names, want)
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

// sample fills a path template with values the routes accept.
func sample(path string) string {
	return strings.NewReplacer("{id}", "1207", "{name}", "app.js").Replace(path)
}

// classOf returns the first class of rules with a route matching the
// request, as "[METHOD ]PATH" patterns read (PATH exact, or a prefix when
// it ends in "*"), or nil. TestRateLimits checks it against the middleware.
func classOf(rules *ratelimit.Rules, method, path string) *ratelimit.Class {
	for i, c := range rules.Classes {
		for _, rt := range c.Routes {
			m, p, ok := strings.Cut(rt, " ")
			if !ok {
				m, p = "", rt
			}
			if m != "" && m != method {
				continue
			}
			if prefix, isPrefix := strings.CutSuffix(p, "*"); p == path || isPrefix && strings.HasPrefix(path, prefix) {
				return &rules.Classes[i]
			}
		}
	}
	return nil
}

// limited is what the rate-limiting middleware with a service's built-in
// rules did to a request from a client that is not exempt.
type limited struct {
	class   string      // from the decision metric; "" if none was taken
	headers http.Header // of the last response
	status  int
	body    []byte
}

// throughLimiter sends n requests (method, path) from 192.0.2.1 through
// the middleware with the service's built-in rules, and returns what
// happened to the last.
func throughLimiter(t *testing.T, service, method, path string, n int) limited {
	t.Helper()
	reg := prometheus.NewRegistry()
	h := ratelimit.Middleware(ratelimit.Config{
		Service: service, Rules: ratelimit.Defaults(service), Local: ratelimit.NewLocal(),
		Logger: slog.New(slog.DiscardHandler), Registerer: reg,
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var w *httptest.ResponseRecorder
	for range n {
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil)) // from 192.0.2.1
	}
	out := limited{headers: w.Header(), status: w.Code, body: w.Body.Bytes()}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == "nearby_ratelimit_requests_total" && l.GetName() == "class" {
					out.class = l.GetValue()
				}
			}
		}
	}
	return out
}

// rateLimitHeaders are the headers of every response to a limited request.
var rateLimitHeaders = []string{ratelimit.HeaderLimit, ratelimit.HeaderRemaining, ratelimit.HeaderRetryAfter}

// checkRateLimits checks a document against a service's built-in rate
// limits and the middleware: every operation states its class in
// x-rate-limit (class, limit, window) as the rules sort its requests;
// every response of a limited operation documents the X-Ratelimit-*
// headers and a limited operation has a 429 (tooMany for the methods with
// a body, head for HEAD); an unlimited one has neither; and the documented
// 429 has every header the middleware sends with it, and a body the
// Problem schema describes.
func checkRateLimits(t *testing.T, doc map[string]any, service, tooMany, head string) {
	t.Helper()
	rules := ratelimit.Defaults(service)
	paths := asMap(t, get(t, doc, "paths"), "paths")
	nLimited := 0
	for p, item := range paths {
		pi := asMap(t, resolve(t, doc, item), p)
		for _, m := range methods {
			opv, ok := pi[m]
			if !ok {
				continue
			}
			op := asMap(t, opv, m+" "+p)
			method, what := strings.ToUpper(m), strings.ToUpper(m)+" "+p
			xrl, ok := op["x-rate-limit"].(map[string]any)
			if !ok {
				t.Errorf("%s: no x-rate-limit", what)
				continue
			}
			class := classOf(rules, method, sample(p))
			if class == nil {
				t.Errorf("%s: no class of the %s rules matches; every route has one", what, service)
				continue
			}
			if xrl["class"] != class.Name || number(t, xrl["limit"]) != float64(class.Limit) {
				t.Errorf("%s: x-rate-limit %v, but the %s rules put it in class %q, limit %d", what, xrl, service, class.Name, class.Limit)
			}
			if class.Limit > 0 {
				if w, _ := xrl["window"].(string); w != class.Window.String() && !equalDuration(w, class.Window) {
					t.Errorf("%s: x-rate-limit window %v, want %v", what, xrl["window"], class.Window)
				}
			} else if _, ok := xrl["window"]; ok {
				t.Errorf("%s: x-rate-limit has a window but the class is not limited", what)
			}
			// The middleware agrees with classOf.
			got := throughLimiter(t, service, method, sample(p), 1)
			if class.Limit > 0 && (got.class != class.Name || got.headers.Get(ratelimit.HeaderLimit) != strconv.Itoa(class.Limit)) ||
				class.Limit == 0 && (got.class != "" || got.headers.Get(ratelimit.HeaderLimit) != "") {
				t.Errorf("%s: the middleware limits it as class %q (%s: %q), not as %q", what, got.class,
					ratelimit.HeaderLimit, got.headers.Get(ratelimit.HeaderLimit), class.Name)
			}

			responses := asMap(t, op["responses"], what+" responses")
			_, has429 := responses["429"]
			if has429 != (class.Limit > 0) {
				t.Errorf("%s: 429 documented = %v, but class %q has limit %d", what, has429, class.Name, class.Limit)
			}
			if class.Limit > 0 {
				nLimited++
				want := tooMany
				if m == "head" {
					want = head
				}
				if ref, _ := asMap(t, responses["429"], what+" 429")["$ref"].(string); has429 && ref != "#/components/responses/"+want {
					t.Errorf("%s: 429 is %q, want the %s response", what, ref, want)
				}
			}
			for c, r := range responses {
				h, _ := asMap(t, resolve(t, doc, r), what+" "+c)["headers"].(map[string]any)
				for _, name := range rateLimitHeaders {
					if _, ok := h[name]; ok != (class.Limit > 0) {
						t.Errorf("%s: response %s documents %s = %v, but class %q has limit %d", what, c, name, ok, class.Name, class.Limit)
					}
				}
			}
		}
	}
	if nLimited == 0 {
		t.Fatal("no limited operation: the walk is broken")
	}

	// The 429 the middleware writes: every header documented (but
	// Content-Type, which the media type says), and a problem document.
	var limitedClass *ratelimit.Class
	for i := range rules.Classes {
		if rules.Classes[i].Limit > 0 {
			limitedClass = &rules.Classes[i]
			break
		}
	}
	method, path, _ := strings.Cut(limitedClass.Routes[0], " ")
	path = strings.Replace(path, "*", "1207", 1)
	got := throughLimiter(t, service, method, path, limitedClass.Limit+1)
	if got.status != http.StatusTooManyRequests {
		t.Fatalf("%s %s, request %d of a limit of %d: %d, want 429", method, path, limitedClass.Limit+1, limitedClass.Limit, got.status)
	}
	resp := asMap(t, resolve(t, doc, get(t, doc, "components", "responses", tooMany)), tooMany)
	documented := asMap(t, resp["headers"], tooMany+" headers")
	for name := range got.headers {
		if _, ok := documented[name]; !ok && name != "Content-Type" {
			t.Errorf("%s: the middleware's 429 carries %s, not documented", tooMany, name)
		}
	}
	for _, name := range append([]string{"Retry-After"}, rateLimitHeaders...) {
		if _, ok := documented[name]; !ok {
			t.Errorf("%s: no %s header", tooMany, name)
		}
	}
	ra := asMap(t, resolve(t, doc, documented["Retry-After"]), "429 Retry-After")
	if number(t, get(t, ra, "schema", "minimum")) != 1 {
		t.Errorf("%s: Retry-After schema %v, want an integer of at least 1", tooMany, ra["schema"])
	}
	content := asMap(t, resp["content"], tooMany+" content")
	if _, ok := content["application/problem+json"]; !ok || len(content) != 1 || got.headers.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s: content %v; the middleware sends %s", tooMany, content, got.headers.Get("Content-Type"))
	}
	var body map[string]any
	if err := json.Unmarshal(got.body, &body); err != nil {
		t.Fatalf("429 body %q: %v", got.body, err)
	}
	props := asMap(t, get(t, resolve(t, doc, get(t, doc, "components", "schemas", "Problem")), "properties"), "Problem properties")
	for k := range body {
		if _, ok := props[k]; !ok {
			t.Errorf("the middleware's 429 has %q, not a Problem property", k)
		}
	}
	for _, ex := range asMap(t, get(t, content, "application/problem+json", "examples"), tooMany+" examples") {
		v := asMap(t, get(t, resolve(t, doc, ex), "value"), tooMany+" example")
		if number(t, v["status"]) != 429 || v["title"] != "Too Many Requests" ||
			!regexp.MustCompile(`^rate limit exceeded: at most [1-9][0-9]* [a-z_-]+ requests per [0-9a-z.]+; retry in [1-9][0-9]* s$`).MatchString(fmt.Sprint(v["detail"])) {
			t.Errorf("%s example %v is not what the middleware writes (%s)", tooMany, v, got.body)
		}
	}

	// Loopback clients are exempt by default, and the document says so.
	if *rules.ExemptLoopback {
		if d, _ := get(t, doc, "info", "description").(string); !regexp.MustCompile(`(?i)loopback clients are exempt`).MatchString(d) {
			t.Errorf("%s exempts loopback clients; info.description does not say \"loopback clients are exempt\"", service)
		}
	}
}

// equalDuration reports whether s parses as d.
func equalDuration(s string, d time.Duration) bool {
	v, err := time.ParseDuration(s)
	return err == nil && v == d
}

// TestRateLimits checks searchd's document against its built-in rate limits.
func TestRateLimits(t *testing.T) {
	doc := loadSpec(t)
	checkRateLimits(t, doc, "searchd", "TooManyRequests", "Head")
	// The internal API's responses are not shared with limited routes.
	for _, name := range []string{"Head", "QueryTooLong", "InternalError", "NotLoaded", "StaleCursor", "MethodNotAllowed"} {
		h := asMap(t, get(t, doc, "components", "responses", name, "headers"), name)
		for _, hn := range rateLimitHeaders {
			if _, ok := h[hn]; !ok {
				t.Errorf("response %s: no %s", name, hn)
			}
		}
	}
	// The headers' schemas.
	for name, min := range map[string]float64{"XRatelimitLimit": 1, "XRatelimitRemaining": 0, "XRatelimitRetryAfter": 0, "RetryAfterRateLimit": 1} {
		s := asMap(t, get(t, doc, "components", "headers", name, "schema"), name)
		if s["type"] != "integer" || number(t, s["minimum"]) != min {
			t.Errorf("header %s schema %v, want an integer of at least %v", name, s, min)
		}
	}
}

// TestBusinessDetail checks the schema of GET /v1/businesses/{id} against
// internal/httpapi: the full record has exactly the fields of detailJSON,
// the summary exactly those of the index's Business, and both are allowed.
func TestBusinessDetail(t *testing.T) {
	doc := loadSpec(t)
	schema := func(name string) map[string]any {
		return asMap(t, get(t, doc, "components", "schemas", name), name)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	toStrings := func(l []any) []string {
		var out []string
		for _, e := range l {
			out = append(out, fmt.Sprint(e))
		}
		slices.Sort(out)
		return out
	}
	full := jsonFields(t, "../internal/httpapi/detail.go", "detailJSON")
	if len(full) != 13 {
		t.Fatalf("detailJSON has %d fields %v; this test expects 13", len(full), full)
	}
	slices.Sort(full)
	detail := schema("BusinessDetail")
	if got := keys(asMap(t, detail["properties"], "BusinessDetail properties")); !slices.Equal(got, full) {
		t.Errorf("BusinessDetail properties %v, want detailJSON's %v", got, full)
	}
	summary := keys(asMap(t, schema("Business")["properties"], "Business properties"))
	if got := toStrings(asList(t, detail["required"], "BusinessDetail required")); !slices.Equal(got, summary) {
		t.Errorf("BusinessDetail required %v, want the summary's fields %v", got, summary)
	}
	if detail["additionalProperties"] != false {
		t.Error("BusinessDetail allows additional properties")
	}
	extra := slices.DeleteFunc(slices.Clone(full), func(f string) bool { return slices.Contains(summary, f) })
	branches := asList(t, detail["oneOf"], "BusinessDetail oneOf")
	if len(branches) != 2 {
		t.Fatalf("BusinessDetail oneOf has %d branches, want summary and full", len(branches))
	}
	if got := toStrings(asList(t, get(t, branches[0], "propertyNames", "enum"), "summary branch")); !slices.Equal(got, summary) {
		t.Errorf("summary branch allows %v, want %v", got, summary)
	}
	if got := toStrings(asList(t, get(t, branches[1], "required"), "full branch")); !slices.Equal(got, extra) {
		t.Errorf("full branch requires %v, want %v", got, extra)
	}
	// The examples: one of each shape.
	shapes := map[string]bool{}
	ok200 := get(t, doc, "paths", "/v1/businesses/{id}", "get", "responses", "200", "content", "application/json")
	if ref, _ := get(t, ok200, "schema", "$ref").(string); ref != "#/components/schemas/BusinessDetail" {
		t.Errorf("GET /v1/businesses/{id} 200 schema is %q, want BusinessDetail", ref)
	}
	for name, ex := range asMap(t, get(t, ok200, "examples"), "200 examples") {
		got := keys(asMap(t, get(t, ex, "value"), name))
		switch {
		case slices.Equal(got, summary):
			shapes["summary"] = true
		case slices.Equal(got, full):
			shapes["full"] = true
		default:
			t.Errorf("example %s has fields %v: neither the summary nor the full record", name, got)
		}
	}
	if !shapes["summary"] || !shapes["full"] {
		t.Errorf("examples of shapes %v, want both summary and full", shapes)
	}
	// The detail fields' limits are owner-api's, which validates them.
	props := asMap(t, detail["properties"], "properties")
	for _, c := range []struct {
		field, key string
		want       int
	}{
		{"address", "maxLength", nearby.MaxAddressChars}, {"city", "maxLength", nearby.MaxCityChars},
		{"state", "maxLength", nearby.MaxStateChars}, {"zip", "maxLength", nearby.MaxZipChars},
		{"description", "maxLength", nearby.MaxDescriptionBytes}, {"photos", "maxItems", nearby.MaxPhotos},
	} {
		if got := number(t, get(t, props, c.field, c.key)); got != float64(c.want) {
			t.Errorf("BusinessDetail %s %s = %v, want %d", c.field, c.key, got, c.want)
		}
	}
	// With --db, a replica that cannot be reached is a 503 with Retry-After.
	r503 := get(t, doc, "paths", "/v1/businesses/{id}", "get", "responses", "503")
	if _, ok := asMap(t, get(t, r503, "headers"), "503 headers")["Retry-After"]; !ok {
		t.Error("GET /v1/businesses/{id} 503: no Retry-After")
	}
	found := false
	for _, ex := range asMap(t, get(t, r503, "content", "application/problem+json", "examples"), "503 examples") {
		if get(t, ex, "value", "detail") == "the database is unavailable; retry later" {
			found = true
		}
	}
	if !found {
		t.Error("GET /v1/businesses/{id} 503: no example of the replica being unavailable")
	}
}

// jsonFields returns the JSON names of the fields of struct typ declared
// in the Go file at path.
func jsonFields(t *testing.T, path, typ string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != typ {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			t.Fatalf("%s is not a struct", typ)
		}
		for _, fld := range st.Fields.List {
			if fld.Tag == nil {
				t.Fatalf("%s: field without a json tag", typ)
			}
			tag, _ := strconv.Unquote(fld.Tag.Value)
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
			out = append(out, name)
		}
		return false
	})
	if out == nil {
		t.Fatalf("%s: no struct %s", path, typ)
	}
	return out
}
