package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/postgres/pgtest"
	"github.com/nearby/nearby/internal/redis/redistest"
	"github.com/nearby/nearby/quadtree"
)

// engine answers "the k nearest businesses within radiusM of a point" with
// their ids, nearest first.
type engine struct {
	name   string
	search func(ctx context.Context, lat, lon, radiusM float64, k int) ([]int64, error)
}

// BenchmarkEngines runs the same searches (k=20 within 2 km at the
// realistic workload's points) over the same businesses (the embedded
// demo's 1M) on searchd and on the general-purpose engines people would
// otherwise use, each a server on loopback asked through its usual Go
// client: Redis GEO (GEOSEARCH) and PostGIS (ST_DWithin and the <-> KNN
// operator over a GiST index on geography). It reports, for each, how many
// of 200 answers equal the exact one (a brute-force great-circle scan: ids
// and order) and how many hold its ids in some order, the latency of one
// search at a time over 2,000 and the throughput of 16 concurrent
// clients. Everything shares the machine's cores; it asserts no
// speed. PostGIS is left out, with a log line, where the extension is not
// installed (scripts/bench.sh installs it).
func BenchmarkEngines(b *testing.B) {
	const n, k, radiusM = 1_000_000, 20, 2000.0
	ctx := context.Background()
	// The businesses as searchd's demo serves them: coordinates in the
	// index's fixed point, ids as generated.
	bs := dataset.Generate(n, 1)
	for i := range bs {
		bs[i].Lat, bs[i].Lon = quadtree.FromE7(quadtree.ToE7(bs[i].Lat)), quadtree.FromE7(quadtree.ToE7(bs[i].Lon))
	}
	qs := dataset.Queries(2000, 3)

	engines := []engine{searchdEngine(b, n), redisGeoEngine(b, bs)}
	if e, ok := postgisEngine(b, bs); ok {
		engines = append(engines, e)
	}
	// The exact answers of the first queries, for agreement.
	const checked = 200
	want := make([][]int64, checked)
	for i, q := range qs[:checked] {
		rs := brute(bs, q.Lat, q.Lon, radiusM, 0)
		for _, r := range rs[:min(k, len(rs))] {
			id, _ := strconv.ParseInt(r.ID, 10, 64)
			want[i] = append(want[i], id)
		}
	}
	for _, e := range engines {
		b.Run("engine="+e.name, func(b *testing.B) {
			for b.Loop() {
				same, sameSet := 0, 0
				for i, q := range qs[:checked] {
					got, err := e.search(ctx, q.Lat, q.Lon, radiusM, k)
					if err != nil {
						b.Fatal(err)
					}
					if slices.Equal(got, want[i]) {
						same++
					}
					if slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want[i]))) {
						sameSet++
					}
				}
				lat := make([]time.Duration, len(qs))
				for i, q := range qs {
					start := time.Now()
					if _, err := e.search(ctx, q.Lat, q.Lon, radiusM, k); err != nil {
						b.Fatal(err)
					}
					lat[i] = time.Since(start)
				}
				slices.Sort(lat)
				b.ReportMetric(100*float64(same)/checked, "exact-%")
				b.ReportMetric(100*float64(sameSet)/checked, "same-ids-%")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(throughput(b, e, qs, radiusM, k), "req/s")
			}
		})
	}
}

// throughput runs 16 clients for 3 s and returns the searches per second.
func throughput(b *testing.B, e engine, qs []dataset.Query, radiusM float64, k int) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range 16 {
		wg.Go(func() {
			for i := w; ctx.Err() == nil; i += 16 {
				q := qs[i%len(qs)]
				if _, err := e.search(ctx, q.Lat, q.Lon, radiusM, k); err != nil {
					if ctx.Err() == nil {
						b.Error(err)
					}
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}

// searchdEngine runs the searchd binary on its embedded demo of n
// businesses (the same as dataset.Generate(n, 1)) and asks its HTTP API.
func searchdEngine(b *testing.B, n int) engine {
	bin := filepath.Join(b.TempDir(), "searchd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	nd := &node{name: "searchd", addr: freeAddr(b), args: []string{"--demo-size", strconv.Itoa(n), "--rate-limits", "off", "--log-level", "warn"}}
	nd.start(b, bin)
	b.Cleanup(nd.kill)
	waitReady(b, nd.url())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	return engine{name: "searchd", search: func(ctx context.Context, lat, lon, radiusM float64, k int) ([]int64, error) {
		u := fmt.Sprintf("%s/v1/search/nearby?lat=%v&lon=%v&radius=%v&limit=%d&fields=id", nd.url(), lat, lon, radiusM, k)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var page struct {
			Results []struct {
				ID string `json:"id"`
			} `json:"results"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 {
			return nil, fmt.Errorf("searchd: %d, %v", resp.StatusCode, err)
		}
		ids := make([]int64, len(page.Results))
		for i, r := range page.Results {
			if ids[i], err = strconv.ParseInt(r.ID, 10, 64); err != nil {
				return nil, err
			}
		}
		return ids, nil
	}}
}

// redisGeoEngine loads the businesses into a private redis-server's
// geo set and asks GEOSEARCH ... BYRADIUS ... ASC COUNT k. Redis keeps
// positions as 52-bit geohashes (about 0.6 m) and refuses latitudes beyond
// ±85.05°.
func redisGeoEngine(b *testing.B, bs []nearby.Business) engine {
	ctx := context.Background()
	srv := redistest.Start(b)
	opt, err := goredis.ParseURL(srv.URL())
	if err != nil {
		b.Fatal(err)
	}
	opt.PoolSize = 32
	rdb := goredis.NewClient(opt)
	b.Cleanup(func() { rdb.Close() })
	const key = "businesses"
	for i := 0; i < len(bs); i += 10000 {
		locs := make([]*goredis.GeoLocation, 0, 10000)
		for _, x := range bs[i:min(i+10000, len(bs))] {
			if x.Lat >= -85.05112878 && x.Lat <= 85.05112878 {
				locs = append(locs, &goredis.GeoLocation{Name: strconv.FormatInt(x.ID, 10), Longitude: x.Lon, Latitude: x.Lat})
			}
		}
		if err := rdb.GeoAdd(ctx, key, locs...).Err(); err != nil {
			b.Fatal(err)
		}
	}
	return engine{name: "redis-geo", search: func(ctx context.Context, lat, lon, radiusM float64, k int) ([]int64, error) {
		names, err := rdb.GeoSearch(ctx, key, &goredis.GeoSearchQuery{
			Longitude: lon, Latitude: lat, Radius: radiusM, RadiusUnit: "m", Sort: "ASC", Count: k,
		}).Result()
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(names))
		for i, s := range names {
			if ids[i], err = strconv.ParseInt(s, 10, 64); err != nil {
				return nil, err
			}
		}
		return ids, nil
	}}
}

// postgisEngine loads the businesses into a throwaway database as
// geography points with a GiST index and asks for the k nearest within
// radiusM on the sphere (use_spheroid false, as great-circle distance).
func postgisEngine(b *testing.B, bs []nearby.Business) (engine, bool) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(b)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		b.Logf("PostGIS left out: %v (install the PostGIS package of this PostgreSQL, as scripts/bench.sh does)", err)
		return engine{}, false
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE points (id bigint PRIMARY KEY, lat float8 NOT NULL, lon float8 NOT NULL)"); err != nil {
		b.Fatal(err)
	}
	rows := make([][]any, len(bs))
	for i, x := range bs {
		rows[i] = []any{x.ID, x.Lat, x.Lon}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"points"}, []string{"id", "lat", "lon"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	for _, sql := range []string{
		"ALTER TABLE points ADD COLUMN geog geography(Point, 4326)",
		"UPDATE points SET geog = ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography",
		"CREATE INDEX ON points USING gist (geog)",
		"VACUUM ANALYZE points",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	const q = `WITH p AS (SELECT ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography AS g)
SELECT id FROM points, p WHERE ST_DWithin(geog, p.g, $3, false) ORDER BY geog <-> p.g LIMIT $4`
	return engine{name: "postgis", search: func(ctx context.Context, lat, lon, radiusM float64, k int) ([]int64, error) {
		rows, err := pool.Query(ctx, q, lat, lon, radiusM, k)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[int64])
	}}, true
}
