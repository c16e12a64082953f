package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/api"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/ownerapi"
	"github.com/nearby/nearby/internal/postgres"
	"github.com/nearby/nearby/internal/postgres/pgtest"
	"github.com/nearby/nearby/internal/problem"
	"github.com/nearby/nearby/internal/syncbuf"
)

const testSecret = "owner-api-test-secret-0123456789abcdef"

// ownerAPI is an owner-api server run through run() on a loopback port.
type ownerAPI struct {
	url  string
	logs *syncbuf.Buffer
	dsn  string
}

// startOwnerAPI migrates the database at dsn with the migrate command,
// runs owner-api on it with args and waits until it listens.
func startOwnerAPI(t testing.TB, dsn string, args ...string) *ownerAPI {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--db", dsn}, noEnv, &out); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &syncbuf.Buffer{}
	done := make(chan error, 1)
	args = append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dsn, "--migrate=false"}, args...)
	go func() {
		err := run(ctx, args, func(k string) string { return map[string]string{"NEARBY_JWT_SECRET": testSecret}[k] }, pw)
		pw.Close()
		done <- err
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, URL string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				urlc <- line.URL
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("owner-api exited with %v", err)
		}
		if t.Failed() {
			t.Logf("owner-api log:\n%s", logs.String())
		}
	})
	select {
	case u := <-urlc:
		return &ownerAPI{url: u, logs: logs, dsn: dsn}
	case err := <-done:
		t.Fatalf("owner-api exited early: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("owner-api did not start listening")
	}
	return nil
}

func noEnv(string) string { return "" }

// tokenFor returns a bearer token for owner from the token command.
func tokenFor(t testing.TB, owner int64, extra ...string) string {
	t.Helper()
	var out bytes.Buffer
	args := append([]string{"token", "--owner", fmt.Sprint(owner), "--jwt-secret", testSecret}, extra...)
	if err := run(context.Background(), args, noEnv, &out); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String())
}

var client = &http.Client{Timeout: 30 * time.Second}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// params returns the names in a problem document's invalid_params.
func (r response) params(t *testing.T) []string {
	t.Helper()
	var p problem.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("not a problem document: %v\n%s", err, r.body)
	}
	var names []string
	for _, ip := range p.InvalidParams {
		names = append(names, ip.Name)
	}
	return names
}

// call sends a request with tok (if not empty) and headers as name, value
// pairs.
func call(t *testing.T, method, url, tok, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" && url[len(url)-8:] != "/metrics" {
		t.Errorf("%s %s: %d as %q, want a problem document", method, url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return response{resp.StatusCode, resp.Header, data}
}

func dbCount(t *testing.T, dsn, where string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM businesses WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const shop = `{"name":"Blue Bottle","category":"cafe","lat":40.758,"lon":-73.9855,"address":"1 Times Sq","city":"New York",` +
	`"state":"NY","country":"US","zip":"10036","description":"Coffee.","photos":["https://example.com/a.jpg"]}`

// TestCRUD walks one business through its whole life over HTTP, against
// the real database.
func TestCRUD(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	srv := startOwnerAPI(t, dsn)
	tok := tokenFor(t, 42)

	// Create, retried with the same Idempotency-Key.
	c := call(t, "POST", srv.url+"/v1/businesses", tok, shop, "Idempotency-Key", "create-1")
	if c.status != 201 || c.header.Get("ETag") != `"1"` || !strings.HasPrefix(c.header.Get("Location"), "/v1/businesses/") {
		t.Fatalf("create: %d %v %s", c.status, c.header, c.body)
	}
	rec := c.json(t)
	id, _ := rec["id"].(string)
	if id == "" || rec["owner_id"] != "42" || rec["name"] != "Blue Bottle" || rec["version"] != 1.0 || c.header.Get("Location") != "/v1/businesses/"+id {
		t.Fatalf("created %v", rec)
	}
	again := call(t, "POST", srv.url+"/v1/businesses", tok, shop, "Idempotency-Key", "create-1")
	if again.status != 201 || !bytes.Equal(again.body, c.body) || again.header.Get("Location") != c.header.Get("Location") {
		t.Errorf("retry: %d %s", again.status, again.body)
	}
	if r := call(t, "POST", srv.url+"/v1/businesses", tok, strings.Replace(shop, "Blue", "Red", 1), "Idempotency-Key", "create-1"); r.status != 422 {
		t.Errorf("same key, other body: %d %s", r.status, r.body)
	}
	if n := dbCount(t, dsn, "owner_id = 42"); n != 1 {
		t.Fatalf("%d rows after retries, want 1", n)
	}

	url := srv.url + "/v1/businesses/" + id
	g := call(t, "GET", url, tok, "")
	if g.status != 200 || !bytes.Equal(g.body, c.body) || g.header.Get("ETag") != `"1"` {
		t.Errorf("get: %d %s", g.status, g.body)
	}
	l := call(t, "GET", srv.url+"/v1/owners/me/businesses?limit=10", tok, "")
	if m := l.json(t); l.status != 200 || m["count"] != 1.0 || m["next_cursor"] != nil || len(m["results"].([]any)) != 1 {
		t.Errorf("list: %d %s", l.status, l.body)
	}

	// Replace needs the current ETag.
	put := `{"name":"Blue Bottle Coffee","category":"cafe","lat":40.7,"lon":-74}`
	if r := call(t, "PUT", url, tok, put); r.status != 428 {
		t.Errorf("PUT without If-Match: %d", r.status)
	}
	if r := call(t, "PUT", url, tok, put, "If-Match", `"7"`); r.status != 412 {
		t.Errorf("PUT stale: %d", r.status)
	}
	p := call(t, "PUT", url, tok, put, "If-Match", `"1"`)
	if m := p.json(t); p.status != 200 || p.header.Get("ETag") != `"2"` || m["city"] != "" || m["name"] != "Blue Bottle Coffee" {
		t.Errorf("PUT: %d %s", p.status, p.body)
	}
	// Merge patch.
	m := call(t, "PATCH", url, tok, `{"city":"Brooklyn","photos":["https://example.com/b.jpg"]}`,
		"If-Match", `"2"`, "Content-Type", "application/merge-patch+json")
	if mm := m.json(t); m.status != 200 || m.header.Get("ETag") != `"3"` || mm["city"] != "Brooklyn" || mm["name"] != "Blue Bottle Coffee" {
		t.Errorf("PATCH: %d %s", m.status, m.body)
	}
	// Delete: the owner no longer sees it; the row stays, marked.
	if r := call(t, "DELETE", url, tok, ""); r.status != 204 {
		t.Errorf("DELETE: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", url, tok, ""); r.status != 404 {
		t.Errorf("GET after DELETE: %d", r.status)
	}
	if r := call(t, "DELETE", url, tok, ""); r.status != 404 {
		t.Errorf("DELETE again: %d", r.status)
	}
	if n := dbCount(t, dsn, "id = $1 AND deleted_at IS NOT NULL", id); n != 1 {
		t.Errorf("soft-deleted row missing")
	}
	// Purge keeps it while followers may still need the deletion, and
	// removes it once it is older than --older-than (backdated here).
	var out bytes.Buffer
	if err := run(context.Background(), []string{"purge", "--db", dsn, "--older-than", "24h"}, noEnv, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"businesses":0`) || dbCount(t, dsn, "true") != 1 {
		t.Errorf("purge of a fresh deletion: %s", out.String())
	}
	pgtest.Exec(t, dsn, "UPDATE businesses SET deleted_at = deleted_at - interval '25 hours' WHERE id = $1", id)
	out.Reset()
	if err := run(context.Background(), []string{"purge", "--db", dsn, "--older-than", "24h"}, noEnv, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"businesses":1`) || dbCount(t, dsn, "true") != 0 {
		t.Errorf("purge: %s", out.String())
	}
}

// TestPurgeWarnsShortAges: purge with ages under a day, which searchd's
// followers (or a node loading a seed built before the deletion) and the
// idempotency promise may still need, does what it is asked and says what
// it risks, once for each age.
func TestPurgeWarnsShortAges(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	srv := startOwnerAPI(t, dsn)
	tok := tokenFor(t, 42)
	c := call(t, "POST", srv.url+"/v1/businesses", tok, shop, "Idempotency-Key", "k1")
	if c.status != 201 {
		t.Fatalf("POST: %d %s", c.status, c.body)
	}
	if r := call(t, "DELETE", srv.url+c.header.Get("Location"), tok, ""); r.status != 204 {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"purge", "--db", dsn}, noEnv, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "WARN") {
		t.Errorf("default ages warned:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"purge", "--db", dsn, "--older-than", "0s", "--keys-older-than", "0s"}, noEnv, &out); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--older-than is under 24h0m0s", "--keys-older-than is under 24h0m0s"} {
		if n := strings.Count(out.String(), flag); n != 1 {
			t.Errorf("%d warnings %q, want 1:\n%s", n, flag, out.String())
		}
	}
	if !strings.Contains(out.String(), `"businesses":1`) || !strings.Contains(out.String(), `"idempotency_keys":1`) {
		t.Errorf("purge with 0s ages: %s", out.String())
	}
}

// TestAttributes sets, reads, patches and clears a business's price,
// rating, review count and hours over HTTP, against the real database, and
// checks that the read path (the change feed) carries them.
func TestAttributes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	srv := startOwnerAPI(t, dsn)
	tok := tokenFor(t, 42)
	hours := `{"time_zone":"Europe/Paris","weekly":{"mon":[["11:30","14:30"],["18:00","22:30"]],"fri":[["18:00","02:00"]]}}`
	c := call(t, "POST", srv.url+"/v1/businesses", tok, `{"name":"Chez Nous","category":"restaurant","lat":48.85,"lon":2.35,`+
		`"price":3,"rating":4.5,"review_count":1287,"hours":`+hours+`}`, "Idempotency-Key", "attrs")
	if c.status != 201 {
		t.Fatalf("create: %d %s", c.status, c.body)
	}
	rec := c.json(t)
	url := srv.url + "/v1/businesses/" + rec["id"].(string)
	wantHours := `{"time_zone":"Europe/Paris","weekly":{"mon":[["11:30","14:30"],["18:00","22:30"]],"tue":[],"wed":[],"thu":[],` +
		`"fri":[["18:00","02:00"]],"sat":[],"sun":[]}}`
	if !strings.Contains(string(c.body), `"price":3,"rating":4.5,"review_count":1287,"hours":`+wantHours) {
		t.Errorf("created %s", c.body)
	}
	// The same create, hours spelled otherwise, is a replay.
	again := call(t, "POST", srv.url+"/v1/businesses", tok, `{"hours":{"weekly":{"fri":[["18:00","02:00"]],`+
		`"mon":[["11:30","14:30"],["18:00","22:30"]],"sun":[]},"time_zone":"Europe/Paris"},"review_count":1287,"rating":4.50,`+
		`"price":3,"name":"Chez Nous","category":"restaurant","lat":48.85,"lon":2.35}`, "Idempotency-Key", "attrs")
	if again.status != 201 || !bytes.Equal(again.body, c.body) {
		t.Errorf("replay: %d %s", again.status, again.body)
	}
	if g := call(t, "GET", url, tok, ""); !bytes.Equal(g.body, c.body) {
		t.Errorf("get: %s", g.body)
	}
	// Bad hours name their part; nothing changes.
	if r := call(t, "PATCH", url, tok, `{"hours":{"time_zone":"Europe/Paris","weekly":{"mon":[["09:00","13:00"],["12:00","14:00"]]}}}`,
		"If-Match", `"1"`); r.status != 400 || !slices.Equal(r.params(t), []string{"hours.weekly.mon[1]"}) {
		t.Errorf("bad hours: %d %s", r.status, r.body)
	}
	// null clears.
	p := call(t, "PATCH", url, tok, `{"price":null,"rating":null,"hours":null}`, "If-Match", `"1"`,
		"Content-Type", "application/merge-patch+json")
	if p.status != 200 || !strings.Contains(string(p.body), `"price":null,"rating":null,"review_count":1287,"hours":null`) {
		t.Errorf("clear: %d %s", p.status, p.body)
	}
	if n := dbCount(t, dsn, "price IS NULL AND rating IS NULL AND hours IS NULL AND review_count = 1287"); n != 1 {
		t.Errorf("%d rows cleared, want 1", n)
	}
	// The change feed carries the attributes.
	db, err := postgres.Open(context.Background(), postgres.Config{Primary: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cs, err := postgres.NewBusinessService(db).Changes(context.Background(), time.Time{}, 0, 10)
	if err != nil || len(cs) != 1 || cs[0].ReviewCount != 1287 || cs[0].Hours != nil || cs[0].Version != 2 {
		t.Errorf("changes: %+v, %v", cs, err)
	}
}

// TestConcurrentStaleETags sends many updates based on the same ETag at
// once: exactly one wins, the others get 412.
func TestConcurrentStaleETags(t *testing.T) {
	srv := startOwnerAPI(t, pgtest.NewDatabase(t))
	tok := tokenFor(t, 7)
	for _, method := range []string{"PATCH", "PUT", "DELETE"} {
		t.Run(method, func(t *testing.T) {
			c := call(t, "POST", srv.url+"/v1/businesses", tok, shop)
			url := srv.url + "/v1/businesses/" + c.json(t)["id"].(string)
			const writers = 20
			statuses := make([]int, writers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range writers {
				wg.Go(func() {
					<-start
					body := fmt.Sprintf(`{"name":"writer %d","category":"bar","lat":1,"lon":2}`, i)
					if method == "DELETE" {
						body = ""
					}
					statuses[i] = call(t, method, url, tok, body, "If-Match", `"1"`).status
				})
			}
			close(start)
			wg.Wait()
			won := 0
			for _, s := range statuses {
				switch s {
				case 200, 204:
					won++
				case 412:
				case 404:
					if method != "DELETE" {
						t.Errorf("status 404")
					}
				default:
					t.Errorf("status %d", s)
				}
			}
			if won != 1 {
				t.Errorf("%d of %d writers won, want exactly 1 (%v)", won, writers, statuses)
			}
		})
	}
}

// TestValidationErrors sends each kind of invalid request through the real
// stack: a 400 problem naming the bad fields, and nothing stored.
func TestValidationErrors(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	srv := startOwnerAPI(t, dsn)
	tok := tokenFor(t, 5)
	for _, tt := range []struct {
		name, body string
		bad        []string
	}{
		{"unknown field", `{"name":"a","category":"cafe","lat":1,"lon":1,"stars":5}`, []string{"stars"}},
		{"trailing data", `{"name":"a","category":"cafe","lat":1,"lon":1} {}`, []string{"body"}},
		{"malformed", `{"name":`, []string{"body"}},
		{"missing fields", `{"city":"x"}`, []string{"name", "category", "lat", "lon"}},
		{"empty name", `{"name":"","category":"cafe","lat":1,"lon":1}`, []string{"name"}},
		{"long name", `{"name":"` + strings.Repeat("n", 201) + `","category":"cafe","lat":1,"lon":1}`, []string{"name"}},
		{"category", `{"name":"a","category":"casino","lat":1,"lon":1}`, []string{"category"}},
		{"lat", `{"name":"a","category":"cafe","lat":-90.01,"lon":1}`, []string{"lat"}},
		{"lon", `{"name":"a","category":"cafe","lat":1,"lon":180.01}`, []string{"lon"}},
		{"NaN string", `{"name":"a","category":"cafe","lat":"NaN","lon":1}`, []string{"lat"}},
		{"NaN bare", `{"name":"a","category":"cafe","lat":1,"lon":NaN}`, []string{"lon"}},
		{"country", `{"name":"a","category":"cafe","lat":1,"lon":1,"country":"United States"}`, []string{"country"}},
		{"description", `{"name":"a","category":"cafe","lat":1,"lon":1,"description":"` + strings.Repeat("d", 5121) + `"}`, []string{"description"}},
		{"photos", `{"name":"a","category":"cafe","lat":1,"lon":1,"photos":["ftp://x.example/a"]}`, []string{"photos"}},
		{"several", `{"name":"","category":"cafe","lat":100,"lon":1,"zip":` + "12345" + `}`, []string{"name", "lat", "zip"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, "POST", srv.url+"/v1/businesses", tok, tt.body)
			if r.status != 400 || !slices.Equal(r.params(t), tt.bad) {
				t.Errorf("%d %v, want 400 %v: %s", r.status, r.params(t), tt.bad, r.body)
			}
		})
	}
	big := `{"name":"a","category":"cafe","lat":1,"lon":1,"description":"` + strings.Repeat("d", 70000) + `"}`
	if r := call(t, "POST", srv.url+"/v1/businesses", tok, big); r.status != 413 {
		t.Errorf("70 KB body: %d", r.status)
	}
	if n := dbCount(t, dsn, "true"); n != 0 {
		t.Errorf("%d rows stored by invalid requests", n)
	}
}

// TestOwnersAndTokens checks that owners see only their own businesses
// (another's is a 404, as if it did not exist) and that bad or expired
// tokens are refused.
func TestOwnersAndTokens(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	srv := startOwnerAPI(t, dsn)
	alice, bob := tokenFor(t, 1), tokenFor(t, 2)
	c := call(t, "POST", srv.url+"/v1/businesses", alice, shop)
	url := srv.url + "/v1/businesses/" + c.json(t)["id"].(string)
	missing := srv.url + "/v1/businesses/999999"
	for _, u := range []string{url, missing} {
		for _, r := range []response{
			call(t, "GET", u, bob, ""),
			call(t, "PUT", u, bob, shop, "If-Match", `"1"`),
			call(t, "PATCH", u, bob, `{"name":"mine"}`, "If-Match", `"1"`),
			call(t, "DELETE", u, bob, ""),
		} {
			if r.status != 404 {
				t.Errorf("bob on %s: %d", u, r.status)
			}
		}
	}
	// The 404 for someone else's business is the 404 for no business.
	a, b := call(t, "GET", url, bob, "").json(t), call(t, "GET", missing, bob, "").json(t)
	if strings.Replace(a["detail"].(string), url[len(srv.url+"/v1/businesses/"):], "N", 1) !=
		strings.Replace(b["detail"].(string), "999999", "N", 1) {
		t.Errorf("details differ: %q vs %q", a["detail"], b["detail"])
	}
	if l := call(t, "GET", srv.url+"/v1/owners/me/businesses", bob, "").json(t); l["count"] != 0.0 {
		t.Errorf("bob lists %v", l)
	}
	if r := call(t, "GET", url, alice, ""); r.status != 200 || r.json(t)["name"] != "Blue Bottle" {
		t.Errorf("alice's business changed: %s", r.body)
	}

	expired, err := ownerapi.IssueToken([]byte(testSecret), 1, time.Minute, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := ownerapi.IssueToken([]byte("not the secret"), 1, time.Hour, time.Now())
	short := tokenFor(t, 1, "--ttl", "1s")
	time.Sleep(1100 * time.Millisecond)
	for name, tok := range map[string]string{"expired": expired, "forged": forged, "ttl ran out": short, "none": ""} {
		r := call(t, "GET", url, tok, "")
		if r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s token: %d %v", name, r.status, r.header)
		}
		if r := call(t, "POST", srv.url+"/v1/businesses", tok, shop); r.status != 401 {
			t.Errorf("%s token, POST: %d", name, r.status)
		}
	}
	if n := dbCount(t, dsn, "true"); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

// TestSQLLookingStrings stores strings that look like SQL and reads them
// back verbatim.
func TestSQLLookingStrings(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	srv := startOwnerAPI(t, dsn)
	tok := tokenFor(t, 3)
	for _, s := range []string{
		"'; DROP TABLE businesses; --",
		`Robert'); DELETE FROM businesses WHERE ('1'='1`,
		`" OR ""="`,
		`1; UPDATE businesses SET owner_id = 3 --`,
		`\'; SELECT pg_sleep(10); --`,
		"$$; COPY businesses TO '/tmp/x'; $$",
	} {
		body, _ := json.Marshal(map[string]any{"name": s, "category": "bar", "lat": 1, "lon": 2, "address": s, "city": s, "description": s, "zip": s[:min(len(s), 20)]})
		c := call(t, "POST", srv.url+"/v1/businesses", tok, string(body), "Idempotency-Key", s[:min(len(s), 30)])
		if c.status != 201 {
			t.Fatalf("%q: %d %s", s, c.status, c.body)
		}
		g := call(t, "GET", srv.url+"/v1/businesses/"+c.json(t)["id"].(string), tok, "").json(t)
		if g["name"] != s || g["address"] != s || g["city"] != s || g["description"] != s {
			t.Errorf("read back %v, want %q everywhere", g, s)
		}
	}
	if n := dbCount(t, dsn, "true"); n != 6 {
		t.Errorf("%d rows, want 6", n)
	}
}

func TestOperations(t *testing.T) {
	srv := startOwnerAPI(t, pgtest.NewDatabase(t))
	for path, status := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/openapi.yaml": 200, "/v1/nope": 404} {
		if r := call(t, "GET", srv.url+path, "", ""); r.status != status {
			t.Errorf("%s: %d, want %d", path, r.status, status)
		}
	}
	if r := call(t, "GET", srv.url+"/openapi.yaml", "", ""); !bytes.Equal(r.body, api.OwnerAPI) {
		t.Error("/openapi.yaml is not api.OwnerAPI")
	}
	call(t, "POST", srv.url+"/v1/businesses", tokenFor(t, 1), shop)
	metrics := string(call(t, "GET", srv.url+"/metrics", "", "").body)
	for _, want := range []string{
		`nearby_http_requests_total{method="POST",route="/v1/businesses",status="201"} 1`,
		`nearby_db_connections{state="total"}`, "nearby_db_acquires_total", "go_goroutines", "process_cpu_seconds_total",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(srv.logs.String(), testSecret) {
		t.Error("the token secret is in the log")
	}
}

func TestConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := parseConfig(nil, env(map[string]string{
		"NEARBY_DB": "postgres://u:pw@h/db", "NEARBY_JWT_SECRET": "s", "NEARBY_OWNER_ADDR": ":9000",
		"NEARBY_DB_REPLICA": "postgres://r/db", "NEARBY_DB_MAX_CONNS": "3", "NEARBY_REQUEST_TIMEOUT": "2s",
		"NEARBY_AUTO_MIGRATE": "false", "NEARBY_LOG_LEVEL": "debug",
	}), io.Discard)
	if err != nil || c.Addr != ":9000" || c.DB != "postgres://u:pw@h/db" || c.DBReplica != "postgres://r/db" || c.JWTSecret != "s" ||
		c.DBMaxConns != 3 || c.RequestTimeout != 2*time.Second || c.Migrate || c.LogLevel.String() != "DEBUG" {
		t.Errorf("from env: %+v, %v", c, err)
	}
	c, err = parseConfig([]string{"--addr", ":1", "--db", "x", "--jwt-secret", "y"}, env(map[string]string{"NEARBY_OWNER_ADDR": ":9000"}), io.Discard)
	if err != nil || c.Addr != ":1" || !c.Migrate || c.DBMaxConns != 10 || c.RequestTimeout != 5*time.Second {
		t.Errorf("flags over env: %+v, %v", c, err)
	}
	for _, args := range [][]string{
		{"--jwt-secret", "y"},
		{"--db", "x"},
		{"--db", "x", "--jwt-secret", "y", "--db-max-conns", "0"},
		{"--db", "x", "--jwt-secret", "y", "--request-timeout", "soon"},
		{"--db", "x", "--jwt-secret", "y", "--migrate", "perhaps"},
		{"--db", "x", "--jwt-secret", "y", "extra"},
		{"--nope"},
	} {
		if _, err := parseConfig(args, noEnv, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	// A bad value from the environment fails as the same flag would
	// (NEARBY_LOG_LEVEL=verbose was read as info, silently).
	for name, value := range map[string]string{
		"NEARBY_LOG_LEVEL": "verbose", "NEARBY_DB_MAX_CONNS": "many", "NEARBY_REQUEST_TIMEOUT": "soon", "NEARBY_AUTO_MIGRATE": "perhaps",
	} {
		if c, err := parseConfig(nil, env(map[string]string{"NEARBY_DB": "x", "NEARBY_JWT_SECRET": "y", name: value}), io.Discard); err == nil {
			t.Errorf("%s=%s accepted: %+v", name, value, c)
		}
	}
	for _, args := range [][]string{{"frobnicate"}, {"token"}, {"token", "--owner", "1"}, {"migrate"}, {"purge"}} {
		if err := run(context.Background(), args, noEnv, io.Discard); err == nil {
			t.Errorf("run %v succeeded", args)
		}
	}
}

func TestImportCSV(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	if err := run(ctx, []string{"migrate", "--db", dsn}, noEnv, io.Discard); err != nil {
		t.Fatal(err)
	}
	bs := dataset.Generate(500, 3)
	var buf bytes.Buffer
	if err := dataset.WriteCSV(&buf, bs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"import", "--db", dsn, "--from-csv", path, "--owner", "7"}, noEnv, io.Discard); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, postgres.Config{Primary: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := postgres.NewBusinessService(db)
	// Every business comes back with its attributes (ids are the table's).
	imported := 0
	if _, err := svc.CopyLive(ctx, func(b nearby.Business) error {
		want := bs[b.ID-1]
		want.ID = b.ID
		if !b.Equal(want) {
			t.Errorf("imported %+v, want %+v", b, want)
		}
		imported++
		return nil
	}); err != nil || imported != len(bs) {
		t.Fatalf("%d imported, %v", imported, err)
	}
	got, err := svc.Nearby(ctx, nearby.SearchQuery{Lat: bs[0].Lat, Lon: bs[0].Lon, RadiusM: 1})
	if err != nil || len(got) == 0 || got[0].Name != bs[0].Name {
		t.Fatalf("imported business not found: %v %v", got, err)
	}
	// A bad row fails the whole import, naming its line: nothing more is stored.
	for _, bad := range []struct{ csv, want string }{
		{"id,name,category,lat,lon\n1,ok,cafe,1,1\n2,bad,spaceport,1,1\n", `line 3: unknown category "spaceport"`},
		{"id,name,category,lat,lon,price,hours\n1,ok,cafe,1,1,2,\n2,bad,cafe,1,1,,\"{\"\"time_zone\"\":\"\"Mars/Base\"\"}\"\n", "line 3: bad hours"},
	} {
		if err := os.WriteFile(path, []byte(bad.csv), 0o644); err != nil {
			t.Fatal(err)
		}
		err := run(ctx, []string{"import", "--db", dsn, "--from-csv", path}, noEnv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("import of a bad CSV: %v, want an error with %q", err, bad.want)
		}
	}
	var n int
	if err := pgxCount(ctx, dsn, &n); err != nil || n != 500 {
		t.Fatalf("%d rows after a failed import (%v), want 500", n, err)
	}
}

func pgxCount(ctx context.Context, dsn string, n *int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, "SELECT count(*) FROM businesses").Scan(n)
}

// TestUsageHidesSecrets: the usage text, printed on --help and on any bad
// flag (into the logs), shows the environment's defaults without their
// passwords or the token secret.
func TestUsageHidesSecrets(t *testing.T) {
	env := map[string]string{
		"NEARBY_DB":         "postgres://u:pw-db-Xq7@h/db",
		"NEARBY_DB_REPLICA": "postgres://u:pw-replica-Xq7@h/db",
		"NEARBY_REDIS":      "redis://:pw-redis-Xq7@h:6379/0",
		"NEARBY_JWT_SECRET": "jwt-secret-Xq7-0123456789abcdef0123456789",
	}
	for _, args := range [][]string{{"--bogus"}, {"serve", "-h"}, {"purge", "--bogus"}, {"token", "-h"}, {"migrate", "--bogus"}} {
		var out bytes.Buffer
		run(context.Background(), args, func(k string) string { return env[k] }, &out)
		if strings.Contains(out.String(), "Xq7") || !strings.Contains(strings.ToLower(out.String()), "usage") {
			t.Errorf("owner-api %v printed:\n%s", args, out.String())
		}
	}
}
