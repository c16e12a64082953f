package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby/api"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/httpapi"
	"github.com/nearby/nearby/internal/redis/redistest"
	"github.com/nearby/nearby/internal/search"
)

var tierRequests = flag.Int("tier.requests", 20000, "BenchmarkRedisTier: requests timed per case")

// tierServer serves engine through the data tier configured by args (the
// tier's own flags), on a loopback httptest server.
func tierServer(b *testing.B, engine *search.Engine, args ...string) string {
	b.Helper()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var c tierConfig
	check := c.flags(fs, func(_, def string) string { return def })
	if err := fs.Parse(args); err != nil {
		b.Fatal(err)
	}
	if err := check(); err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	c.RedisPrefix = "bench:" + b.Name() // every case starts cold
	tier, err := buildTier(context.Background(), c, engine, logger, reg)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.NewServer(tier.svc, logger, reg, reg, api.OpenAPI, tier.opts...))
	b.Cleanup(func() { srv.Close(); tier.close() })
	return srv.URL
}

// timeRequests GETs each path in turn, one at a time, n times in all, and
// reports the latency percentiles and the rate. Every answer must be 200.
func timeRequests(b *testing.B, base string, paths []string, n int) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(p string) {
		resp, err := client.Get(base + p)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
	}
	for i := range min(n, 1000) { // warm connections, caches and the circuit
		get(paths[i%len(paths)])
	}
	lat := make([]time.Duration, n)
	var took time.Duration
	for b.Loop() {
		start := time.Now()
		for i := range n {
			t0 := time.Now()
			get(paths[i%len(paths)])
			lat[i] = time.Since(t0)
		}
		took = time.Since(start)
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(n-1))].Nanoseconds()) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(q(0.999), "p999-µs")
	b.ReportMetric(float64(n)/took.Seconds(), "req/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRedisTier measures the Redis tier end to end over loopback
// HTTP, one request at a time: detail reads (10 KB records) on a cache hit
// and on a miss (replica read), searches (1M businesses, k=20, r=2 km)
// with Redis-backed rate limiting while Redis is up, and after it was
// killed (the circuit open, per-process limits), and with the search answer
// cache on (all hits, all misses) against off. A private redis-server and
// the machine's PostgreSQL; run it once:
//
//	go test -run '^$' -bench RedisTier -benchtime 1x ./cmd/searchd/
func BenchmarkRedisTier(b *testing.B) {
	n := *tierRequests
	rs := redistest.Start(b)
	dsn, _, recs := detailsDB(b, 1000)
	var details []string
	for _, r := range recs {
		details = append(details, "/v1/businesses/"+strconv.FormatInt(r.ID, 10))
	}
	region, err := search.BuildRegion("world", 1, dataset.Generate(1_000_000, 1))
	if err != nil {
		b.Fatal(err)
	}
	engine := &search.Engine{}
	engine.Swap(search.NewIndex(region))
	var searches []string
	for _, q := range dataset.Queries(n+1000, 3) {
		searches = append(searches, fmt.Sprintf("/v1/search/nearby?lat=%v&lon=%v&radius=2000&limit=20", q.Lat, q.Lon))
	}
	hot := searches[:1000] // repeated: all hits once warm
	rules := writeRules(b, degradedRules)

	b.Run("detail/cache=redis/hit", func(b *testing.B) {
		timeRequests(b, tierServer(b, engine, "--db", dsn, "--redis", rs.URL(), "--rate-limits", "off"), details, n)
	})
	b.Run("detail/cache=redis/miss", func(b *testing.B) {
		timeRequests(b, tierServer(b, engine, "--db", dsn, "--redis", rs.URL(), "--rate-limits", "off", "--detail-ttl", "1ms"), details, n)
	})
	b.Run("search/cache=off/ratelimit=off", func(b *testing.B) {
		timeRequests(b, tierServer(b, engine, "--rate-limits", "off"), searches, n)
	})
	b.Run("search/cache=redis/hit/ratelimit=off", func(b *testing.B) {
		timeRequests(b, tierServer(b, engine, "--redis", rs.URL(), "--search-cache", "--rate-limits", "off"), hot, n)
	})
	b.Run("search/cache=redis/miss/ratelimit=off", func(b *testing.B) {
		// Warm-up and timed requests never repeat a query.
		timeRequests(b, tierServer(b, engine, "--redis", rs.URL(), "--search-cache", "--rate-limits", "off", "--search-cache-ttl", "1ms"), searches, n)
	})
	b.Run("search/ratelimit=local/redis=none", func(b *testing.B) {
		timeRequests(b, tierServer(b, engine, "--rate-limits", rules), searches, n)
	})
	b.Run("search/ratelimit=redis/redis=up", func(b *testing.B) {
		timeRequests(b, tierServer(b, engine, "--redis", rs.URL(), "--rate-limits", rules), searches, n)
	})
	b.Run("search/ratelimit=redis/redis=down", func(b *testing.B) {
		base := tierServer(b, engine, "--redis", rs.URL(), "--rate-limits", rules)
		rs.Kill()
		timeRequests(b, base, searches, n)
	})
}
