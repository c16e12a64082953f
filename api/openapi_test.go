package api

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"maps"
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
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/promtest"
	"github.com/nearby/nearby/internal/ratelimit"
	"github.com/nearby/nearby/internal/web"
	"github.com/nearby/nearby/textmatch"
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
// the statuses GET (POST for the postOnly routes) can answer on each.
// Every route but the internal shard API is rate-limited by the built-in
// rules, hence its 429 (TestRateLimits checks that against the middleware).
var routes = map[string][]string{
	"/v1/search/nearby":                  {"200", "400", "409", "414", "429", "500", "503"},
	"/v1/search/box":                     {"200", "400", "409", "414", "429", "500", "503"},
	"/v1/search/within":                  {"200", "400", "409", "413", "414", "415", "429", "500", "503"},
	"/internal/v1/shard/area":            {"200", "400", "414", "500", "503"},
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
	"/internal/v1/shard/density":         {"200", "400", "414", "500", "503"},
}

// postOnly are the routes served for POST only: the polygon search, whose
// polygon is the request body. Every other route serves GET and HEAD.
var postOnly = map[string]bool{"/v1/search/within": true, "/internal/v1/shard/area": true}

// notProblems are the error responses that are not problem documents: the
// conditional and range failures Go's http.ServeContent writes itself.
var notProblems = map[string]bool{
	"/ 412": true, "/ 416": true,
	"/static/{name} 412": true, "/static/{name} 416": true,
}

// TestPaths checks that exactly the routes searchd serves are described,
// each with GET and HEAD only (every route answers HEAD like GET) or, for
// the postOnly routes, POST only, with the statuses the handlers can answer.
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
		served := []string{"get", "head"}
		if postOnly[p] {
			served = []string{"post"}
		}
		for _, m := range methods {
			if _, ok := pi[m]; ok && !slices.Contains(served, m) {
				t.Errorf("%s: method %s is described but only %v are served", p, m, served)
			}
		}
		ops := map[string]map[string]any{}
		for _, m := range served {
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
					if _, ok := h["Retry-After"]; !ok && m != "head" {
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
		// GET, or POST for a postOnly route.
		mainOp, headOp := ops[served[0]], ops["head"]
		if mainOp == nil {
			continue
		}
		what := strings.ToUpper(served[0]) + " " + p
		responses := asMap(t, mainOp["responses"], what+" responses")
		var got []string
		for c := range responses {
			got = append(got, c)
		}
		slices.Sort(got)
		if !slices.Equal(got, codes) {
			t.Errorf("%s: responses %v, want %v", what, got, codes)
		}
		// Every error an operation describes is a problem document.
		for c, r := range responses {
			if c >= "400" && !notProblems[p+" "+c] {
				content := asMap(t, get(t, resolve(t, doc, r), "content"), what+" "+c+" content")
				if _, ok := content["application/problem+json"]; !ok || len(content) != 1 {
					t.Errorf("%s: response %s is not only application/problem+json", what, c)
				}
			}
		}
		// Only POST takes a body.
		if _, ok := mainOp["requestBody"]; ok != postOnly[p] {
			t.Errorf("%s: requestBody described = %v", what, ok)
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
		if g, h := paramKeys(mainOp), paramKeys(headOp); !slices.Equal(g, h) {
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

	// The searches answer JSON or GeoJSON, chosen by format.
	for p, m := range map[string]string{"/v1/search/nearby": "get", "/v1/search/box": "get", "/v1/search/within": "post"} {
		ok200 := resolve(t, doc, get(t, paths, p, m, "responses", "200"))
		content := asMap(t, get(t, ok200, "content"), p+" 200 content")
		for _, mt := range []string{"application/json", "application/geo+json"} {
			if _, ok := content[mt]; !ok {
				t.Errorf("%s %s 200: no %s content", strings.ToUpper(m), p, mt)
			}
		}
		if len(content) != 2 {
			t.Errorf("%s %s 200: content %v, want JSON and GeoJSON only", strings.ToUpper(m), p, slices.Sorted(maps.Keys(content)))
		}
	}
	ready503 := resolve(t, doc, get(t, paths, "/readyz", "get", "responses", "503"))
	if _, ok := asMap(t, get(t, ready503, "headers"), "readyz 503 headers")["Retry-After"]; !ok {
		t.Error("GET /readyz 503: no Retry-After header")
	}
	// A 405 says which methods are served.
	allow := resolve(t, doc, get(t, doc, "components", "responses", "MethodNotAllowed", "headers", "Allow"))
	if e := get(t, allow, "schema", "enum"); !reflect.DeepEqual(e, []any{"GET, HEAD", "POST"}) {
		t.Errorf("405 Allow header values %#v, want GET, HEAD and POST", e)
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
// limits in package nearby and the handler's list of parameters.
func TestNearbyParameters(t *testing.T) {
	doc := loadSpec(t)
	want := map[string]bool{"lat": true, "lon": true}
	for _, n := range []string{"radius", "limit", "category", "price", "min_rating", "open_now", "open_at", "q", "sort", "total", "fields", "cursor", "format"} {
		want[n] = false
	}
	checkQuery(t, doc, "/v1/search/nearby", want, []bound{
		{"lat", "minimum", -90}, {"lat", "maximum", 90},
		{"lon", "minimum", -180}, {"lon", "maximum", 180},
		{"radius", "exclusiveMinimum", 0}, {"radius", "maximum", nearby.MaxRadiusM}, {"radius", "default", nearby.DefaultRadiusM},
		{"limit", "minimum", 1}, {"limit", "maximum", nearby.MaxLimit}, {"limit", "default", nearby.DefaultLimit},
		{"min_rating", "minimum", 0}, {"min_rating", "maximum", nearby.MaxRatingTenths / 10},
		{"q", "maxLength", textmatch.MaxQueryBytes},
	})
	// In the order the handler names invalid parameters.
	checkOrder(t, doc, "get", "/v1/search/nearby", goStrings(t, "../internal/httpapi/nearby.go", "nearbyParams"))
	checkFilters(t, doc, "get", "/v1/search/nearby")
	checkEnum(t, doc, "get", "/v1/search/nearby", "sort", []any{"distance", "rating"}, "distance")
	checkEnum(t, doc, "get", "/v1/search/nearby", "format", []any{"json", "geojson"}, "json")
	checkBoolean(t, doc, "get", "/v1/search/nearby", "total")
}

// opQueryParams returns the resolved query parameters of an operation by
// name.
func opQueryParams(t *testing.T, doc map[string]any, method, path string) map[string]map[string]any {
	t.Helper()
	item := asMap(t, get(t, doc, "paths", path), path)
	op := asMap(t, get(t, item, method), path+" "+method)
	byName := map[string]map[string]any{}
	for _, p := range params(t, doc, op, item) {
		if p["in"] == "query" {
			byName[p["name"].(string)] = p
		}
	}
	return byName
}

// paramSchema returns the resolved schema of a query parameter.
func paramSchema(t *testing.T, doc map[string]any, method, path, name string) map[string]any {
	t.Helper()
	p, ok := opQueryParams(t, doc, method, path)[name]
	if !ok {
		t.Fatalf("%s %s: no parameter %s", strings.ToUpper(method), path, name)
	}
	return asMap(t, resolve(t, doc, p["schema"]), path+" "+name+" schema")
}

// checkOrder checks that an operation lists its query parameters in the
// order of want (the order the handler names invalid ones in).
func checkOrder(t *testing.T, doc map[string]any, method, path string, want []string) {
	t.Helper()
	item := asMap(t, get(t, doc, "paths", path), path)
	op := asMap(t, get(t, item, method), path+" "+method)
	var got []string
	for _, p := range params(t, doc, op, item) {
		if p["in"] == "query" {
			got = append(got, p["name"].(string))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s %s: query parameters in the order %v, want the handler's %v", strings.ToUpper(method), path, got, want)
	}
}

// checkEnum checks that a string parameter takes exactly the values of
// enum, with a default.
func checkEnum(t *testing.T, doc map[string]any, method, path, name string, enum []any, def string) {
	t.Helper()
	s := paramSchema(t, doc, method, path, name)
	if got, _ := s["enum"].([]any); s["type"] != "string" || !slices.Equal(got, enum) || s["default"] != def {
		t.Errorf("%s %s: %s schema %v, want a string of %v, default %s", strings.ToUpper(method), path, name, s, enum, def)
	}
}

// checkBoolean checks that a parameter is a boolean, false by default.
func checkBoolean(t *testing.T, doc map[string]any, method, path, name string) {
	t.Helper()
	if s := paramSchema(t, doc, method, path, name); s["type"] != "boolean" || s["default"] != false {
		t.Errorf("%s %s: %s schema %v, want a boolean, false by default", strings.ToUpper(method), path, name, s)
	}
}

// checkFilters checks the parameters every search takes alike (filters,
// fields, cursor, format, limit): the price levels and rating bounds of
// package nearby, the handler's result fields, and, for the box and
// polygon searches, the very parameters of the nearby search.
func checkFilters(t *testing.T, doc map[string]any, method, path string) {
	t.Helper()
	what := strings.ToUpper(method) + " " + path
	price := paramSchema(t, doc, method, path, "price")
	items := asMap(t, resolve(t, doc, price["items"]), "price items")
	if price["type"] != "array" || items["type"] != "integer" || number(t, items["minimum"]) != 1 || number(t, items["maximum"]) != float64(nearby.MaxPrice) {
		t.Errorf("%s: price schema %v, want a list of integers in [1, %d]", what, price, nearby.MaxPrice)
	}
	rating := paramSchema(t, doc, method, path, "min_rating")
	if rating["type"] != "number" || number(t, rating["minimum"]) != 0 || number(t, rating["maximum"]) != nearby.MaxRatingTenths/10 {
		t.Errorf("%s: min_rating schema %v, want a number in [0, %d]", what, rating, nearby.MaxRatingTenths/10)
	}
	checkBoolean(t, doc, method, path, "open_now")
	if s := paramSchema(t, doc, method, path, "open_at"); s["type"] != "string" || s["format"] != "date-time" {
		t.Errorf("%s: open_at schema %v, want an RFC 3339 date-time", what, s)
	}
	if s := paramSchema(t, doc, method, path, "q"); s["type"] != "string" || number(t, s["maxLength"]) != textmatch.MaxQueryBytes {
		t.Errorf("%s: q schema %v, want a string of at most %d bytes", what, s, textmatch.MaxQueryBytes)
	}
	fields := paramSchema(t, doc, method, path, "fields")
	enum := asList(t, get(t, resolve(t, doc, fields["items"]), "enum"), "fields enum")
	want := goStrings(t, "../internal/httpapi/params.go", "resultFields")
	if fields["type"] != "array" || !slices.Equal(enum, toAny(want)) {
		t.Errorf("%s: fields schema %v, want a list of the handler's result fields %v", what, fields, want)
	}
	if path == "/v1/search/nearby" {
		return
	}
	nearbyParams := opQueryParams(t, doc, "get", "/v1/search/nearby")
	for n, p := range opQueryParams(t, doc, method, path) {
		if np, ok := nearbyParams[n]; ok && !reflect.DeepEqual(p, np) {
			t.Errorf("%s: parameter %s differs from the nearby search's", what, n)
		}
	}
}

func toAny(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// TestBoxParameters checks the box search's query parameters.
func TestBoxParameters(t *testing.T) {
	doc := loadSpec(t)
	want := map[string]bool{"min_lat": true, "min_lon": true, "max_lat": true, "max_lon": true}
	for _, n := range []string{"limit", "category", "price", "min_rating", "open_now", "open_at", "q", "order", "fields", "cursor", "format"} {
		want[n] = false
	}
	checkQuery(t, doc, "/v1/search/box", want, []bound{
		{"min_lat", "minimum", -90}, {"min_lat", "maximum", 90}, {"max_lat", "minimum", -90}, {"max_lat", "maximum", 90},
		{"min_lon", "minimum", -180}, {"min_lon", "maximum", 180}, {"max_lon", "minimum", -180}, {"max_lon", "maximum", 180},
		{"limit", "minimum", 1}, {"limit", "maximum", nearby.MaxLimit}, {"limit", "default", nearby.DefaultLimit},
		{"min_rating", "minimum", 0}, {"min_rating", "maximum", nearby.MaxRatingTenths / 10},
		{"q", "maxLength", textmatch.MaxQueryBytes},
	})
	checkOrder(t, doc, "get", "/v1/search/box", goStrings(t, "../internal/httpapi/area.go", "boxParams"))
	checkFilters(t, doc, "get", "/v1/search/box")
	checkEnum(t, doc, "get", "/v1/search/box", "order", []any{"id", "distance"}, "id")
	checkEnum(t, doc, "get", "/v1/search/box", "format", []any{"json", "geojson"}, "json")
	// The box's corners are the search's own: min_lat = max_lat and
	// min_lon = max_lon are allowed, unlike the density grid's.
	for _, n := range []string{"min_lat", "min_lon", "max_lat", "max_lon"} {
		if reflect.DeepEqual(opQueryParams(t, doc, "get", "/v1/search/box")[n], opQueryParams(t, doc, "get", "/v1/index/density")[n]) {
			t.Errorf("GET /v1/search/box: %s is the density grid's parameter", n)
		}
	}
}

// TestWithinParameters checks the polygon search: its query parameters,
// and its body against the limits of package geo.
func TestWithinParameters(t *testing.T) {
	doc := loadSpec(t)
	const path = "/v1/search/within"
	want := goStrings(t, "../internal/httpapi/area.go", "withinParams")
	checkOrder(t, doc, "post", path, want)
	for n, p := range opQueryParams(t, doc, "post", path) {
		if p["required"] == true {
			t.Errorf("POST %s: %s is required", path, n)
		}
	}
	checkFilters(t, doc, "post", path)
	body := asMap(t, resolve(t, doc, get(t, doc, "paths", path, "post", "requestBody")), "requestBody")
	if body["required"] != true {
		t.Errorf("POST %s: the body is not required", path)
	}
	content := asMap(t, body["content"], "requestBody content")
	if got := slices.Sorted(maps.Keys(content)); !slices.Equal(got, []string{"application/geo+json", "application/json"}) {
		t.Errorf("POST %s: body media types %v, want application/geo+json and application/json", path, got)
	}
	for mt := range content {
		if ref := get(t, content, mt, "schema", "$ref"); ref != "#/components/schemas/GeoJSONArea" {
			t.Errorf("POST %s: %s body schema %v, want GeoJSONArea", path, mt, ref)
		}
	}
	schemas := asMap(t, get(t, doc, "components", "schemas"), "schemas")
	if v := number(t, get(t, schemas, "GeoJSONMultiPolygon", "properties", "coordinates", "maxItems")); v != geo.MaxPolygons {
		t.Errorf("MultiPolygon maxItems = %v, want %d", v, geo.MaxPolygons)
	}
	if v := number(t, get(t, schemas, "GeoJSONLinearRing", "minItems")); v != 4 {
		t.Errorf("ring minItems = %v, want 4", v)
	}
	for _, s := range []string{"1 MiB", strconv.Itoa(geo.MaxGeoJSONBytes), strconv.Itoa(geo.MaxPolygons) + " polygons", strconv.Itoa(geo.MaxVertices) + " positions"} {
		if d, _ := body["description"].(string); !strings.Contains(strings.Join(strings.Fields(d), " "), s) {
			t.Errorf("POST %s: the body's description does not say %q", path, s)
		}
	}
	if geo.MaxGeoJSONBytes != 1<<20 {
		t.Errorf("geo.MaxGeoJSONBytes = %d; the document says 1 MiB", geo.MaxGeoJSONBytes)
	}
	// The 413 says what the handler says.
	ex := get(t, doc, "paths", path, "post", "responses", "413", "content", "application/problem+json", "examples", "tooLarge", "value", "detail")
	if want := "GeoJSON larger than " + strconv.Itoa(geo.MaxGeoJSONBytes) + " bytes"; ex != want {
		t.Errorf("POST %s 413: detail %q, want %q", path, ex, want)
	}
}

// TestSearchSchemas checks the search answers' schemas against the
// handlers: the result fields, the GeoJSON collection's members, the
// totals and the attributes' bounds.
func TestSearchSchemas(t *testing.T) {
	doc := loadSpec(t)
	schema := func(name string) map[string]any {
		return asMap(t, get(t, doc, "components", "schemas", name), name)
	}
	keys := func(name string, at ...string) []string {
		return slices.Sorted(maps.Keys(asMap(t, get(t, schema(name), at...), name+" "+strings.Join(at, "."))))
	}
	fields := goStrings(t, "../internal/httpapi/params.go", "resultFields")
	sorted := slices.Sorted(slices.Values(fields))
	props := slices.DeleteFunc(slices.Clone(sorted), func(f string) bool { return f == "id" || f == "lat" || f == "lon" })
	for _, c := range []struct {
		name string
		at   []string
		want []string
	}{
		{"SearchResult", []string{"properties"}, sorted},
		{"AreaResult", []string{"properties"}, sorted},
		{"NearbyFeature", []string{"properties", "properties", "properties"}, props},
		{"AreaFeature", []string{"properties", "properties", "properties"}, props},
	} {
		if got := keys(c.name, c.at...); !slices.Equal(got, c.want) {
			t.Errorf("%s fields %v, want %v", c.name, got, c.want)
		}
	}
	// fields may select any: none is required, but in the shard API.
	for _, name := range []string{"SearchResult", "AreaResult"} {
		if _, ok := schema(name)["required"]; ok {
			t.Errorf("%s requires fields, but fields= may leave any out", name)
		}
	}
	shard := asList(t, get(t, schema("ShardResult"), "allOf"), "ShardResult allOf")
	if got := asList(t, get(t, shard[1], "required"), "ShardResult required"); !slices.Equal(got, toAny(fields)) {
		t.Errorf("ShardResult requires %v, want every result field %v", got, fields)
	}
	// The GeoJSON collections have exactly the members the handler writes.
	members := slices.Sorted(slices.Values(jsonFields(t, "../internal/httpapi/nearby.go", "featureCollection")))
	for _, name := range []string{"NearbyFeatureCollection", "AreaFeatureCollection", "NearbyResponse", "AreaResponse"} {
		want := members
		if strings.HasSuffix(name, "Response") {
			want = slices.Sorted(slices.Values(append(slices.DeleteFunc(slices.Clone(members), func(m string) bool { return m == "type" || m == "features" }), "results")))
		}
		if got := keys(name, "properties"); !slices.Equal(got, want) {
			t.Errorf("%s members %v, want %v", name, got, want)
		}
	}
	// Nearby totals are asked for and capped; area totals always there.
	for _, name := range []string{"NearbyResponse", "NearbyFeatureCollection"} {
		if slices.Contains(asList(t, schema(name)["required"], name+" required"), any("total")) {
			t.Errorf("%s requires total, which is only there with total=true", name)
		}
	}
	for _, name := range []string{"AreaResponse", "AreaFeatureCollection"} {
		req := asList(t, schema(name)["required"], name+" required")
		if !slices.Contains(req, any("total")) || !slices.Contains(req, any("total_capped")) {
			t.Errorf("%s does not require total and total_capped", name)
		}
	}
	for _, c := range []struct {
		name string
		at   []string
		key  string
		want float64
	}{
		{"NearbyTotal", nil, "maximum", nearby.MaxTotal},
		{"ShardAnswer", []string{"properties", "total"}, "maximum", nearby.MaxTotal},
		{"PriceLevel", nil, "minimum", 1},
		{"PriceLevel", nil, "maximum", float64(nearby.MaxPrice)},
		{"StarRating", nil, "minimum", 0},
		{"StarRating", nil, "maximum", nearby.MaxRatingTenths / 10},
		{"ReviewCount", nil, "minimum", 0},
		{"ReviewCount", nil, "maximum", nearby.MaxReviewCount},
		{"OpeningDay", nil, "maxItems", hours.MaxSpans},
		// Half the circumference of the haversine sphere, rounded up.
		{"AreaDistanceM", nil, "maximum", math.Ceil(math.Pi * geo.EarthRadiusM)},
		{"DistanceM", nil, "maximum", nearby.MaxRadiusM},
	} {
		s := schema(c.name)
		if len(c.at) > 0 {
			s = asMap(t, get(t, s, c.at...), c.name)
		}
		if got := number(t, s[c.key]); got != c.want {
			t.Errorf("%s %s = %v, want %v", c.name, c.key, got, c.want)
		}
	}
	// The week of opening hours, as package hours writes it.
	days := asList(t, get(t, schema("OpeningHours"), "properties", "weekly", "required"), "weekly required")
	if !slices.Equal(days, []any{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) {
		t.Errorf("weekly requires %v, want mon..sun", days)
	}
}

// goStrings returns the strings of the []string literal assigned to the
// package-level variable name in the Go file at path.
func goStrings(t *testing.T, path, name string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, id := range vs.Names {
			if id.Name != name || i >= len(vs.Values) {
				continue
			}
			lit, ok := vs.Values[i].(*ast.CompositeLit)
			if !ok {
				t.Fatalf("%s: %s is not a composite literal", path, name)
			}
			found = true
			for _, e := range lit.Elts {
				bl, ok := e.(*ast.BasicLit)
				if !ok || bl.Kind != token.STRING {
					t.Fatalf("%s: %s holds a non-string element", path, name)
				}
				s, _ := strconv.Unquote(bl.Value)
				out = append(out, s)
			}
		}
		return false
	})
	if !found {
		t.Fatalf("%s: no variable %s", path, name)
	}
	return out
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
			{"cols", "minimum", 1}, {"cols", "maximum", nearby.MaxDensityCells}, {"cols", "default", 64},
			{"rows", "minimum", 1}, {"rows", "maximum", nearby.MaxDensityCells}, {"rows", "default", 64},
		})
	checkQuery(t, doc, "/v1/cities", map[string]bool{"q": false, "limit": false}, []bound{
		{"q", "maxLength", web.MaxCityQueryBytes},
		{"limit", "minimum", 1}, {"limit", "maximum", web.MaxCityLimit}, {"limit", "default", web.DefaultCityLimit},
	})
	// The density answer holds at most MaxDensityCells counts.
	counts := get(t, doc, "components", "schemas", "Density", "properties", "counts")
	if v := number(t, get(t, counts, "maxItems")); v != nearby.MaxDensityCells {
		t.Errorf("Density counts maxItems = %v, want %d", v, nearby.MaxDensityCells)
	}
	// The density's category parameter is the search's (same parsing).
	if got, want := queryParams(t, doc, "/v1/index/density")["category"], resolve(t, doc, get(t, doc, "components", "parameters", "Category")); !reflect.DeepEqual(got, want) {
		t.Errorf("density category parameter is %v, want the Category parameter", got)
	}
}

// TestShardParameters checks the internal shard API's parameters.
func TestShardParameters(t *testing.T) {
	doc := loadSpec(t)
	want := map[string]bool{"region": true, "lat": true, "lon": true, "radius": true, "limit": true}
	for _, n := range []string{"category", "price", "min_rating", "open_at", "q", "sort", "total", "after_rating", "after_distance", "after_id"} {
		want[n] = false
	}
	// Every price level's bit: 2 + 4 + 8 + 16.
	var allPrices nearby.PriceSet
	for p := nearby.Price(1); p <= nearby.MaxPrice; p++ {
		allPrices |= 1 << p
	}
	checkQuery(t, doc, "/internal/v1/shard/nearby", want,
		[]bound{
			{"lat", "minimum", -90}, {"lat", "maximum", 90}, {"lon", "minimum", -180}, {"lon", "maximum", 180},
			{"radius", "exclusiveMinimum", 0}, {"radius", "maximum", nearby.MaxRadiusM},
			// The asking node asks for one more result than its page.
			{"limit", "minimum", 1}, {"limit", "maximum", nearby.MaxLimit + 1},
			{"category", "minimum", 0}, {"category", "maximum", math.MaxUint32},
			{"price", "minimum", 0}, {"price", "maximum", float64(allPrices)},
			// Internal rating numbers: tenths of a star + 1, 0 for none.
			{"min_rating", "minimum", 0}, {"min_rating", "maximum", float64(nearby.RatingOf(nearby.MaxRatingTenths))},
			{"after_rating", "minimum", 0}, {"after_rating", "maximum", float64(nearby.RatingOf(nearby.MaxRatingTenths))},
			{"q", "maxLength", textmatch.MaxQueryBytes},
		})
	checkEnum(t, doc, "get", "/internal/v1/shard/nearby", "sort", []any{"distance", "rating"}, "distance")
	checkBoolean(t, doc, "get", "/internal/v1/shard/nearby", "total")
	if s := paramSchema(t, doc, "get", "/internal/v1/shard/nearby", "open_at"); s["format"] != "date-time" {
		t.Errorf("shard open_at schema %v, want a date-time", s)
	}
	checkQuery(t, doc, "/internal/v1/shard/businesses/{id}", map[string]bool{"region": true}, nil)
	// The shard lookup answers the summary.
	ok200 := get(t, doc, "paths", "/internal/v1/shard/businesses/{id}", "get", "responses", "200", "content", "application/json", "schema", "$ref")
	if ok200 != "#/components/schemas/Business" {
		t.Errorf("shard lookup 200 schema %v, want Business", ok200)
	}
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
	if classes := promtest.LabelValues(t, reg, "nearby_ratelimit_requests_total", "class"); len(classes) > 0 {
		out.class = classes[len(classes)-1]
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
	if len(full) != 17 {
		t.Fatalf("detailJSON has %d fields %v; this test expects 17", len(full), full)
	}
	slices.Sort(full)
	detail := schema("BusinessDetail")
	if got := keys(asMap(t, detail["properties"], "BusinessDetail properties")); !slices.Equal(got, full) {
		t.Errorf("BusinessDetail properties %v, want detailJSON's %v", got, full)
	}
	summary := keys(asMap(t, schema("Business")["properties"], "Business properties"))
	if want := slices.Sorted(slices.Values(mapKeys(t, "../internal/httpapi/nearby.go", "summaryJSON"))); !slices.Equal(summary, want) {
		t.Errorf("Business properties %v, want summaryJSON's %v", summary, want)
	}
	if got := toStrings(asList(t, schema("Business")["required"], "Business required")); !slices.Equal(got, summary) {
		t.Errorf("Business requires %v; summaryJSON always writes %v", got, summary)
	}
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

// mapKeys returns the string keys of the map literals in function fn of
// the Go file at path.
func mapKeys(t *testing.T, path, fn string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != fn {
			continue
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if _, isMap := lit.Type.(*ast.MapType); !isMap {
				return true
			}
			for _, e := range lit.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if bl, ok := kv.Key.(*ast.BasicLit); ok && bl.Kind == token.STRING {
						s, _ := strconv.Unquote(bl.Value)
						out = append(out, s)
					}
				}
			}
			return true
		})
	}
	if out == nil {
		t.Fatalf("%s: no map literal in func %s", path, fn)
	}
	return out
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

// TestExamples checks every example of the document against its schema:
// those of parameters, headers, request and response bodies (inline or
// from components/examples), and those of the schemas themselves.
func TestExamples(t *testing.T) {
	doc := loadSpec(t)
	n := checkExamples(t, doc)
	if n < 100 {
		t.Errorf("only %d examples checked; the walk is broken", n)
	}
}

// checkExamples validates the examples of doc and returns how many it
// checked.
func checkExamples(t *testing.T, doc map[string]any) int {
	t.Helper()
	n := 0
	check := func(schema, value any, at string) {
		n++
		for _, e := range validate(doc, schema, value, "") {
			t.Errorf("%s: %s", at, e)
		}
	}
	// Objects with a schema and example or examples: parameters, headers,
	// media types.
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			if schema, ok := x["schema"]; ok && !strings.Contains(at, "/components/schemas") {
				if ex, ok := x["example"]; ok {
					check(schema, ex, at+"/example")
				}
				if exs, ok := x["examples"].(map[string]any); ok {
					for name, ex := range exs {
						exm := asMap(t, resolve(t, doc, ex), at+"/examples/"+name)
						if value, ok := exm["value"]; ok {
							check(schema, value, at+"/examples/"+name)
						}
					}
				}
			}
			for k, e := range x {
				walk(e, at+"/"+k)
			}
		case []any:
			for i, e := range x {
				walk(e, at+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc["paths"], "#/paths")
	for _, kind := range []string{"parameters", "headers", "responses", "requestBodies"} {
		if c, ok := asMap(t, doc["components"], "components")[kind]; ok {
			walk(c, "#/components/"+kind)
		}
	}
	// Schemas' own example and examples (a list, in JSON Schema), at any
	// depth.
	var walkSchema func(s any, at string)
	walkSchema = func(s any, at string) {
		m, ok := s.(map[string]any)
		if !ok {
			return
		}
		if ex, ok := m["example"]; ok {
			check(m, ex, at+"/example")
		}
		if exs, ok := m["examples"].([]any); ok {
			for i, ex := range exs {
				check(m, ex, at+"/examples/"+strconv.Itoa(i))
			}
		}
		for _, k := range []string{"properties", "dependentSchemas"} {
			if ps, ok := m[k].(map[string]any); ok {
				for name, p := range ps {
					walkSchema(p, at+"/"+k+"/"+name)
				}
			}
		}
		for _, k := range []string{"items", "additionalProperties", "propertyNames", "not"} {
			walkSchema(m[k], at+"/"+k)
		}
		for _, k := range []string{"prefixItems", "allOf", "anyOf", "oneOf"} {
			if l, ok := m[k].([]any); ok {
				for i, e := range l {
					walkSchema(e, at+"/"+k+"/"+strconv.Itoa(i))
				}
			}
		}
	}
	for name, s := range asMap(t, get(t, doc, "components", "schemas"), "schemas") {
		walkSchema(s, "#/components/schemas/"+name)
	}
	return n
}

// validate returns the ways value breaks schema, each prefixed with the
// JSON pointer of the culprit under at. It implements the part of JSON
// Schema 2020-12 this document uses, and reports any other keyword as an
// error rather than ignoring it; format is an annotation only.
func validate(doc map[string]any, schema, value any, at string) []string {
	var errs []string
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Sprintf("%s: ", cmpOr(at, "/"))+fmt.Sprintf(format, args...))
	}
	switch s := schema.(type) {
	case bool:
		if !s {
			fail("no value is allowed here")
		}
		return errs
	case map[string]any:
	default:
		fail("schema is a %T", schema)
		return errs
	}
	s := schema.(map[string]any)
	obj, isObj := value.(map[string]any)
	arr, isArr := value.([]any)
	str, isStr := value.(string)
	num, isNum := jsonNumber(value)
	for _, k := range slices.Sorted(maps.Keys(s)) {
		kw := s[k]
		switch k {
		case "description", "title", "example", "examples", "format", "default", "deprecated", "readOnly", "writeOnly", "$comment":
			// annotations
		case "$ref":
			ref, _ := kw.(string)
			target, err := pointer(doc, ref)
			if err != nil {
				fail("$ref %q: %v", ref, err)
				continue
			}
			errs = append(errs, validate(doc, target, value, at)...)
		case "type":
			var types []any
			if l, ok := kw.([]any); ok {
				types = l
			} else {
				types = []any{kw}
			}
			if !slices.ContainsFunc(types, func(ty any) bool { return hasType(value, fmt.Sprint(ty)) }) {
				fail("%s is not of type %v", short(value), kw)
			}
		case "const":
			if !jsonEqual(value, kw) {
				fail("%s is not %s", short(value), short(kw))
			}
		case "enum":
			if !slices.ContainsFunc(asListOr(kw), func(e any) bool { return jsonEqual(value, e) }) {
				fail("%s is not one of %v", short(value), kw)
			}
		case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
			bound, _ := jsonNumber(kw)
			if isNum && !map[string]bool{
				"minimum": num >= bound, "maximum": num <= bound,
				"exclusiveMinimum": num > bound, "exclusiveMaximum": num < bound,
			}[k] {
				fail("%v breaks %s %v", num, k, bound)
			}
		case "minLength", "maxLength":
			bound, _ := jsonNumber(kw)
			if n := float64(utf8.RuneCountInString(str)); isStr && (k == "minLength" && n < bound || k == "maxLength" && n > bound) {
				fail("%s has %v characters, %s %v", short(value), n, k, bound)
			}
		case "pattern":
			re, err := regexp.Compile(fmt.Sprint(kw))
			if err != nil {
				fail("pattern %q: %v", kw, err)
			} else if isStr && !re.MatchString(str) {
				fail("%q does not match %s", str, kw)
			}
		case "minItems", "maxItems":
			bound, _ := jsonNumber(kw)
			if n := float64(len(arr)); isArr && (k == "minItems" && n < bound || k == "maxItems" && n > bound) {
				fail("%d items, %s %v", len(arr), k, bound)
			}
		case "prefixItems":
			for i, ps := range asListOr(kw) {
				if isArr && i < len(arr) {
					errs = append(errs, validate(doc, ps, arr[i], at+"/"+strconv.Itoa(i))...)
				}
			}
		case "items":
			from := len(asListOr(s["prefixItems"]))
			for i := from; isArr && i < len(arr); i++ {
				errs = append(errs, validate(doc, kw, arr[i], at+"/"+strconv.Itoa(i))...)
			}
		case "required":
			for _, r := range asListOr(kw) {
				if _, ok := obj[fmt.Sprint(r)]; isObj && !ok {
					fail("no %q", r)
				}
			}
		case "dependentRequired":
			for name, deps := range asMapOr(kw) {
				if _, ok := obj[name]; !isObj || !ok {
					continue
				}
				for _, d := range asListOr(deps) {
					if _, ok := obj[fmt.Sprint(d)]; !ok {
						fail("%q without %q", name, d)
					}
				}
			}
		case "properties":
			for name, ps := range asMapOr(kw) {
				if v, ok := obj[name]; isObj && ok {
					errs = append(errs, validate(doc, ps, v, at+"/"+name)...)
				}
			}
		case "additionalProperties":
			props := asMapOr(s["properties"])
			for name, v := range obj {
				if _, ok := props[name]; !ok {
					errs = append(errs, validate(doc, kw, v, at+"/"+name)...)
				}
			}
		case "propertyNames":
			for name := range obj {
				errs = append(errs, validate(doc, kw, name, at+"/"+name)...)
			}
		case "allOf", "anyOf", "oneOf":
			matched := 0
			var sub []string
			for i, b := range asListOr(kw) {
				e := validate(doc, b, value, at)
				if len(e) == 0 {
					matched++
				} else {
					sub = append(sub, fmt.Sprintf("[%d] %s", i, strings.Join(e, "; ")))
				}
			}
			switch {
			case k == "allOf" && len(sub) > 0:
				fail("allOf: %s", strings.Join(sub, " | "))
			case k == "anyOf" && matched == 0:
				fail("anyOf: no branch matches: %s", strings.Join(sub, " | "))
			case k == "oneOf" && matched != 1:
				fail("oneOf: %d branches match, want 1: %s", matched, strings.Join(sub, " | "))
			}
		default:
			if !strings.HasPrefix(k, "x-") {
				fail("keyword %q is not supported by this test's validator", k)
			}
		}
	}
	return errs
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func asListOr(v any) []any { l, _ := v.([]any); return l }

func asMapOr(v any) map[string]any { m, _ := v.(map[string]any); return m }

// jsonNumber returns v as a float64 if it is a number as YAML decodes it.
func jsonNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// hasType reports whether v is of the JSON Schema type ty.
func hasType(v any, ty string) bool {
	switch ty {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := jsonNumber(v)
		return ok
	case "integer":
		f, ok := jsonNumber(v)
		return ok && f == math.Trunc(f)
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

// jsonEqual compares two decoded values as JSON does: numbers by value.
func jsonEqual(a, b any) bool {
	if x, ok := jsonNumber(a); ok {
		y, ok := jsonNumber(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

// short formats a value for a message.
func short(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// TestValidate checks the validator of TestExamples on a few cases, so a
// broken validator does not pass every example.
func TestValidate(t *testing.T) {
	doc := loadSpec(t)
	bad := []struct {
		schema string
		value  any
	}{
		{"PriceLevel", 5},
		{"PriceLevel", 2.5},
		{"StarRating", "4.5"},
		{"OpeningSpan", []any{"24:00", "01:00"}},
		{"OpeningSpan", []any{"09:00", "24:01"}},
		{"OpeningHours", map[string]any{"time_zone": "UTC", "weekly": map[string]any{"mon": []any{}}}},
		{"BusinessIDString", "0"},
		{"GeoJSONArea", map[string]any{"type": "Feature"}},
		{"GeoJSONArea", map[string]any{"type": "Polygon", "coordinates": []any{[]any{[]any{0, 0}, []any{1, 0}, []any{0, 0}}}}},
		{"NearbyResponse", map[string]any{"results": []any{}, "count": 0, "next_cursor": nil, "partial": false, "index_version": "1", "total": 3}},
		{"AreaResponse", map[string]any{"results": []any{}, "count": 0, "next_cursor": nil, "partial": false, "index_version": "1"}},
		{"SearchResult", map[string]any{"id": "1", "phone": "x"}},
		{"BusinessDetail", map[string]any{"id": "1", "name": "x", "category": "cafe", "lat": 0, "lon": 0, "price": nil, "rating": nil, "review_count": 0, "hours": nil, "city": ""}},
	}
	for _, c := range bad {
		if errs := validate(doc, map[string]any{"$ref": "#/components/schemas/" + c.schema}, c.value, ""); len(errs) == 0 {
			t.Errorf("%s accepts %#v", c.schema, c.value)
		}
	}
	good := []struct {
		schema string
		value  any
	}{
		{"PriceLevel", nil},
		{"StarRating", 4},
		{"OpeningSpan", []any{"22:00", "02:00"}},
		{"SearchResult", map[string]any{}},
		{"GeoJSONArea", map[string]any{"type": "Polygon", "bbox": []any{0, 0, 1, 1}, "coordinates": []any{[]any{[]any{0, 0}, []any{1, 0, 7}, []any{1, 1}, []any{0, 0}}}}},
	}
	for _, c := range good {
		if errs := validate(doc, map[string]any{"$ref": "#/components/schemas/" + c.schema}, c.value, ""); len(errs) > 0 {
			t.Errorf("%s refuses %#v: %v", c.schema, c.value, errs)
		}
	}
}
