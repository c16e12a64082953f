package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nearby/nearby/internal/cache"
	"github.com/nearby/nearby/internal/postgres/pgtest"
	"github.com/nearby/nearby/internal/redis/redistest"
)

const tierRules = `
exempt_loopback: false
classes:
  - name: write
    routes: ["POST /v1/*", "PUT /v1/*", "PATCH /v1/*", "DELETE /v1/*"]
    limit: 5
    window: 1m
  - name: other
    routes: ["*"]
    limit: 0
`

// TestWritesRefreshDetailCache: every committed write puts the new state
// of the business in searchd's detail cache (key and format shared through
// package cache), and writes are limited per owner with the limit headers.
func TestWritesRefreshDetailCache(t *testing.T) {
	ctx := context.Background()
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	rdb := redistest.Client(t, url)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte(tierRules), 0o644); err != nil {
		t.Fatal(err)
	}
	// A generous timeout: on a loaded machine the default 50 ms can open
	// the circuit, and this test is about what a reachable Redis holds.
	srv := startOwnerAPI(t, pgtest.NewDatabase(t), "--redis", url, "--redis-prefix", prefix, "--rate-limits", rules,
		"--redis-timeout", "2s")
	tok := tokenFor(t, 42)

	c := call(t, "POST", srv.url+"/v1/businesses", tok, shop)
	if c.status != 201 {
		t.Fatalf("create: %d %s", c.status, c.body)
	}
	id, _ := strconv.ParseInt(c.json(t)["id"].(string), 10, 64)
	key := cache.DetailKey(prefix, id)
	if v := rdb.Get(ctx, key).Val(); !strings.HasPrefix(v, "1:") || !strings.Contains(v, `"name":"Blue Bottle"`) {
		t.Errorf("after create, %s = %q", key, v)
	}
	u := srv.url + "/v1/businesses/" + strconv.FormatInt(id, 10)
	if r := call(t, "PATCH", u, tok, `{"name":"Green Bottle"}`, "If-Match", `"1"`, "Content-Type", "application/merge-patch+json"); r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if v := rdb.Get(ctx, key).Val(); !strings.HasPrefix(v, "2:") || !strings.Contains(v, `"name":"Green Bottle"`) {
		t.Errorf("after patch, %s = %q", key, v)
	}
	if r := call(t, "PATCH", u, tok, `{"name":"Stale"}`, "If-Match", `"1"`, "Content-Type", "application/merge-patch+json"); r.status != 412 {
		t.Fatalf("stale patch: %d", r.status)
	}
	if v := rdb.Get(ctx, key).Val(); !strings.HasPrefix(v, "2:") {
		t.Errorf("a refused write changed the cache: %q", v)
	}
	if r := call(t, "DELETE", u, tok, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if v := rdb.Get(ctx, key).Val(); v != "9223372036854775807:" {
		t.Errorf("after delete, %s = %q, want a tombstone", key, v)
	}

	// Four writes so far (the refused patch counts: it was admitted);
	// the fifth is admitted, the sixth refused. Owner 43, from the same
	// address, has an allowance of its own.
	for i, want := range []int{201, 429} {
		r := call(t, "POST", srv.url+"/v1/businesses", tok, shop)
		if r.status != want || r.header.Get("X-Ratelimit-Limit") != "5" || r.header.Get("X-Ratelimit-Remaining") != "0" {
			t.Fatalf("write %d: %d %v", 5+i, r.status, r.header)
		}
		if want == 429 && (r.header.Get("Retry-After") == "" || r.header.Get("X-Ratelimit-Retry-After") == "0") {
			t.Errorf("429 without a retry time: %v", r.header)
		}
	}
	if r := call(t, "POST", srv.url+"/v1/businesses", tokenFor(t, 43), shop); r.status != 201 || r.header.Get("X-Ratelimit-Remaining") != "4" {
		t.Errorf("another owner: %d %v", r.status, r.header)
	}
	if r := call(t, "GET", u, tok, ""); r.header.Get("X-Ratelimit-Limit") != "" {
		t.Errorf("an unlimited class carries limit headers: %v", r.header)
	}
}

// TestWritesWithRedisDown: owners' writes succeed while Redis is down; the
// missed cache update is logged and counted.
func TestWritesWithRedisDown(t *testing.T) {
	rs := redistest.Start(t)
	srv := startOwnerAPI(t, pgtest.NewDatabase(t), "--redis", rs.URL(), "--rate-limits", "off")
	tok := tokenFor(t, 42)
	if r := call(t, "POST", srv.url+"/v1/businesses", tok, shop); r.status != 201 {
		t.Fatalf("create with Redis up: %d", r.status)
	}
	rs.Kill()
	for range 5 {
		if r := call(t, "POST", srv.url+"/v1/businesses", tok, shop); r.status != 201 {
			t.Fatalf("create with Redis down: %d %s", r.status, r.body)
		}
	}
	m := string(call(t, "GET", srv.url+"/metrics", "", "").body)
	if !strings.Contains(m, `nearby_cache_invalidations_total{result="error"} 5`) || !strings.Contains(m, `nearby_cache_invalidations_total{result="ok"} 1`) {
		t.Errorf("invalidation metrics:\n%s", grepLines(m, "nearby_cache_invalidations_total"))
	}
	if !strings.Contains(srv.logs.String(), "detail cache not updated after a write") {
		t.Error("the missed cache update was not logged")
	}
}

func grepLines(s, substr string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
