package ownerapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/problem"
	"github.com/nearby/nearby/internal/promtest"
)

var secret = []byte("test-secret-test-secret-test-secret")

// now is the fixed clock of these tests.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type testServer struct {
	*Server
	fake *fakeService
	logs *bytes.Buffer
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	fake := newFake()
	logs := &bytes.Buffer{}
	reg := prometheus.NewRegistry()
	s := NewServer(Config{
		Service: fake, Secret: secret, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer: reg, Gatherer: reg, OpenAPI: []byte("openapi: 3.1.0\n"), Now: func() time.Time { return now },
	})
	return &testServer{Server: s, fake: fake, logs: logs}
}

func tokenFor(t *testing.T, owner int64) string {
	t.Helper()
	tok, err := IssueToken(secret, owner, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// req is a request to send to a test server.
type req struct {
	method, path, body string
	header             map[string]string
	owner              int64 // bearer token for this owner; 0: none
}

type resp struct {
	status  int
	header  http.Header
	body    []byte
	problem problem.Problem
}

func (s *testServer) do(t *testing.T, q req) resp {
	t.Helper()
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r := httptest.NewRequest(q.method, q.path, body)
	if q.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if q.owner != 0 {
		r.Header.Set("Authorization", "Bearer "+tokenFor(t, q.owner))
	}
	for k, v := range q.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	out := resp{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	if out.status >= 400 {
		if ct := out.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s %s: %d with Content-Type %q, want a problem document", q.method, q.path, out.status, ct)
		}
		if err := json.Unmarshal(out.body, &out.problem); err != nil {
			t.Fatalf("problem document: %v\n%s", err, out.body)
		}
		if out.problem.Status != out.status || out.problem.Title != http.StatusText(out.status) || out.problem.Type != "about:blank" {
			t.Errorf("problem %+v for status %d", out.problem, out.status)
		}
	}
	return out
}

func (r resp) params() []string {
	var names []string
	for _, p := range r.problem.InvalidParams {
		names = append(names, p.Name)
	}
	return names
}

const validBody = `{"name":"Blue Bottle","category":"cafe","lat":40.758,"lon":-73.9855}`

func TestAuth(t *testing.T) {
	s := newTestServer(t)
	sign := func(method jwt.SigningMethod, key any, claims jwt.Claims) string {
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := func(sub string, exp time.Time) jwt.RegisteredClaims {
		return jwt.RegisteredClaims{Subject: sub, ExpiresAt: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute))}
	}
	valid := sign(jwt.SigningMethodHS256, secret, claims("42", now.Add(time.Hour)))
	tests := []struct {
		name, header string
		status       int
		detail       string
	}{
		{"valid", "Bearer " + valid, 200, ""},
		{"scheme case", "bearer " + valid, 200, ""},
		{"missing", "", 401, "Authorization"},
		{"basic", "Basic dXNlcjpwYXNz", 401, "Authorization"},
		{"empty token", "Bearer ", 401, "Authorization"},
		{"garbage", "Bearer not.a.jwt", 401, "invalid"},
		{"wrong secret", "Bearer " + sign(jwt.SigningMethodHS256, []byte("other"), claims("42", now.Add(time.Hour))), 401, "invalid"},
		{"HS512", "Bearer " + sign(jwt.SigningMethodHS512, secret, claims("42", now.Add(time.Hour))), 401, "invalid"},
		{"alg none", "Bearer " + sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims("42", now.Add(time.Hour))), 401, "invalid"},
		{"expired", "Bearer " + sign(jwt.SigningMethodHS256, secret, claims("42", now.Add(-time.Second))), 401, "expired"},
		{"no exp", "Bearer " + sign(jwt.SigningMethodHS256, secret, jwt.RegisteredClaims{Subject: "42"}), 401, "exp"},
		{"not yet valid", "Bearer " + sign(jwt.SigningMethodHS256, secret, jwt.RegisteredClaims{Subject: "42",
			ExpiresAt: jwt.NewNumericDate(now.Add(2 * time.Hour)), NotBefore: jwt.NewNumericDate(now.Add(time.Hour))}), 401, "not valid yet"},
		// iat and nbf a little ahead of the server's clock (the issuer's
		// runs ahead) are accepted; exp gets no such leeway.
		{"iat within the clock skew", "Bearer " + sign(jwt.SigningMethodHS256, secret, jwt.RegisteredClaims{Subject: "42",
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now.Add(ClockSkew))}), 200, ""},
		{"nbf within the clock skew", "Bearer " + sign(jwt.SigningMethodHS256, secret, jwt.RegisteredClaims{Subject: "42",
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now.Add(time.Second)),
			NotBefore: jwt.NewNumericDate(now.Add(time.Second))}), 200, ""},
		{"iat beyond the clock skew", "Bearer " + sign(jwt.SigningMethodHS256, secret, jwt.RegisteredClaims{Subject: "42",
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now.Add(ClockSkew + time.Second))}), 401, "not valid yet"},
		{"nbf beyond the clock skew", "Bearer " + sign(jwt.SigningMethodHS256, secret, jwt.RegisteredClaims{Subject: "42",
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), NotBefore: jwt.NewNumericDate(now.Add(ClockSkew + time.Second))}), 401, "not valid yet"},
		{"expires now", "Bearer " + sign(jwt.SigningMethodHS256, secret, claims("42", now)), 401, "expired"},
		{"no sub", "Bearer " + sign(jwt.SigningMethodHS256, secret, claims("", now.Add(time.Hour))), 401, "sub"},
		{"sub zero", "Bearer " + sign(jwt.SigningMethodHS256, secret, claims("0", now.Add(time.Hour))), 401, "sub"},
		{"sub negative", "Bearer " + sign(jwt.SigningMethodHS256, secret, claims("-4", now.Add(time.Hour))), 401, "sub"},
		{"sub padded", "Bearer " + sign(jwt.SigningMethodHS256, secret, claims("042", now.Add(time.Hour))), 401, "sub"},
		{"sub name", "Bearer " + sign(jwt.SigningMethodHS256, secret, claims("alice", now.Add(time.Hour))), 401, "sub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, req{method: "GET", path: "/v1/owners/me/businesses", header: map[string]string{"Authorization": tt.header}})
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status == 401 {
				if !strings.Contains(r.problem.Detail, tt.detail) {
					t.Errorf("detail %q does not mention %q", r.problem.Detail, tt.detail)
				}
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
					t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	// Every owner route needs a token.
	for _, m := range []struct{ method, path string }{
		{"POST", "/v1/businesses"}, {"GET", "/v1/businesses/1"}, {"PUT", "/v1/businesses/1"},
		{"PATCH", "/v1/businesses/1"}, {"DELETE", "/v1/businesses/1"}, {"GET", "/v1/owners/me/businesses"},
	} {
		if r := s.do(t, req{method: m.method, path: m.path, body: validBody}); r.status != 401 {
			t.Errorf("%s %s without a token: %d", m.method, m.path, r.status)
		}
	}
}

func TestIssueToken(t *testing.T) {
	a := NewAuthenticator(secret, func() time.Time { return now })
	tok, err := IssueToken(secret, 42, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	if owner, err := a.Owner(tok); err != nil || owner != 42 {
		t.Errorf("owner %d, %v", owner, err)
	}
	later := NewAuthenticator(secret, func() time.Time { return now.Add(time.Minute + time.Second) })
	if _, err := later.Owner(tok); nearby.ErrorCode(err) != nearby.EUNAUTHORIZED {
		t.Errorf("after ttl: %v", err)
	}
	for _, bad := range []struct {
		owner int64
		ttl   time.Duration
		key   []byte
	}{{0, time.Hour, secret}, {1, 0, secret}, {1, time.Hour, nil}} {
		if _, err := IssueToken(bad.key, bad.owner, bad.ttl, now); err == nil {
			t.Errorf("IssueToken(%v) succeeded", bad)
		}
	}
}

func TestCreateGetListFlow(t *testing.T) {
	s := newTestServer(t)
	r := s.do(t, req{method: "POST", path: "/v1/businesses", owner: 7, body: validBody})
	if r.status != 201 || r.header.Get("Location") != "/v1/businesses/1" || r.header.Get("ETag") != `"1"` {
		t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
	}
	var b businessJSON
	if err := json.Unmarshal(r.body, &b); err != nil || b.ID != "1" || b.OwnerID != "7" || b.Name != "Blue Bottle" || b.Photos == nil {
		t.Fatalf("created %+v, %v", b, err)
	}
	// The raw JSON carries the id as a string and every field.
	var raw map[string]any
	json.Unmarshal(r.body, &raw)
	for _, f := range append(slices.Clone(nearby.BusinessFields), "id", "owner_id", "version", "created_at", "updated_at") {
		if _, ok := raw[f]; !ok {
			t.Errorf("response lacks %q", f)
		}
	}
	if _, ok := raw["id"].(string); !ok {
		t.Errorf("id is %T, want a string", raw["id"])
	}
	g := s.do(t, req{method: "GET", path: "/v1/businesses/1", owner: 7})
	if g.status != 200 || g.header.Get("ETag") != `"1"` || !bytes.Equal(g.body, r.body) {
		t.Errorf("get: %d %s", g.status, g.body)
	}
	if g := s.do(t, req{method: "GET", path: "/v1/businesses/1", owner: 7, header: map[string]string{"If-None-Match": `"1"`}}); g.status != 304 {
		t.Errorf("If-None-Match: %d", g.status)
	}
	// The tags may come in several header lines, the current one last.
	rq := httptest.NewRequest("GET", "/v1/businesses/1", nil)
	rq.Header.Set("Authorization", "Bearer "+tokenFor(t, 7))
	rq.Header.Add("If-None-Match", `"7"`)
	rq.Header.Add("If-None-Match", `"9", "1"`)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, rq)
	if w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("If-None-Match in two lines: %d", w.Code)
	}
	if g := s.do(t, req{method: "GET", path: "/v1/businesses/1", owner: 8}); g.status != 404 {
		t.Errorf("another owner: %d", g.status)
	}
	for i := range 4 {
		s.do(t, req{method: "POST", path: "/v1/businesses", owner: 7, body: strings.Replace(validBody, "Blue", strconv.Itoa(i), 1)})
	}
	var ids []string
	cursor := ""
	for {
		l := s.do(t, req{method: "GET", path: "/v1/owners/me/businesses?limit=2" + cursor, owner: 7})
		var page listJSON
		if err := json.Unmarshal(l.body, &page); err != nil || l.status != 200 || page.Count != len(page.Results) {
			t.Fatalf("list: %d %s", l.status, l.body)
		}
		for _, b := range page.Results {
			ids = append(ids, b.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *page.NextCursor
	}
	if !slices.Equal(ids, []string{"1", "2", "3", "4", "5"}) {
		t.Errorf("listed %v", ids)
	}
	// The envelope of an empty page.
	if l := s.do(t, req{method: "GET", path: "/v1/owners/me/businesses", owner: 99}); string(l.body) != `{"results":[],"count":0,"next_cursor":null}`+"\n" {
		t.Errorf("empty list: %s", l.body)
	}
}

func TestListParams(t *testing.T) {
	s := newTestServer(t)
	for _, tt := range []struct {
		query string
		bad   []string
	}{
		{"limit=0", []string{"limit"}},
		{"limit=101", []string{"limit"}},
		{"limit=x", []string{"limit"}},
		{"cursor=zzz", []string{"cursor"}},
		{"cursor=%zz", []string{"cursor"}}, // not dropped as url.Query would
		{"cursor=" + encodeListCursor(5)[:4], []string{"cursor"}},
		{"limit=1&limit=2", []string{"limit"}},
		{"page=2", []string{"page"}},
		{"page=2&limit=0&cursor=%21", []string{"cursor", "limit", "page"}},
		{"limit=0&cursor=%zz", []string{"cursor", "limit"}}, // a pair that does not decode, named with the rest
	} {
		r := s.do(t, req{method: "GET", path: "/v1/owners/me/businesses?" + tt.query, owner: 1})
		if r.status != 400 || !slices.Equal(r.params(), tt.bad) {
			t.Errorf("%s: %d %v, want 400 %v", tt.query, r.status, r.params(), tt.bad)
		}
	}
	if id, err := decodeListCursor(encodeListCursor(1 << 60)); err != nil || id != 1<<60 {
		t.Errorf("cursor round trip: %d %v", id, err)
	}
}

// TestValidation sends every kind of bad body: each is a 400 naming every
// bad field, and nothing is stored.
func TestValidation(t *testing.T) {
	s := newTestServer(t)
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name, body string
		bad        []string
	}{
		{"empty body", ``, []string{"body"}},
		{"not an object", `[1,2]`, []string{"body"}},
		{"string", `"x"`, []string{"body"}},
		{"malformed", `{"name": "x",}`, []string{"body"}},
		{"truncated", `{"name": "x"`, []string{"body"}},
		{"trailing data", validBody + `{}`, []string{"body"}},
		{"trailing garbage", validBody + ` x`, []string{"body"}},
		{"invalid utf-8", `{"name":"` + "\xff" + `","category":"cafe","lat":1,"lon":1}`, []string{"body"}},
		{"unknown field", `{"name":"a","category":"cafe","lat":1,"lon":1,"stars":5}`, []string{"stars"}},
		{"field case", `{"Name":"a","category":"cafe","lat":1,"lon":1}`, []string{"name", "Name"}},
		{"read-only field", `{"id":"5","name":"a","category":"cafe","lat":1,"lon":1}`, []string{"id"}},
		{"duplicate field", `{"name":"a","name":"b","category":"cafe","lat":1,"lon":1}`, []string{"name"}},
		{"missing required", `{}`, []string{"name", "category", "lat", "lon"}},
		{"null required", `{"name":null,"category":null,"lat":null,"lon":null}`, []string{"name", "category", "lat", "lon"}},
		{"empty name", `{"name":"","category":"cafe","lat":1,"lon":1}`, []string{"name"}},
		{"blank name", `{"name":"   ","category":"cafe","lat":1,"lon":1}`, []string{"name"}},
		{"long name", `{"name":"` + long(201) + `","category":"cafe","lat":1,"lon":1}`, []string{"name"}},
		{"NUL in name", `{"name":"a\u0000b","category":"cafe","lat":1,"lon":1}`, []string{"name"}},
		{"name number", `{"name":5,"category":"cafe","lat":1,"lon":1}`, []string{"name"}},
		{"unknown category", `{"name":"a","category":"spaceport","lat":1,"lon":1}`, []string{"category"}},
		{"category case", `{"name":"a","category":"Cafe","lat":1,"lon":1}`, []string{"category"}},
		{"lat range", `{"name":"a","category":"cafe","lat":90.5,"lon":1}`, []string{"lat"}},
		{"lon range", `{"name":"a","category":"cafe","lat":1,"lon":-181}`, []string{"lon"}},
		{"lat string", `{"name":"a","category":"cafe","lat":"40.7","lon":1}`, []string{"lat"}},
		{"lat NaN", `{"name":"a","category":"cafe","lat":"NaN","lon":1}`, []string{"lat"}},
		{"lat NaN bare", `{"name":"a","category":"cafe","lat":NaN,"lon":1}`, []string{"lat"}}, // Python's json.dumps writes these
		{"lon -Infinity", `{"name":"a","category":"cafe","lat":1, "lon": -Infinity}`, []string{"lon"}},
		{"Infinity everywhere", `{"name":Infinity,"category":"cafe","lat":1,"lon":1,"photos":[NaN],"city":"NaN"}`, []string{"name", "photos"}},
		{"NaN in a string is text", `{"name":"NaN \" NaN","category":"cafe","lat":1,"lon":1}`, nil},
		{"lat huge", `{"name":"a","category":"cafe","lat":1e400,"lon":1}`, []string{"lat"}},
		{"lon bool", `{"name":"a","category":"cafe","lat":1,"lon":true}`, []string{"lon"}},
		{"country", `{"name":"a","category":"cafe","lat":1,"lon":1,"country":"USA"}`, []string{"country"}},
		{"address long", `{"name":"a","category":"cafe","lat":1,"lon":1,"address":"` + long(201) + `"}`, []string{"address"}},
		{"city long", `{"name":"a","category":"cafe","lat":1,"lon":1,"city":"` + long(101) + `"}`, []string{"city"}},
		{"state long", `{"name":"a","category":"cafe","lat":1,"lon":1,"state":"` + long(101) + `"}`, []string{"state"}},
		{"zip long", `{"name":"a","category":"cafe","lat":1,"lon":1,"zip":"` + long(21) + `"}`, []string{"zip"}},
		{"zip number", `{"name":"a","category":"cafe","lat":1,"lon":1,"zip":10036}`, []string{"zip"}},
		{"description", `{"name":"a","category":"cafe","lat":1,"lon":1,"description":"` + long(5121) + `"}`, []string{"description"}},
		{"photos not array", `{"name":"a","category":"cafe","lat":1,"lon":1,"photos":"https://x.example/a"}`, []string{"photos"}},
		{"photo not string", `{"name":"a","category":"cafe","lat":1,"lon":1,"photos":[1]}`, []string{"photos"}},
		{"photo relative", `{"name":"a","category":"cafe","lat":1,"lon":1,"photos":["/a.jpg"]}`, []string{"photos"}},
		{"photo scheme", `{"name":"a","category":"cafe","lat":1,"lon":1,"photos":["data:image/png;base64,AAAA"]}`, []string{"photos"}},
		{"21 photos", `{"name":"a","category":"cafe","lat":1,"lon":1,"photos":[` +
			strings.Repeat(`"https://x.example/p",`, 20) + `"https://x.example/p"]}`, []string{"photos"}},
		{"price 0", `{"name":"a","category":"cafe","lat":1,"lon":1,"price":0}`, []string{"price"}},
		{"price 5", `{"name":"a","category":"cafe","lat":1,"lon":1,"price":5}`, []string{"price"}},
		{"price fraction", `{"name":"a","category":"cafe","lat":1,"lon":1,"price":2.5}`, []string{"price"}},
		{"price 5.0", `{"name":"a","category":"cafe","lat":1,"lon":1,"price":5.0}`, []string{"price"}},
		{"price 2.5e0", `{"name":"a","category":"cafe","lat":1,"lon":1,"price":2.5e0}`, []string{"price"}},
		{"price string", `{"name":"a","category":"cafe","lat":1,"lon":1,"price":"$$"}`, []string{"price"}},
		{"rating 5.1", `{"name":"a","category":"cafe","lat":1,"lon":1,"rating":5.1}`, []string{"rating"}},
		{"rating negative", `{"name":"a","category":"cafe","lat":1,"lon":1,"rating":-0.5}`, []string{"rating"}},
		{"rating two decimals", `{"name":"a","category":"cafe","lat":1,"lon":1,"rating":4.25}`, []string{"rating"}},
		{"rating string", `{"name":"a","category":"cafe","lat":1,"lon":1,"rating":"4.5"}`, []string{"rating"}},
		{"rating NaN", `{"name":"a","category":"cafe","lat":1,"lon":1,"rating":NaN}`, []string{"rating"}},
		{"review count negative", `{"name":"a","category":"cafe","lat":1,"lon":1,"review_count":-1}`, []string{"review_count"}},
		{"review count 2^31", `{"name":"a","category":"cafe","lat":1,"lon":1,"review_count":2147483648}`, []string{"review_count"}},
		{"review count fraction", `{"name":"a","category":"cafe","lat":1,"lon":1,"review_count":1.5}`, []string{"review_count"}},
		{"review count huge", `{"name":"a","category":"cafe","lat":1,"lon":1,"review_count":1e30}`, []string{"review_count"}},
		{"review count 2^31.0", `{"name":"a","category":"cafe","lat":1,"lon":1,"review_count":2147483648.0}`, []string{"review_count"}},
		{"review count -1e0", `{"name":"a","category":"cafe","lat":1,"lon":1,"review_count":-1e0}`, []string{"review_count"}},
		{"hours not an object", `{"name":"a","category":"cafe","lat":1,"lon":1,"hours":"9-5"}`, []string{"hours"}},
		{"hours no zone", `{"name":"a","category":"cafe","lat":1,"lon":1,"hours":{"weekly":{}}}`, []string{"hours.time_zone"}},
		{"hours unknown zone", `{"name":"a","category":"cafe","lat":1,"lon":1,"hours":{"time_zone":"Mars/Olympus"}}`, []string{"hours.time_zone"}},
		{"hours Local", `{"name":"a","category":"cafe","lat":1,"lon":1,"hours":{"time_zone":"Local"}}`, []string{"hours.time_zone"}},
		{"hours unknown day", `{"name":"a","category":"cafe","lat":1,"lon":1,"hours":{"time_zone":"UTC","weekly":{"funday":[]}}}`,
			[]string{"hours.weekly.funday"}},
		{"hours overlap", `{"name":"a","category":"cafe","lat":1,"lon":1,"hours":{"time_zone":"UTC","weekly":` +
			`{"mon":[["09:00","13:00"],["12:00","18:00"]]}}}`, []string{"hours.weekly.mon[1]"}},
		{"hours bad time", `{"name":"a","category":"cafe","lat":1,"lon":1,"hours":{"time_zone":"UTC","weekly":{"tue":[["9am","5pm"]]}}}`,
			[]string{"hours.weekly.tue[0]"}},
		{"hours duplicate zone", `{"name":"a","category":"cafe","lat":1,"lon":1,"hours":{"time_zone":"UTC","time_zone":"Asia/Tokyo"}}`,
			[]string{"hours.time_zone"}},
		{"hours duplicate day", `{"name":"a","category":"cafe","lat":1,"lon":1,"hours":{"time_zone":"UTC","weekly":` +
			`{"mon":[["09:00","17:00"]],"tue":[],"mon":[]}}}`, []string{"hours.weekly.mon"}},
		{"hours duplicate day escaped", `{"name":"a","category":"cafe","lat":1,"lon":1,"hours":{"time_zone":"UTC","weekly":` +
			`{"mon":[["09:00","17:00"]],"m\u006fn":[]}}}`, []string{"hours.weekly.mon"}},
		{"lone surrogate in name", `{"name":"caf\ud800","category":"cafe","lat":1,"lon":1}`, []string{"name"}},
		{"lone low surrogate", `{"name":"a","category":"cafe","lat":1,"lon":1,"city":"\udc00x"}`, []string{"city"}},
		{"reversed surrogates", `{"name":"a","category":"cafe","lat":1,"lon":1,"description":"\udc00\ud800"}`, []string{"description"}},
		{"lone surrogate in a photo", `{"name":"a","category":"cafe","lat":1,"lon":1,"photos":["https://x.example/\ud83d.jpg"]}`,
			[]string{"photos"}},
		{"lone surrogate in an unknown field", `{"name":"a","category":"cafe","lat":1,"lon":1,"x":"\ud800"}`, []string{"x"}},
		{"surrogate pair", `{"name":"caf\ud83d\ude00 \\ud800","category":"cafe","lat":1,"lon":1}`, nil},
		{"hours in order", `{"name":"","category":"cafe","lat":1,"lon":1,"hours":{"time_zone":"UTC","extra":1},"rating":9,"zzz":1}`,
			[]string{"name", "rating", "hours.extra", "zzz"}},
		{"attributes", `{"name":"a","category":"cafe","lat":1,"lon":1,"price":4,"rating":0,"review_count":2147483647,` +
			`"hours":{"time_zone":"Asia/Tokyo","weekly":{"sun":[["00:00","24:00"]]}}}`, nil},
		{"attributes null", `{"name":"a","category":"cafe","lat":1,"lon":1,"price":null,"rating":null,"review_count":null,"hours":null}`, nil},
		{"everything", `{"name":"","category":"x","lat":-91,"lon":"x","address":1,"city":2,"state":3,"country":"x",` +
			`"zip":4,"description":5,"photos":6,"price":"x","rating":true,"review_count":[],"hours":8,"extra":7,"version":8}`,
			append(slices.Clone(nearby.BusinessFields), "extra", "version")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, req{method: "POST", path: "/v1/businesses", owner: 1, body: tt.body})
			if tt.bad == nil {
				if r.status != 201 {
					t.Errorf("status %d (%s), want 201", r.status, r.body)
				}
				return
			}
			if r.status != 400 || !slices.Equal(r.params(), tt.bad) {
				t.Errorf("status %d, params %v (%s); want 400 %v", r.status, r.params(), r.body, tt.bad)
			}
			// PUT validates the same way.
			s.fake.recs[1] = &nearby.BusinessRecord{ID: 1, OwnerID: 1, Version: 1}
			r = s.do(t, req{method: "PUT", path: "/v1/businesses/1", owner: 1, body: tt.body, header: map[string]string{"If-Match": `"1"`}})
			if r.status != 400 || !slices.Equal(r.params(), tt.bad) {
				t.Errorf("PUT: status %d, params %v; want 400 %v", r.status, r.params(), tt.bad)
			}
		})
	}
	if s.fake.last != 4 {
		t.Errorf("%d businesses created, want only the 4 valid ones", s.fake.last)
	}
}

// TestWholeNumbersWithAFraction checks that price and review_count take a
// whole number however it is written (2.0, 2e0): JSON has one number type,
// the OpenAPI document's integer is JSON Schema's (a number whose
// fractional part is zero), and encoders of floats write 2.0.
func TestWholeNumbersWithAFraction(t *testing.T) {
	for _, tt := range []struct {
		body    string
		price   nearby.Price
		reviews uint32
	}{
		{`{"price":2.0,"review_count":1287.0}`, 2, 1287},
		{`{"price":4e0,"review_count":1.287e3}`, 4, 1287},
		{`{"price":10E-1,"review_count":0.0}`, 1, 0},
		{`{"price":3.000,"review_count":-0.0}`, 3, 0},
		{`{"price":1,"review_count":2147483647.0}`, 1, 2147483647},
	} {
		in, err := decodeInput([]byte(tt.body), true)
		if err != nil || in.Price == nil || *in.Price != tt.price || in.ReviewCount == nil || *in.ReviewCount != tt.reviews {
			t.Errorf("%s: price %v, review_count %v, %v; want %d, %d", tt.body, in.Price, in.ReviewCount, err, tt.price, tt.reviews)
		}
	}
	s := newTestServer(t)
	r := s.do(t, req{method: "POST", path: "/v1/businesses", owner: 1,
		body: `{"name":"a","category":"cafe","lat":1,"lon":1,"price":2.0,"review_count":12.0}`})
	if r.status != 201 || !strings.Contains(string(r.body), `"price":2,`) || !strings.Contains(string(r.body), `"review_count":12,`) {
		t.Errorf("create with price 2.0: %d %s", r.status, r.body)
	}
}

func TestBodyLimitsAndTypes(t *testing.T) {
	s := newTestServer(t)
	big := `{"name":"a","category":"cafe","lat":1,"lon":1,"description":"` + strings.Repeat("a", MaxBodyBytes) + `"}`
	if r := s.do(t, req{method: "POST", path: "/v1/businesses", owner: 1, body: big}); r.status != 413 {
		t.Errorf("big body: %d", r.status)
	}
	// Without a Content-Length (chunked), the limit holds while reading.
	rq := httptest.NewRequest("POST", "/v1/businesses", io.MultiReader(strings.NewReader(big)))
	rq.ContentLength = -1
	rq.Header.Set("Authorization", "Bearer "+tokenFor(t, 1))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, rq)
	if w.Code != 413 {
		t.Errorf("chunked big body: %d", w.Code)
	}
	for _, tt := range []struct {
		method, ct string
		status     int
	}{
		{"POST", "application/json", 201},
		{"POST", "application/json; charset=utf-8", 201},
		{"POST", "application/json; charset=UTF8", 201},
		{"POST", "application/json; charset=latin1", 415},
		{"POST", "application/json; charset=utf-16", 415},
		{"POST", "text/plain", 415},
		{"POST", "application/xml", 415},
		{"POST", "application/merge-patch+json", 415},
		{"POST", "application/x-www-form-urlencoded", 201}, // curl -d's default, parsed as JSON
		{"POST", "", 201},
		{"PATCH", "application/merge-patch+json", 200},
		{"PATCH", "application/json", 200},
		{"PATCH", "text/plain", 415},
	} {
		path, hdr := "/v1/businesses", map[string]string{"Content-Type": tt.ct}
		if tt.method == "PATCH" {
			s.fake.recs[1] = &nearby.BusinessRecord{ID: 1, OwnerID: 1, Version: 1, Name: "x", Lat: 1, Lon: 1}
			path, hdr["If-Match"] = "/v1/businesses/1", "*"
		}
		r := s.do(t, req{method: tt.method, path: path, owner: 1, body: validBody, header: hdr})
		if r.status != tt.status {
			t.Errorf("%s %q: %d, want %d (%s)", tt.method, tt.ct, r.status, tt.status, r.body)
		}
		if r.status == 415 && tt.method == "PATCH" && r.header.Get("Accept-Patch") == "" {
			t.Error("415 on PATCH without Accept-Patch")
		}
	}
}

// TestSlowBody checks that a body still unsent when the server's read
// timeout runs out is a 408 problem document, not a 400 blaming the body
// (whose reason named the server's and client's sockets).
func TestSlowBody(t *testing.T) {
	s := newTestServer(t)
	ts := httptest.NewUnstartedServer(s)
	ts.Config.ReadTimeout = 200 * time.Millisecond
	ts.Start()
	defer ts.Close()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Half of a 100-byte body, and then nothing.
	fmt.Fprintf(c, "POST /v1/businesses HTTP/1.1\r\nHost: owner-api\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":\"Blue Bottle\",\"category\":\"cafe\"", tokenFor(t, 1))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p problem.Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 408 || resp.Header.Get("Content-Type") != "application/problem+json" || p.Status != 408 ||
		len(p.InvalidParams) != 0 || strings.Contains(p.Detail, "127.0.0.1") {
		t.Errorf("%d %q %+v", resp.StatusCode, resp.Header.Get("Content-Type"), p)
	}
	if s.fake.last != 0 {
		t.Errorf("%d created", s.fake.last)
	}
}

func TestPreconditions(t *testing.T) {
	s := newTestServer(t)
	s.do(t, req{method: "POST", path: "/v1/businesses", owner: 1, body: validBody})
	patch := func(ifMatch string) resp {
		h := map[string]string{"Content-Type": "application/merge-patch+json"}
		if ifMatch != "" {
			h["If-Match"] = ifMatch
		}
		return s.do(t, req{method: "PATCH", path: "/v1/businesses/1", owner: 1, body: `{"city":"x"}`, header: h})
	}
	for _, tt := range []struct {
		ifMatch string
		status  int
	}{
		{"", 428}, {`"9"`, 412}, {`W/"1"`, 412}, {`"abc"`, 412}, {`"1`, 412}, {`"1", "2"`, 400},
		{`"1"`, 200}, {`"1"`, 412},
		// A bare version number is accepted as its ETag (documented
		// leniency); any other spelling of the version is another entity
		// tag, which does not match.
		{`2`, 200}, {`"+3"`, 412}, {`"03"`, 412}, {`03`, 412}, {`+3`, 412}, {`" 3"`, 412}, {`"3"`, 200},
		{`*`, 200},
	} {
		if r := patch(tt.ifMatch); r.status != tt.status {
			t.Errorf("If-Match %q: %d, want %d (%s)", tt.ifMatch, r.status, tt.status, r.body)
		}
	}
	// PUT needs If-Match too; DELETE takes it when given.
	if r := s.do(t, req{method: "PUT", path: "/v1/businesses/1", owner: 1, body: validBody}); r.status != 428 {
		t.Errorf("PUT without If-Match: %d", r.status)
	}
	if r := s.do(t, req{method: "DELETE", path: "/v1/businesses/1", owner: 1, header: map[string]string{"If-Match": `"1"`}}); r.status != 412 {
		t.Errorf("DELETE stale: %d", r.status)
	}
	if r := s.do(t, req{method: "DELETE", path: "/v1/businesses/1", owner: 1}); r.status != 204 || len(r.body) != 0 {
		t.Errorf("DELETE: %d %s", r.status, r.body)
	}
	if r := s.do(t, req{method: "DELETE", path: "/v1/businesses/1", owner: 1}); r.status != 404 {
		t.Errorf("DELETE again: %d", r.status)
	}
	for _, id := range []string{"0", "-1", "x", "1.5", "99999999999999999999"} {
		if r := s.do(t, req{method: "GET", path: "/v1/businesses/" + id, owner: 1}); r.status != 400 || !slices.Equal(r.params(), []string{"id"}) {
			t.Errorf("id %s: %d %v", id, r.status, r.params())
		}
	}
}

func TestIdempotencyKeyHeader(t *testing.T) {
	s := newTestServer(t)
	post := func(key, body string) resp {
		return s.do(t, req{method: "POST", path: "/v1/businesses", owner: 1, body: body, header: map[string]string{"Idempotency-Key": key}})
	}
	first := post("k1", validBody)
	again := post("k1", validBody)
	if first.status != 201 || again.status != 201 || !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" ||
		again.header.Get("Location") != first.header.Get("Location") {
		t.Errorf("retry: %d %d %v", first.status, again.status, again.header)
	}
	if r := post("k1", strings.Replace(validBody, "Blue", "Red", 1)); r.status != 422 {
		t.Errorf("same key, other body: %d", r.status)
	}
	if r := post(strings.Repeat("k", 256), validBody); r.status != 400 || !slices.Equal(r.params(), []string{"Idempotency-Key"}) {
		t.Errorf("long key: %d %v", r.status, r.params())
	}
	if s.fake.last != 1 {
		t.Errorf("%d created, want 1", s.fake.last)
	}
}

// TestErrorStatuses checks the one table from domain codes to statuses,
// and that internal details never reach the client.
func TestErrorStatuses(t *testing.T) {
	for _, tt := range []struct {
		err    error
		status int
		detail string
	}{
		{nearby.Errorf(nearby.ENOTFOUND, "business 1 not found"), 404, "business 1 not found"},
		{nearby.Errorf(nearby.ECONFLICT, "already exists"), 409, "already exists"},
		{nearby.Errorf(nearby.EPRECONDITION, "stale"), 412, "stale"},
		{nearby.Errorf(nearby.EKEYREUSED, "reused"), 422, "reused"},
		{nearby.Errorf(nearby.EFORBIDDEN, "no"), 403, "no"},
		{nearby.Errorf(nearby.EUNAVAILABLE, "the database is unavailable; retry later"), 503, "the database is unavailable; retry later"},
		{errors.New("pq: secret table xyz exploded"), 500, "internal error"},
	} {
		s := newTestServer(t)
		s.fake.err = tt.err
		r := s.do(t, req{method: "GET", path: "/v1/businesses/1", owner: 1})
		if r.status != tt.status || r.problem.Detail != tt.detail || r.problem.RequestID == "" {
			t.Errorf("%v: %d %+v", tt.err, r.status, r.problem)
		}
		if tt.status == 503 && r.header.Get("Retry-After") != "1" {
			t.Errorf("503 without Retry-After")
		}
		if tt.status == 500 && !strings.Contains(s.logs.String(), "exploded") {
			t.Errorf("internal error not logged")
		}
	}
}

func TestOperationalRoutes(t *testing.T) {
	s := newTestServer(t)
	if r := s.do(t, req{method: "GET", path: "/healthz"}); r.status != 200 {
		t.Errorf("healthz %d", r.status)
	}
	if r := s.do(t, req{method: "GET", path: "/readyz"}); r.status != 200 {
		t.Errorf("readyz %d", r.status)
	}
	s.ready = func(context.Context) error { return nearby.Errorf(nearby.EUNAVAILABLE, "down") }
	if r := s.do(t, req{method: "GET", path: "/readyz"}); r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("readyz when down: %d %v", r.status, r.header)
	}
	if r := s.do(t, req{method: "GET", path: "/openapi.yaml"}); r.status != 200 || !strings.HasPrefix(string(r.body), "openapi: 3.1") {
		t.Errorf("openapi %d", r.status)
	}
	s.do(t, req{method: "GET", path: "/v1/owners/me/businesses", owner: 1})
	if r := s.do(t, req{method: "GET", path: "/metrics"}); r.status != 200 ||
		!strings.Contains(string(r.body), `nearby_http_requests_total{method="GET",route="/v1/owners/me/businesses",status="200"} 1`) {
		t.Errorf("metrics %d\n%s", r.status, r.body)
	}
	if r := s.do(t, req{method: "GET", path: "/nope"}); r.status != 404 {
		t.Errorf("unknown route %d", r.status)
	}
	// A method chi does not know is routed as not allowed whatever the
	// path: on a path no method is served on, it is a 404 too, not a 405
	// with an empty Allow.
	for _, m := range []string{"GET", "TRACE", "PROPFIND", "get"} {
		for _, path := range []string{"/nope", "/v1/businesses/1/x", "/v1/busi%6Eesses"} {
			if r := s.do(t, req{method: m, path: path, owner: 1}); r.status != 404 || r.header.Get("Allow") != "" {
				t.Errorf("%s %s: %d, Allow %q; want 404", m, path, r.status, r.header.Get("Allow"))
			}
		}
	}
	for _, m := range []string{"PROPFIND", "get"} {
		if r := s.do(t, req{method: m, path: "/v1/businesses/1", owner: 1}); r.status != 405 || r.header.Get("Allow") != "GET, HEAD, PUT, PATCH, DELETE" {
			t.Errorf("%s /v1/businesses/1: %d, Allow %q; want 405", m, r.status, r.header.Get("Allow"))
		}
	}
	for path, allow := range map[string]string{
		"/v1/businesses":           "POST",
		"/v1/businesses/1":         "GET, HEAD, PUT, PATCH, DELETE",
		"/v1/owners/me/businesses": "GET, HEAD",
		"/healthz":                 "GET, HEAD",
	} {
		if r := s.do(t, req{method: "TRACE", path: path}); r.status != 405 || r.header.Get("Allow") != allow {
			t.Errorf("TRACE %s: %d, Allow %q, want %q", path, r.status, r.header.Get("Allow"), allow)
		}
	}
	for _, path := range []string{"/v1/owners/me/businesses", "/healthz", "/readyz", "/openapi.yaml"} {
		if r := s.do(t, req{method: "GET", path: path + "?x=" + strings.Repeat("a", MaxQueryBytes), owner: 1}); r.status != 414 {
			t.Errorf("GET %s with a long query: %d, want 414", path, r.status)
		}
	}
	if !strings.Contains(s.logs.String(), `"msg":"request"`) {
		t.Error("no request log lines")
	}
}

// TestMergePatch checks RFC 7396 semantics: absent keeps, null clears an
// optional field, arrays are replaced whole.
func TestMergePatch(t *testing.T) {
	s := newTestServer(t)
	s.do(t, req{method: "POST", path: "/v1/businesses", owner: 1,
		body: `{"name":"A","category":"cafe","lat":1,"lon":2,"city":"Paris","zip":"75001","photos":["https://x.example/1","https://x.example/2"]}`})
	r := s.do(t, req{method: "PATCH", path: "/v1/businesses/1", owner: 1, body: `{"city":null,"photos":["https://x.example/3"],"lat":1.5}`,
		header: map[string]string{"If-Match": `"1"`, "Content-Type": "application/merge-patch+json"}})
	var b businessJSON
	if err := json.Unmarshal(r.body, &b); err != nil || r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if b.City != "" || b.Zip != "75001" || b.Name != "A" || b.Lat != 1.5 || b.Lon != 2 || !slices.Equal(b.Photos, []string{"https://x.example/3"}) ||
		r.header.Get("ETag") != `"2"` || b.Version != 2 {
		t.Errorf("patched %+v", b)
	}
	r = s.do(t, req{method: "PATCH", path: "/v1/businesses/1", owner: 1, body: `{"name":null,"photos":null}`,
		header: map[string]string{"If-Match": `"2"`}})
	if r.status != 400 || !slices.Equal(r.params(), []string{"name"}) {
		t.Errorf("removing name: %d %v", r.status, r.params())
	}
	// PUT clears what it does not send.
	r = s.do(t, req{method: "PUT", path: "/v1/businesses/1", owner: 1, body: validBody, header: map[string]string{"If-Match": `"2"`}})
	if err := json.Unmarshal(r.body, &b); err != nil || r.status != 200 || b.Zip != "" || len(b.Photos) != 0 || b.Name != "Blue Bottle" {
		t.Errorf("put: %d %+v", r.status, b)
	}
}

// TestAttributesJSON creates, patches and clears the attributes through the
// API: their JSON in every answer, and merge-patch semantics.
func TestAttributesJSON(t *testing.T) {
	s := newTestServer(t)
	hoursDoc := `{"time_zone":"Europe/Paris","weekly":{"mon":[["11:30","14:30"],["18:00","22:30"]],"fri":[["18:00","02:00"]]}}`
	r := s.do(t, req{method: "POST", path: "/v1/businesses", owner: 1, body: `{"name":"Chez Nous","category":"restaurant","lat":48.85,"lon":2.35,` +
		`"price":3,"rating":4.5,"review_count":1287,"hours":` + hoursDoc + `}`})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	wantHours := `{"time_zone":"Europe/Paris","weekly":{"mon":[["11:30","14:30"],["18:00","22:30"]],"tue":[],"wed":[],"thu":[],` +
		`"fri":[["18:00","02:00"]],"sat":[],"sun":[]}}`
	for field, want := range map[string]string{"price": "3", "rating": "4.5", "review_count": "1287", "hours": wantHours} {
		if got := string(raw[field]); got != want {
			t.Errorf("%s = %s, want %s", field, got, want)
		}
	}
	patch := func(version int, body string) map[string]json.RawMessage {
		t.Helper()
		r := s.do(t, req{method: "PATCH", path: "/v1/businesses/1", owner: 1, body: body,
			header: map[string]string{"If-Match": fmt.Sprintf(`"%d"`, version), "Content-Type": "application/merge-patch+json"}})
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &raw); err != nil || r.status != 200 {
			t.Fatalf("patch %s: %d %s", body, r.status, r.body)
		}
		return raw
	}
	// Absent keeps; a value replaces; 0 stars is a rating.
	raw = patch(1, `{"rating":0}`)
	if string(raw["rating"]) != "0" || string(raw["price"]) != "3" || string(raw["hours"]) != wantHours {
		t.Errorf("after patching the rating: %s %s %s", raw["rating"], raw["price"], raw["hours"])
	}
	// null clears.
	raw = patch(2, `{"price":null,"rating":null,"review_count":null,"hours":null}`)
	for field, want := range map[string]string{"price": "null", "rating": "null", "review_count": "0", "hours": "null"} {
		if got := string(raw[field]); got != want {
			t.Errorf("after clearing: %s = %s, want %s", field, got, want)
		}
	}
	// A bad part of the hours is named; nothing changes.
	r = s.do(t, req{method: "PATCH", path: "/v1/businesses/1", owner: 1, body: `{"hours":{"time_zone":"UTC","weekly":{"mon":[["09:00"]]}}}`,
		header: map[string]string{"If-Match": `"3"`}})
	if r.status != 400 || !slices.Equal(r.params(), []string{"hours.weekly.mon[0]"}) {
		t.Errorf("bad hours: %d %v", r.status, r.params())
	}
	// Lists carry the attributes too.
	l := s.do(t, req{method: "GET", path: "/v1/owners/me/businesses", owner: 1})
	if !strings.Contains(string(l.body), `"price":null,"rating":null,"review_count":0,"hours":null`) {
		t.Errorf("list: %s", l.body)
	}
}

// TestMetricsMethodsBounded: the request metrics' method label takes the
// standard methods only, so clients inventing methods cannot grow the
// metrics without bound.
func TestMetricsMethodsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewServer(Config{
		Service: newFake(), Secret: secret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Registerer: reg, Gatherer: reg, OpenAPI: []byte("openapi: 3.1.0\n"), Now: func() time.Time { return now },
	})
	for _, m := range []string{"GET", "BREW", "ZZ1", "ZZ2"} {
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(m, "/healthz", nil))
	}
	for _, metric := range []string{"nearby_http_requests_total", "nearby_http_request_duration_seconds"} {
		if methods := promtest.LabelValues(t, reg, metric, "method"); !slices.Equal(methods, []string{"GET", "OTHER"}) {
			t.Errorf("%s: method labels %v, want GET and OTHER", metric, methods)
		}
	}
}

// TestClientGoneIsNoServerError: a request whose client went away (the
// store answers with the context's error) is counted with status 499, and
// not logged as an internal error.
func TestClientGoneIsNoServerError(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	svc := newFake()
	svc.err = fmt.Errorf("list businesses: %w", context.Canceled)
	s := NewServer(Config{
		Service: svc, Secret: secret, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Registerer: reg, Gatherer: reg, OpenAPI: []byte("openapi: 3.1.0\n"), Now: func() time.Time { return now },
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("GET", "/v1/owners/me/businesses", nil).WithContext(ctx)
	r.Header.Set("Authorization", "Bearer "+tokenFor(t, 1))
	s.ServeHTTP(httptest.NewRecorder(), r)
	if strings.Contains(logs.String(), "internal error") {
		t.Errorf("logged:\n%s", logs.String())
	}
	if statuses := promtest.LabelValues(t, reg, "nearby_http_requests_total", "status"); !slices.Equal(statuses, []string{"499"}) {
		t.Errorf("counted with statuses %v, want [499]", statuses)
	}
}

// brokenPipe is a response writer whose connection is gone: every body
// write fails, as a write to a reset socket does.
type brokenPipe struct{ *httptest.ResponseRecorder }

func (b brokenPipe) Write([]byte) (int, error) {
	if !b.Flushed {
		b.WriteHeader(http.StatusOK)
	}
	return 0, syscall.EPIPE
}

// TestUndeliveredAnswerIsNoServerError: an answer whose body cannot be
// written (the client reset the connection) is not logged as an internal
// error, and no problem document follows the status line that went out.
func TestUndeliveredAnswerIsNoServerError(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"/v1/owners/me/businesses", "/healthz", "/openapi.yaml"} {
		w := brokenPipe{httptest.NewRecorder()}
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer "+tokenFor(t, 1))
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Errorf("%s: status %d, want 200", path, w.Code)
		}
	}
	if strings.Contains(s.logs.String(), "ERROR") {
		t.Errorf("logged:\n%s", s.logs.String())
	}
}

// TestIdempotencyKeyPerOwner: keys are per owner, so another owner's use of
// the same key with the same body creates their own business instead of
// replaying (and revealing) the first owner's.
func TestIdempotencyKeyPerOwner(t *testing.T) {
	s := newTestServer(t)
	post := func(owner int64) resp {
		return s.do(t, req{method: "POST", path: "/v1/businesses", owner: owner, body: validBody,
			header: map[string]string{"Idempotency-Key": "shared"}})
	}
	mine, theirs := post(1), post(2)
	if mine.status != 201 || theirs.status != 201 || theirs.header.Get("Idempotent-Replayed") != "" ||
		theirs.header.Get("Location") == mine.header.Get("Location") || !strings.Contains(string(theirs.body), `"owner_id":"2"`) {
		t.Fatalf("owner 2 with owner 1's key: %d %v %s", theirs.status, theirs.header, theirs.body)
	}
	if again := post(2); again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.body, theirs.body) {
		t.Errorf("owner 2's retry: %d %v %s", again.status, again.header, again.body)
	}
}
