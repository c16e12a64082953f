package api

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/nearby/nearby"
)

// The helpers get, asMap, asList, resolve, pointer and params are those
// of openapi_test.go.

func loadOwnerSpec(t *testing.T) map[string]any {
	t.Helper()
	if len(OwnerAPI) == 0 {
		t.Fatal("embedded owner-api.yaml is empty")
	}
	var doc map[string]any
	if err := yaml.Unmarshal(OwnerAPI, &doc); err != nil {
		t.Fatalf("owner-api.yaml is not valid YAML: %v", err)
	}
	return doc
}

func TestOwnerInfo(t *testing.T) {
	doc := loadOwnerSpec(t)
	if v, _ := doc["openapi"].(string); v != "3.1.0" {
		t.Errorf("openapi = %#v, want \"3.1.0\"", doc["openapi"])
	}
	if v := get(t, doc, "info", "title"); v != "nearby owner-api" {
		t.Errorf("info.title = %#v", v)
	}
	if v := get(t, doc, "info", "version"); v != "1.0.0" {
		t.Errorf("info.version = %#v", v)
	}
	servers := asList(t, get(t, doc, "servers"), "servers")
	if len(servers) == 0 || asMap(t, servers[0], "servers[0]")["url"] != "http://localhost:8081" {
		t.Errorf("servers = %v, want http://localhost:8081 first", servers)
	}
	scheme := asMap(t, get(t, doc, "components", "securitySchemes", "bearerAuth"), "bearerAuth")
	if scheme["type"] != "http" || scheme["scheme"] != "bearer" || scheme["bearerFormat"] != "JWT" {
		t.Errorf("bearerAuth = %v", scheme)
	}
}

// TestOwnerPaths checks that exactly the routes owner-api serves are
// described, with exactly their methods and the statuses the handlers can
// answer, that every error is a problem document, and that the owners'
// routes need a token while the operational ones do not.
func TestOwnerPaths(t *testing.T) {
	doc := loadOwnerSpec(t)
	paths := asMap(t, get(t, doc, "paths"), "paths")
	// Every route is rate-limited by the built-in rules, hence a 429
	// everywhere (TestOwnerRateLimits checks that against the middleware).
	authed := []string{"401", "414", "429", "500", "503"}
	want := map[string]map[string][]string{
		"/v1/businesses": {"post": append([]string{"201", "400", "408", "413", "415", "422"}, authed...)},
		"/v1/businesses/{id}": {
			"get":    append([]string{"200", "304", "400", "404"}, authed...),
			"put":    append([]string{"200", "400", "404", "408", "412", "413", "415", "428"}, authed...),
			"patch":  append([]string{"200", "400", "404", "408", "412", "413", "415", "428"}, authed...),
			"delete": append([]string{"204", "400", "404", "412"}, authed...),
		},
		"/v1/owners/me/businesses": {"get": append([]string{"200", "400"}, authed...)},
		"/healthz":                 {"get": {"200", "414", "429"}},
		"/readyz":                  {"get": {"200", "414", "429", "503"}},
		"/metrics":                 {"get": {"200", "429"}}, // Prometheus's handler: no query limit
		"/openapi.yaml":            {"get": {"200", "414", "429"}},
	}
	for p := range paths {
		if _, ok := want[p]; !ok {
			t.Errorf("path %s is described but owner-api does not serve it", p)
		}
	}
	if global := asList(t, get(t, doc, "security"), "security"); len(global) != 1 {
		t.Errorf("global security = %v, want bearerAuth", global)
	}
	opIDs := map[string]string{}
	for p, ops := range want {
		pi := asMap(t, resolve(t, doc, paths[p]), p)
		for _, m := range methods {
			if _, ok := pi[m]; ok && ops[m] == nil {
				t.Errorf("%s: method %s is described but not served", p, m)
			}
		}
		for m, codes := range ops {
			what := strings.ToUpper(m) + " " + p
			op, ok := pi[m].(map[string]any)
			if !ok {
				t.Errorf("%s: not described", what)
				continue
			}
			if id, _ := op["operationId"].(string); id == "" {
				t.Errorf("%s: no operationId", what)
			} else if prev, dup := opIDs[id]; dup {
				t.Errorf("%s: operationId %q already used by %s", what, id, prev)
			} else {
				opIDs[id] = what
			}
			sec, hasSec := op["security"]
			if strings.HasPrefix(p, "/v1/") == hasSec {
				t.Errorf("%s: security %v: owners' routes inherit bearerAuth, operational ones set []", what, sec)
			}
			responses := asMap(t, op["responses"], what+" responses")
			var got []string
			for c := range responses {
				got = append(got, c)
			}
			slices.Sort(got)
			slices.Sort(codes)
			if !slices.Equal(got, codes) {
				t.Errorf("%s: responses %v, want %v", what, got, codes)
			}
			for c, r := range responses {
				if c >= "400" {
					content := asMap(t, get(t, resolve(t, doc, r), "content"), what+" "+c+" content")
					if _, ok := content["application/problem+json"]; !ok || len(content) != 1 {
						t.Errorf("%s: response %s is not only application/problem+json", what, c)
					}
				}
			}
			for _, name := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(p, -1) {
				if !slices.ContainsFunc(params(t, doc, op, pi), func(prm map[string]any) bool {
					return prm["name"] == name[1] && prm["in"] == "path" && prm["required"] == true
				}) {
					t.Errorf("%s: no required path parameter %q", what, name[1])
				}
			}
		}
	}
	// Changes need If-Match; 503s say when to retry; 401s carry the challenge.
	for _, m := range []string{"put", "patch"} {
		op := asMap(t, get(t, paths, "/v1/businesses/{id}", m), m)
		if !slices.ContainsFunc(params(t, doc, op, nil), func(p map[string]any) bool {
			return p["name"] == "If-Match" && p["in"] == "header" && p["required"] == true
		}) {
			t.Errorf("%s: If-Match is not a required header", m)
		}
	}
	for _, name := range []string{"Unavailable", "TooManyRequests"} {
		if _, ok := asMap(t, get(t, doc, "components", "responses", name, "headers"), name)["Retry-After"]; !ok {
			t.Errorf("%s: no Retry-After", name)
		}
	}
	if _, ok := asMap(t, get(t, doc, "components", "responses", "Unauthorized", "headers"), "401")["WWW-Authenticate"]; !ok {
		t.Error("401: no WWW-Authenticate")
	}
	post := asMap(t, get(t, paths, "/v1/businesses", "post", "responses", "201", "headers"), "201 headers")
	for _, h := range []string{"Location", "ETag"} {
		if _, ok := post[h]; !ok {
			t.Errorf("POST 201: no %s header", h)
		}
	}
	patch := asMap(t, get(t, paths, "/v1/businesses/{id}", "patch", "requestBody", "content"), "patch content")
	if _, ok := patch["application/merge-patch+json"]; !ok {
		t.Error("PATCH does not take application/merge-patch+json")
	}
}

// TestOwnerSchemas checks the business schemas against the domain: the
// same fields, categories and limits as package nearby enforces.
func TestOwnerSchemas(t *testing.T) {
	doc := loadOwnerSpec(t)
	schema := func(name string) map[string]any {
		return asMap(t, resolve(t, doc, get(t, doc, "components", "schemas", name)), name)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	fields := slices.Sorted(slices.Values(nearby.BusinessFields))
	for _, name := range []string{"BusinessInput", "BusinessPatch"} {
		s := schema(name)
		if got := keys(asMap(t, s["properties"], name)); !slices.Equal(got, fields) {
			t.Errorf("%s properties %v, want %v", name, got, fields)
		}
		if s["additionalProperties"] != false {
			t.Errorf("%s allows additional properties", name)
		}
	}
	if req := asList(t, schema("BusinessInput")["required"], "required"); !slices.Equal(req, []any{"name", "category", "lat", "lon"}) {
		t.Errorf("BusinessInput required %v", req)
	}
	if _, ok := schema("BusinessPatch")["required"]; ok {
		t.Error("BusinessPatch requires fields")
	}
	out := keys(asMap(t, schema("Business")["properties"], "Business"))
	if want := slices.Sorted(slices.Values(append(slices.Clone(nearby.BusinessFields), "id", "owner_id", "version", "created_at", "updated_at"))); !slices.Equal(out, want) {
		t.Errorf("Business properties %v, want %v", out, want)
	}
	var cats []string
	for _, e := range asList(t, schema("Category")["enum"], "Category enum") {
		cats = append(cats, fmt.Sprint(e))
	}
	if !slices.Equal(cats, nearby.CategoryNames()) {
		t.Errorf("Category enum %v, want %v", cats, nearby.CategoryNames())
	}
	num := func(v any) int {
		switch x := v.(type) {
		case int:
			return x
		case float64:
			return int(x)
		}
		t.Fatalf("%#v is not a number", v)
		return 0
	}
	for _, c := range []struct {
		schema, key string
		want        int
	}{
		{"Name", "maxLength", nearby.MaxNameChars}, {"Name", "minLength", 1},
		{"Address", "maxLength", nearby.MaxAddressChars}, {"City", "maxLength", nearby.MaxCityChars},
		{"State", "maxLength", nearby.MaxStateChars}, {"Zip", "maxLength", nearby.MaxZipChars},
		{"Description", "maxLength", nearby.MaxDescriptionBytes}, {"Photos", "maxItems", nearby.MaxPhotos},
		{"Lat", "minimum", -90}, {"Lat", "maximum", 90}, {"Lon", "minimum", -180}, {"Lon", "maximum", 180},
	} {
		if got := num(schema(c.schema)[c.key]); got != c.want {
			t.Errorf("%s.%s = %d, want %d", c.schema, c.key, got, c.want)
		}
	}
	if got := num(get(t, schema("Photos"), "items", "maxLength")); got != nearby.MaxPhotoURLBytes {
		t.Errorf("photo URL maxLength %d", got)
	}
	key := asMap(t, get(t, doc, "components", "parameters", "IdempotencyKey", "schema"), "key")
	if num(key["maxLength"]) != nearby.MaxIdempotencyKey {
		t.Errorf("Idempotency-Key maxLength %v", key["maxLength"])
	}
	limit := asMap(t, get(t, doc, "components", "parameters", "Limit", "schema"), "limit")
	if num(limit["maximum"]) != nearby.MaxLimit || num(limit["default"]) != nearby.DefaultLimit {
		t.Errorf("limit %v", limit)
	}
}

// TestOwnerRefsResolve checks that every $ref points inside the document
// at an object.
func TestOwnerRefsResolve(t *testing.T) {
	doc := loadOwnerSpec(t)
	n := 0
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"]; ok {
				n++
				s, _ := ref.(string)
				if target, err := pointer(doc, s); err != nil {
					t.Errorf("%s: $ref %v does not resolve: %v", at, ref, err)
				} else if _, ok := target.(map[string]any); !ok {
					t.Errorf("%s: $ref %q points at a %T", at, s, target)
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
	if n < 20 {
		t.Errorf("only %d $refs found; the walk is broken", n)
	}
}

// TestOwnerRateLimits checks owner-api's document against its built-in
// rate limits and the middleware (see checkRateLimits): every operation's
// class, its 429, and the X-Ratelimit-* headers on every response.
func TestOwnerRateLimits(t *testing.T) {
	doc := loadOwnerSpec(t)
	checkRateLimits(t, doc, "owner-api", "TooManyRequests", "")
	// Owners are limited per owner: the document says so.
	if d, _ := get(t, doc, "info", "description").(string); !strings.Contains(d, "owner of a **valid** bearer token") {
		t.Error("info.description does not say owners are limited per owner of a valid token")
	}
	for name, min := range map[string]float64{"XRatelimitLimit": 1, "XRatelimitRemaining": 0, "XRatelimitRetryAfter": 0, "RetryAfterRateLimit": 1} {
		s := asMap(t, get(t, doc, "components", "headers", name, "schema"), name)
		if s["type"] != "integer" || number(t, s["minimum"]) != min {
			t.Errorf("header %s schema %v, want an integer of at least %v", name, s, min)
		}
	}
}
