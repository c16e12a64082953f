package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/cache"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/postgres"
	"github.com/nearby/nearby/internal/postgres/pgtest"
	"github.com/nearby/nearby/internal/redis"
	"github.com/nearby/nearby/internal/redis/redistest"
)

// detailsDB is a migrated database of t's own holding n businesses of
// about 10 KB (a 5 KB description, photos), and the store over it.
func detailsDB(t testing.TB, n int) (string, *postgres.BusinessService, []*nearby.BusinessRecord) {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	if _, _, err := postgres.Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, postgres.Config{Primary: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	svc := postgres.NewBusinessService(db)
	var recs []*nearby.BusinessRecord
	for i := range n {
		rec, _, err := svc.Create(ctx, int64(1+i%10), "", fullInput(fmt.Sprintf("Shop %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	return dsn, svc, recs
}

func ptr[T any](v T) *T { return &v }

func fullInput(name string) nearby.BusinessInput {
	photos := make([]string, 10)
	for i := range photos {
		photos[i] = fmt.Sprintf("https://img.example.com/%s/%d.jpg", strings.ReplaceAll(name, " ", "-"), i)
	}
	return nearby.BusinessInput{
		Name: ptr(name), Category: ptr(nearby.Cafe), Lat: ptr(48.8566), Lon: ptr(2.3522),
		Address: ptr("1 Rue de Rivoli"), City: ptr("Paris"), State: ptr("Île-de-France"), Country: ptr("FR"), Zip: ptr("75001"),
		Description: ptr(strings.Repeat("Fresh bread and coffee. ", 213)), Photos: &photos,
	}
}

type detailDoc struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Category    string    `json:"category"`
	Lat         float64   `json:"lat"`
	Lon         float64   `json:"lon"`
	Address     string    `json:"address"`
	City        string    `json:"city"`
	State       string    `json:"state"`
	Country     string    `json:"country"`
	Zip         string    `json:"zip"`
	Description string    `json:"description"`
	Photos      []string  `json:"photos"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// metric returns the sum of the samples of name whose labels include all
// of labels (`k="v"`), from base's /metrics.
func metric(t testing.TB, base, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if ok {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			sum += v
		}
	}
	return sum
}

func TestDetailsThroughRedis(t *testing.T) {
	ctx := context.Background()
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	rdb := redistest.Client(t, url)
	dsn, owners, recs := detailsDB(t, 1)
	rec := recs[0]
	base, _ := startSearchd(t, []string{"--db", dsn, "--redis", url, "--redis-prefix", prefix}, map[string]string{"NEARBY_DEMO_SIZE": "2000"})
	detailURL := func(id int64) string { return base + "/v1/businesses/" + strconv.FormatInt(id, 10) }

	for i := range 2 {
		var d detailDoc
		getJSON(t, detailURL(rec.ID), 200, &d)
		if d.ID != strconv.FormatInt(rec.ID, 10) || d.Name != "Shop 0" || d.Category != "cafe" || d.Address != "1 Rue de Rivoli" ||
			d.City != "Paris" || d.State != "Île-de-France" || d.Country != "FR" || d.Zip != "75001" ||
			d.Description != rec.Description || len(d.Photos) != 10 || !d.UpdatedAt.Equal(rec.UpdatedAt) {
			t.Fatalf("read %d: %+v", i, d)
		}
	}
	if miss, hit := metric(t, base, "nearby_cache_requests_total", `cache="detail"`, `result="miss"`),
		metric(t, base, "nearby_cache_requests_total", `cache="detail"`, `result="hit"`); miss != 1 || hit != 1 {
		t.Errorf("%v misses and %v hits, want 1 and 1", miss, hit)
	}
	key := cache.DetailKey(prefix, rec.ID)
	if ttl := rdb.PTTL(ctx, key).Val(); ttl < 4*time.Minute || ttl > 5*time.Minute+30*time.Second {
		t.Errorf("detail TTL %v, want the 5m default ±10%%", ttl)
	}

	// An id that does not exist yet (the next one): a negative entry.
	next := rec.ID + 1
	for range 2 {
		getJSON(t, detailURL(next), 404, nil)
	}
	if v := rdb.Get(ctx, cache.DetailKey(prefix, next)).Val(); v != "0:" {
		t.Errorf("negative entry %q", v)
	}
	if ttl := rdb.PTTL(ctx, cache.DetailKey(prefix, next)).Val(); ttl <= 0 || ttl > 30*time.Second {
		t.Errorf("negative TTL %v, want ≤ 30s", ttl)
	}
	if n := metric(t, base, "nearby_cache_requests_total", `cache="detail"`, `result="negative_hit"`); n != 1 {
		t.Errorf("%v negative hits, want 1", n)
	}
	getJSON(t, detailURL(0), 400, nil)

	// Owners' writes, through the component owner-api wraps its store in
	// (cmd/owner-api's tests check that it does): each shows on the next
	// read, although every entry is cached for minutes.
	rc, err := redis.Open(ctx, redis.Config{URL: url}, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	inv := cache.NewInvalidator(owners, cache.InvalidatorConfig{Store: rc, Prefix: prefix, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: prometheus.NewRegistry()})
	if _, err := inv.Patch(ctx, rec.OwnerID, rec.ID, 0, nearby.BusinessInput{Name: ptr("Renamed")}); err != nil {
		t.Fatal(err)
	}
	var d detailDoc
	getJSON(t, detailURL(rec.ID), 200, &d)
	if d.Name != "Renamed" {
		t.Errorf("after a patch: %q", d.Name)
	}
	created, _, err := inv.Create(ctx, 5, "", fullInput("Brand new"))
	if err != nil || created.ID != next {
		t.Fatalf("create: id %v (%v), want %d", created, err, next)
	}
	getJSON(t, detailURL(next), 200, &d)
	if d.Name != "Brand new" {
		t.Errorf("after a create over a negative entry: %q", d.Name)
	}
	if err := inv.Delete(ctx, rec.OwnerID, rec.ID, 0); err != nil {
		t.Fatal(err)
	}
	getJSON(t, detailURL(rec.ID), 404, nil)
	if reads := metric(t, base, "nearby_cache_fills_total", `cache="detail"`); reads != 2 {
		t.Errorf("%v database reads, want 2 (the first miss, the unknown id)", reads)
	}
}

// TestDetailsWithoutRedis: with --db and no Redis, details come through an
// in-process cache; without --db, the index's summaries as before.
func TestDetailsWithoutRedis(t *testing.T) {
	dsn, _, recs := detailsDB(t, 1)
	base, logs := startSearchd(t, []string{"--db", dsn}, map[string]string{"NEARBY_DEMO_SIZE": "2000"})
	for range 2 {
		var d detailDoc
		getJSON(t, base+"/v1/businesses/"+strconv.FormatInt(recs[0].ID, 10), 200, &d)
		if d.Description != recs[0].Description {
			t.Fatalf("detail: %+v", d)
		}
	}
	if hit := metric(t, base, "nearby_cache_requests_total", `cache="detail"`, `result="hit"`); hit != 1 {
		t.Errorf("%v hits from the in-process cache, want 1", hit)
	}
	if !strings.Contains(logs.String(), `"detail_ttl":"10s"`) || !strings.Contains(logs.String(), "per process: no Redis") {
		t.Errorf("effective config not logged as expected:\n%s", logs.String())
	}

	plain, _ := startSearchd(t, nil, map[string]string{"NEARBY_DEMO_SIZE": "2000"})
	var st struct {
		Businesses int `json:"businesses"`
	}
	getJSON(t, plain+"/readyz", 200, &st)
	var summary map[string]any
	getJSON(t, plain+"/v1/businesses/1", 200, &summary)
	if len(summary) != 9 || summary["id"] != "1" {
		t.Errorf("summary without --db: %v", summary)
	}
}

// TestSearchCacheAgrees runs two searchd on the same seeds, one with the
// Redis search cache, and checks that every answer, first and cached, is
// byte for byte the uncached one; then that a new seed version is never
// answered from the old version's entries.
func TestSearchCacheAgrees(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	dir := t.TempDir()
	publish(t, dir, testBusinesses(20000, 5))
	cached, _ := startSearchd(t, []string{"--seeds", dir, "--reload-interval", "20ms", "--redis", url, "--redis-prefix", prefix, "--search-cache"}, nil)
	plain, _ := startSearchd(t, []string{"--seeds", dir, "--reload-interval", "20ms"}, nil)
	body := func(u string) string {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
		}
		return string(b)
	}
	qs := dataset.Queries(200, 9)
	check := func() {
		t.Helper()
		for i, q := range qs {
			path := nearbyURL("", q.Lat, q.Lon, q.RadiusM, q.Limit, query(q).Categories)
			want := body(plain + path)
			for pass := range 2 {
				if got := body(cached + path); got != want {
					t.Fatalf("query %d pass %d: cached answer differs\n got %s\nwant %s", i, pass, got, want)
				}
			}
		}
	}
	check()
	if hits := metric(t, cached, "nearby_cache_requests_total", `cache="search"`, `result="hit"`); hits < 150 {
		t.Errorf("%v search cache hits over 200 repeated queries", hits)
	}

	// A new version: every answer must be the new index's.
	var before struct {
		IndexVersion string `json:"index_version"`
	}
	getJSON(t, cached+"/readyz", 200, &before)
	publish(t, dir, testBusinesses(20000, 6))
	deadline := time.Now().Add(20 * time.Second)
	for _, base := range []string{cached, plain} {
		for {
			var now struct {
				IndexVersion string `json:"index_version"`
			}
			getJSON(t, base+"/readyz", 200, &now)
			if now.IndexVersion != before.IndexVersion {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("new seeds not loaded")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	check()
}

func query(q dataset.Query) nearby.SearchQuery { return q.SearchQuery() }

// writeRules writes a rate limit rules file and returns its path.
func writeRules(t testing.TB, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rate-limits.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRateLimits: 16 clients from one address send 64 searches against a
// limit of 20 per minute: 20 succeed, 44 get 429, and every answer carries
// the limit headers.
func TestRateLimits(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	rules := writeRules(t, `
exempt_loopback: false
classes:
  - name: search
    routes: ["GET /v1/search/nearby"]
    limit: 20
    window: 1m
  - name: other
    routes: ["*"]
    limit: 0
`)
	base, _ := startSearchd(t, []string{"--redis", url, "--redis-prefix", prefix, "--rate-limits", rules}, map[string]string{"NEARBY_DEMO_SIZE": "2000"})
	var ok, limited, noHeaders atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 4 {
				resp, err := http.Get(nearbyURL(base, 40.758, -73.9855, 2000, 5, 0))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				h := resp.Header
				switch resp.StatusCode {
				case 200:
					ok.Add(1)
				case 429:
					limited.Add(1)
					if s, _ := strconv.Atoi(h.Get("Retry-After")); s < 1 || s > 60 || h.Get("Content-Type") != "application/problem+json" {
						t.Errorf("429 with Retry-After %q, %s", h.Get("Retry-After"), h.Get("Content-Type"))
					}
				}
				if h.Get("X-Ratelimit-Limit") != "20" || h.Get("X-Ratelimit-Remaining") == "" || h.Get("X-Ratelimit-Retry-After") == "" {
					noHeaders.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() != 20 || limited.Load() != 44 || noHeaders.Load() != 0 {
		t.Errorf("%d ok, %d limited, %d without headers; want 20, 44, 0", ok.Load(), limited.Load(), noHeaders.Load())
	}
	if n := metric(t, base, "nearby_http_requests_total", `status="429"`); n != 44 {
		t.Errorf("%v 429s counted in metrics, want 44", n)
	}

	// Off: no limits, no headers. Built-in defaults: loopback is exempt.
	for _, args := range [][]string{{"--rate-limits", "off"}, nil} {
		b, _ := startSearchd(t, args, map[string]string{"NEARBY_DEMO_SIZE": "2000"})
		for range 150 {
			h := getJSON(t, nearbyURL(b, 40.758, -73.9855, 2000, 5, 0), 200, nil)
			if h.Get("X-Ratelimit-Limit") != "" {
				t.Fatalf("%v: limit headers on a loopback request", args)
			}
		}
	}
}

// degradedLoad runs searches and detail reads from 4 clients until stop
// closes, counting requests and failures and the slowest request.
type degradedLoad struct {
	requests, failures atomic.Int64
	slowest            atomic.Int64 // ns
	stop               chan struct{}
	wg                 sync.WaitGroup
}

func startLoad(t *testing.T, base string, ids []int64) *degradedLoad {
	l := &degradedLoad{stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 4 {
		l.wg.Go(func() {
			qs := dataset.Queries(300, uint64(w))
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				u := nearbyURL(base, qs[i%len(qs)].Lat, qs[i%len(qs)].Lon, 2000, 20, 0)
				if i%4 == 3 {
					u = base + "/v1/businesses/" + strconv.FormatInt(ids[i%len(ids)], 10)
				}
				start := time.Now()
				resp, err := client.Get(u)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(start)
				for s := l.slowest.Load(); int64(d) > s && !l.slowest.CompareAndSwap(s, int64(d)); s = l.slowest.Load() {
				}
				l.requests.Add(1)
				if err != nil || resp.StatusCode != 200 {
					l.failures.Add(1)
					if err == nil {
						t.Errorf("GET %s: %d", u, resp.StatusCode)
					} else {
						t.Errorf("GET %s: %v", u, err)
					}
				}
			}
		})
	}
	return l
}

func (l *degradedLoad) finish() {
	close(l.stop)
	l.wg.Wait()
}

const degradedRules = `
exempt_loopback: false
classes:
  - name: all
    routes: ["*"]
    limit: 100000
    window: 1s
`

// TestRedisKilledMidLoad: Redis (cache and rate limits) dies under load
// and comes back. No search or detail read fails, and once Redis answers
// again it is used again, without a restart.
func TestRedisKilledMidLoad(t *testing.T) {
	srv := redistest.Start(t)
	dsn, _, recs := detailsDB(t, 20)
	var ids []int64
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	base, logs := startSearchd(t, []string{"--db", dsn, "--redis", srv.URL(), "--search-cache",
		"--rate-limits", writeRules(t, degradedRules)}, map[string]string{"NEARBY_DEMO_SIZE": "20000"})
	load := startLoad(t, base, ids)
	time.Sleep(500 * time.Millisecond)
	srv.Kill()
	time.Sleep(1500 * time.Millisecond)
	if up := metric(t, base, "nearby_redis_up"); up != 0 {
		t.Errorf("nearby_redis_up = %v with Redis killed", up)
	}
	localBefore := metric(t, base, "nearby_ratelimit_requests_total", `source="local"`)
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, base, "nearby_redis_up") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("searchd did not go back to Redis after it restarted")
		}
		time.Sleep(50 * time.Millisecond)
	}
	redisBefore := metric(t, base, "nearby_ratelimit_requests_total", `source="redis"`)
	hitsBefore := metric(t, base, "nearby_cache_requests_total", `cache="detail"`, `result="hit"`)
	time.Sleep(700 * time.Millisecond)
	load.finish()
	t.Logf("%d requests, %d failed, slowest %v", load.requests.Load(), load.failures.Load(), time.Duration(load.slowest.Load()))
	if load.failures.Load() != 0 {
		t.Errorf("%d of %d requests failed", load.failures.Load(), load.requests.Load())
	}
	if localBefore == 0 {
		t.Error("no rate-limit decision was made locally while Redis was down")
	}
	if metric(t, base, "nearby_ratelimit_requests_total", `source="redis"`) <= redisBefore {
		t.Error("rate limits did not go back to Redis")
	}
	if metric(t, base, "nearby_cache_requests_total", `cache="detail"`, `result="hit"`) <= hitsBefore {
		t.Error("the detail cache was not used again after Redis came back")
	}
	for _, msg := range []string{"redis unavailable: circuit open", "redis available again"} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("log lacks %q", msg)
		}
	}
}

// TestSlowRedis: Redis hangs (CLIENT PAUSE) under load. Requests keep
// succeeding, none waits much longer than the Redis timeout, and the
// circuit closes when Redis answers again.
func TestSlowRedis(t *testing.T) {
	srv := redistest.Start(t)
	dsn, _, recs := detailsDB(t, 20)
	var ids []int64
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	base, _ := startSearchd(t, []string{"--db", dsn, "--redis", srv.URL(), "--redis-timeout", "50ms", "--search-cache",
		"--rate-limits", writeRules(t, degradedRules)}, map[string]string{"NEARBY_DEMO_SIZE": "20000"})
	for _, id := range ids { // warm the detail cache
		getJSON(t, base+"/v1/businesses/"+strconv.FormatInt(id, 10), 200, nil)
	}
	load := startLoad(t, base, ids)
	time.Sleep(300 * time.Millisecond)
	srv.Pause(1500 * time.Millisecond)
	time.Sleep(1000 * time.Millisecond)
	if up := metric(t, base, "nearby_redis_up"); up != 0 {
		t.Errorf("nearby_redis_up = %v with Redis hanging", up)
	}
	deadline := time.Now().Add(10 * time.Second)
	for metric(t, base, "nearby_redis_up") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("circuit did not close after the pause")
		}
		time.Sleep(50 * time.Millisecond)
	}
	load.finish()
	slowest := time.Duration(load.slowest.Load())
	t.Logf("%d requests, %d failed, slowest %v", load.requests.Load(), load.failures.Load(), slowest)
	if load.failures.Load() != 0 {
		t.Errorf("%d of %d requests failed", load.failures.Load(), load.requests.Load())
	}
	// A request makes at most three Redis calls (rate limit, cache read,
	// cache fill) before the circuit opens: 150 ms, plus scheduling on a
	// loaded 2-core machine.
	if slowest > 400*time.Millisecond {
		t.Errorf("slowest request took %v with a 50ms Redis timeout", slowest)
	}
}
