package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/indexer"
	"github.com/nearby/nearby/internal/syncbuf"
	"github.com/nearby/nearby/seeds"
)

// startSearchd runs searchd on a loopback port with args and env, waits
// until it is ready and returns its base URL and its log.
func startSearchd(t *testing.T, args []string, env map[string]string) (string, *syncbuf.Buffer) {
	t.Helper()
	base, logs := launchSearchd(t, args, env)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
			if resp.StatusCode != 503 {
				t.Fatalf("/readyz: %d", resp.StatusCode)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("searchd not ready; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, logs
}

// launchSearchd runs searchd on a loopback port with args and env, waits
// until it listens and returns its base URL and its log; it is stopped
// when the test ends.
func launchSearchd(t *testing.T, args []string, env map[string]string) (string, *syncbuf.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), func(k string) string { return env[k] }, pw)
		pw.Close()
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("searchd exited with %v", err)
		}
	})
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
	var base string
	select {
	case base = <-urlc:
	case err := <-done:
		t.Fatalf("searchd exited early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("searchd did not start listening")
	}
	return base, logs
}

// testBusinesses are generated around real cities, plus clusters on the
// region borders, the antimeridian and near the poles.
func testBusinesses(n int, seed uint64) []nearby.Business {
	bs := dataset.Generate(n, seed)
	r := rand.New(rand.NewPCG(seed, 3))
	id := int64(n)
	for _, c := range [][2]float64{{64, -170}, {30, -95}, {10, -25}, {45, 60}, {-17, 180}, {-17, -180}, {89.99, 10}, {-89.99, 0}} {
		for range 400 {
			id++
			lat := max(-90, min(90, c[0]+r.NormFloat64()*0.05))
			lon := c[1] + r.NormFloat64()*0.05
			if lon > 180 {
				lon -= 360
			} else if lon < -180 {
				lon += 360
			}
			lat, lon = float64(int64(lat*1e7))/1e7, float64(int64(lon*1e7))/1e7
			bs = append(bs, nearby.Business{ID: id, Name: fmt.Sprintf("Border \"%d\", shop", id), Category: nearby.Category(r.IntN(20)), Lat: lat, Lon: lon,
				Price: nearby.Price(r.IntN(5)), Rating: nearby.Rating(r.IntN(52)), ReviewCount: uint32(r.IntN(1000))})
		}
	}
	return bs
}

// publish writes bs as CSV and publishes it as seeds in dir.
func publish(t testing.TB, dir string, bs []nearby.Business) seeds.Manifest {
	t.Helper()
	var buf bytes.Buffer
	if err := dataset.WriteCSV(&buf, bs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "businesses.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := indexer.NewRegions(indexer.DefaultRegions)
	if err != nil {
		t.Fatal(err)
	}
	res, err := indexer.Build(context.Background(), indexer.Config{Dir: dir, Regions: rs, ProgressEvery: -1}, indexer.CSVSource(path))
	if err != nil {
		t.Fatal(err)
	}
	return res.Manifest
}

// readBack reads the businesses as the index sees them: through CSV.
func readBack(t testing.TB, bs []nearby.Business) []nearby.Business {
	t.Helper()
	var buf bytes.Buffer
	if err := dataset.WriteCSV(&buf, bs); err != nil {
		t.Fatal(err)
	}
	var out []nearby.Business
	if err := dataset.ReadCSV(&buf, func(b nearby.Business) error { out = append(out, b); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

type result struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Category  string  `json:"category"`
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
	DistanceM float64 `json:"distance_m"`
}

type answer struct {
	Results      []result `json:"results"`
	Count        int      `json:"count"`
	NextCursor   *string  `json:"next_cursor"`
	Partial      bool     `json:"partial"`
	IndexVersion string   `json:"index_version"`
}

// brute answers a query by measuring every business: the oracle.
func brute(bs []nearby.Business, lat, lon, radiusM float64, cats nearby.CategorySet) []result {
	var rs []result
	for _, b := range bs {
		if cats != 0 && !cats.Has(b.Category) {
			continue
		}
		if d := geo.Distance(lat, lon, b.Lat, b.Lon); d <= radiusM {
			rs = append(rs, result{ID: strconv.FormatInt(b.ID, 10), Name: b.Name, Category: b.Category.String(), Lat: b.Lat, Lon: b.Lon, DistanceM: d})
		}
	}
	slices.SortFunc(rs, func(a, b result) int {
		if c := cmp.Compare(a.DistanceM, b.DistanceM); c != 0 {
			return c
		}
		ai, _ := strconv.ParseInt(a.ID, 10, 64)
		bi, _ := strconv.ParseInt(b.ID, 10, 64)
		return cmp.Compare(ai, bi)
	})
	return rs
}

func getJSON(t testing.TB, u string, want int, v any) http.Header {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %s, want %d", u, resp.StatusCode, body, want)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v in %s", u, err, body)
		}
	}
	return resp.Header
}

func nearbyURL(base string, lat, lon, radiusM float64, limit int, cats nearby.CategorySet) string {
	v := url.Values{}
	v.Set("lat", strconv.FormatFloat(lat, 'g', -1, 64))
	v.Set("lon", strconv.FormatFloat(lon, 'g', -1, 64))
	v.Set("radius", strconv.FormatFloat(radiusM, 'g', -1, 64))
	v.Set("limit", strconv.Itoa(limit))
	var names []string
	for _, c := range nearby.Categories() {
		if cats.Has(c) {
			names = append(names, c.String())
		}
	}
	if len(names) > 0 {
		v.Set("category", strings.Join(names, ","))
	}
	return base + "/v1/search/nearby?" + v.Encode()
}

func TestSearchMatchesBruteForceAcrossRegions(t *testing.T) {
	bs := testBusinesses(30000, 1)
	dir := t.TempDir()
	m := publish(t, dir, bs)
	if len(m.Regions) != len(indexer.DefaultRegions)+1 {
		t.Fatalf("manifest has %d regions", len(m.Regions))
	}
	base, _ := startSearchd(t, []string{"--seeds", dir}, nil)
	all := readBack(t, bs)

	queries := dataset.Queries(150, 2)
	for _, c := range [][2]float64{{64, -170}, {30, -95}, {10, -25}, {45, 60}, {-17, 180}, {-17, -180}, {90, 0}, {-90, 0}} {
		queries = append(queries, dataset.Query{Lat: c[0], Lon: c[1], RadiusM: 10000, Limit: 100})
		queries = append(queries, dataset.Query{Lat: c[0], Lon: c[1], RadiusM: 50000, Limit: 30, Categories: []nearby.Category{nearby.Cafe, nearby.Bank}})
	}
	for _, q := range queries {
		sq := q.SearchQuery()
		var got answer
		getJSON(t, nearbyURL(base, sq.Lat, sq.Lon, sq.RadiusM, sq.Limit, sq.Categories), 200, &got)
		want := brute(all, sq.Lat, sq.Lon, sq.RadiusM, sq.Categories)
		more := len(want) > sq.Limit
		want = want[:min(len(want), sq.Limit)]
		if !slices.Equal(got.Results, want) && !(len(got.Results) == 0 && len(want) == 0) {
			t.Fatalf("query %+v:\n got %v\nwant %v", sq, got.Results, want)
		}
		if got.Count != len(want) || (got.NextCursor != nil) != more || got.Partial {
			t.Fatalf("query %+v: count %d, next %v, partial %v; want count %d, more %v", sq, got.Count, got.NextCursor, got.Partial, len(want), more)
		}
	}
}

func TestPaginationCoversEverything(t *testing.T) {
	bs := testBusinesses(20000, 5)
	dir := t.TempDir()
	publish(t, dir, bs)
	base, _ := startSearchd(t, []string{"--seeds", dir}, nil)
	all := readBack(t, bs)
	for _, c := range [][2]float64{{-17, 180}, {30, -95}, {35.68, 139.69}} {
		want := brute(all, c[0], c[1], 30000, 0)
		if len(want) < 50 {
			t.Fatalf("only %d businesses near %v; the test needs more", len(want), c)
		}
		var got []result
		u := nearbyURL(base, c[0], c[1], 30000, 17, 0)
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatal("pagination does not end")
			}
			var a answer
			getJSON(t, u, 200, &a)
			got = append(got, a.Results...)
			if a.NextCursor == nil {
				break
			}
			u = nearbyURL(base, c[0], c[1], 30000, 17, 0) + "&cursor=" + url.QueryEscape(*a.NextCursor)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages at %v: %d results, want %d", c, len(got), len(want))
		}
	}
}

func TestGeoJSONAndDetails(t *testing.T) {
	bs := testBusinesses(5000, 7)
	dir := t.TempDir()
	publish(t, dir, bs)
	base, _ := startSearchd(t, []string{"--seeds", dir}, nil)

	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Type     string `json:"type"`
			ID       string `json:"id"`
			Geometry struct {
				Type        string    `json:"type"`
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	var plain answer
	u := nearbyURL(base, -17, 180, 20000, 10, 0)
	h := getJSON(t, u+"&format=geojson", 200, &fc)
	getJSON(t, u, 200, &plain)
	if ct := h.Get("Content-Type"); ct != "application/geo+json" {
		t.Errorf("content type %q", ct)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) != len(plain.Results) || len(fc.Features) == 0 {
		t.Fatalf("collection %q with %d features, want %d", fc.Type, len(fc.Features), len(plain.Results))
	}
	for i, f := range fc.Features {
		r := plain.Results[i]
		if f.Type != "Feature" || f.Geometry.Type != "Point" || len(f.Geometry.Coordinates) != 2 ||
			f.Geometry.Coordinates[0] != r.Lon || f.Geometry.Coordinates[1] != r.Lat || f.ID != r.ID ||
			f.Properties["distance_m"] != r.DistanceM || f.Properties["name"] != r.Name || f.Properties["category"] != r.Category {
			t.Fatalf("feature %d = %+v, want %+v", i, f, r)
		}
		if lon, lat := f.Geometry.Coordinates[0], f.Geometry.Coordinates[1]; !geo.Valid(lat, lon) {
			t.Fatalf("feature %d out of range: %v", i, f.Geometry.Coordinates)
		}
	}

	// Details of a result match it.
	var b map[string]any
	getJSON(t, base+"/v1/businesses/"+plain.Results[0].ID, 200, &b)
	if b["name"] != plain.Results[0].Name || b["lat"] != plain.Results[0].Lat {
		t.Errorf("details %v, want %+v", b, plain.Results[0])
	}
	getJSON(t, base+"/v1/businesses/999999999", 404, nil)
	getJSON(t, base+"/v1/businesses/abc", 400, nil)
}

func TestBadRequestsGetProblems(t *testing.T) {
	base, _ := startSearchd(t, nil, map[string]string{"NEARBY_DEMO_SIZE": "2000"})
	for _, tc := range []struct {
		query  string
		status int
		params []string
	}{
		{"", 400, []string{"lat", "lon"}},
		{"lat=1", 400, []string{"lon"}},
		{"lat=91&lon=0", 400, []string{"lat"}},
		{"lat=-90.5&lon=0", 400, []string{"lat"}},
		{"lat=0&lon=180.01", 400, []string{"lon"}},
		{"lat=NaN&lon=0", 400, []string{"lat"}},
		{"lat=0&lon=Inf", 400, []string{"lon"}},
		{"lat=abc&lon=1e400", 400, []string{"lat", "lon"}},
		{"lat=0&lon=0&radius=0", 400, []string{"radius"}},
		{"lat=0&lon=0&radius=-5", 400, []string{"radius"}},
		{"lat=0&lon=0&radius=50001", 400, []string{"radius"}},
		{"lat=0&lon=0&limit=0", 400, []string{"limit"}},
		{"lat=0&lon=0&limit=101", 400, []string{"limit"}},
		{"lat=0&lon=0&limit=2.5", 400, []string{"limit"}},
		{"lat=0&lon=0&category=spaceport", 400, []string{"category"}},
		{"lat=0&lon=0&category=cafe,,bar", 400, []string{"category"}},
		{"lat=0&lon=0&format=xml", 400, []string{"format"}},
		{"lat=0&lon=0&cursor=garbage", 400, []string{"cursor"}},
		{"lat=0&lon=0&cursor=%zz", 400, []string{"cursor"}},                             // not dropped as url.Query would
		{"lat=0;lon=0", 400, []string{"lat", "lon"}},                                    // one pair, named lat: lon is not given
		{"cursor=%zz&lat=0&lon=0&limit=0&cursor=%zz", 400, []string{"limit", "cursor"}}, // with the rest, once
		{"lat=0&lon=0&lat=1", 400, []string{"lat"}},
		{"lat=0&lon=0&radiuss=5", 400, []string{"radiuss"}},
		{"zz=1&lat=abc&lat=1&aa=2&lon=0", 400, []string{"lat", "aa", "zz"}},
		{"lat=0&lon=0&q=" + strings.Repeat("x", 5000), 414, nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp, err := http.Get(base + "/v1/search/nearby?" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p struct {
				Status        int                             `json:"status"`
				Title         string                          `json:"title"`
				Detail        string                          `json:"detail"`
				InvalidParams []struct{ Name, Reason string } `json:"invalid_params"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || p.Status != tc.status || p.Title == "" || p.Detail == "" ||
				resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d, problem %+v, content type %q", resp.StatusCode, p, resp.Header.Get("Content-Type"))
			}
			var names []string
			for _, ip := range p.InvalidParams {
				names = append(names, ip.Name)
			}
			if !slices.Equal(names, tc.params) {
				t.Errorf("invalid params %v, want %v", names, tc.params)
			}
		})
	}
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/nope", 404, ""},
		{"POST", "/v1/search/nearby?lat=0&lon=0", 405, "GET, HEAD"},
		{"DELETE", "/v1/businesses/1", 405, "GET, HEAD"},
		{"GET", "/v1/search/within", 405, "POST"},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" ||
			resp.Header.Get("Allow") != tc.allow || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s %s: %d %v", tc.method, tc.path, resp.StatusCode, resp.Header)
		}
	}
	if resp, err := http.Head(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("HEAD /healthz: %v %v", resp, err)
	}
}

// TestReloadUnderLoad republishes seeds while clients search: no request
// fails, every answer is exact for the version it reports, and cursors from
// a replaced version get 409.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	versions := map[string][]nearby.Business{}
	var mu sync.Mutex
	// The lock is held across the publish, so a worker that got an answer
	// from a just-published version waits for it to be recorded.
	addVersion := func(bs []nearby.Business) {
		want := readBack(t, bs)
		mu.Lock()
		defer mu.Unlock()
		m := publish(t, dir, bs)
		versions[strconv.FormatUint(m.Regions[0].IndexVersion, 10)] = want
	}
	addVersion(testBusinesses(8000, 11))
	base, _ := startSearchd(t, []string{"--seeds", dir, "--reload-interval", "20ms"}, nil)

	var first answer
	getJSON(t, nearbyURL(base, 35.68, 139.69, 50000, 5, 0), 200, &first)
	if first.NextCursor == nil {
		t.Fatal("no next page to test a stale cursor with")
	}

	var requests, failures atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			qs := dataset.Queries(200, uint64(w))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				sq := qs[i%len(qs)].SearchQuery()
				resp, err := http.Get(nearbyURL(base, sq.Lat, sq.Lon, sq.RadiusM, sq.Limit, sq.Categories))
				requests.Add(1)
				if err != nil {
					failures.Add(1)
					continue
				}
				var a answer
				err = json.NewDecoder(resp.Body).Decode(&a)
				resp.Body.Close()
				mu.Lock()
				bs, ok := versions[a.IndexVersion]
				mu.Unlock()
				if resp.StatusCode != 200 || err != nil || !ok {
					failures.Add(1)
					continue
				}
				want := brute(bs, sq.Lat, sq.Lon, sq.RadiusM, sq.Categories)
				if !slices.Equal(a.Results, want[:min(len(want), sq.Limit)]) && len(a.Results)+len(want) > 0 {
					failures.Add(1)
				}
			}
		})
	}
	for i := range 3 {
		time.Sleep(150 * time.Millisecond)
		addVersion(testBusinesses(8000, uint64(20+i)))
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || requests.Load() < 50 {
		t.Fatalf("%d of %d requests failed or were wrong", failures.Load(), requests.Load())
	}
	var last answer
	getJSON(t, nearbyURL(base, 35.68, 139.69, 50000, 5, 0), 200, &last)
	m, err := seeds.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.FormatUint(m.Regions[0].IndexVersion, 10); last.IndexVersion != want {
		t.Fatalf("serving %s after reloads, manifest has %s", last.IndexVersion, want)
	}
	getJSON(t, nearbyURL(base, 35.68, 139.69, 50000, 5, 0)+"&cursor="+url.QueryEscape(*first.NextCursor), 409, nil)
	t.Logf("%d requests during 3 reloads, none failed", requests.Load())
}

func TestCorruptSeedIsRefused(t *testing.T) {
	dir := t.TempDir()
	m := publish(t, dir, testBusinesses(3000, 3))
	base, logs := startSearchd(t, []string{"--seeds", dir, "--reload-interval", "20ms"}, nil)
	var before answer
	getJSON(t, nearbyURL(base, 35.68, 139.69, 50000, 20, 0), 200, &before)

	// A new generation whose first seed has a flipped bit.
	data, err := os.ReadFile(filepath.Join(dir, m.Regions[0].File))
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-10] ^= 0x40
	bad := seeds.FileName(m.Regions[0].Name, m.Regions[0].IndexVersion+1000)
	if err := os.WriteFile(filepath.Join(dir, bad), data, 0o644); err != nil {
		t.Fatal(err)
	}
	m.Generation++
	m.Regions[0].File = bad
	if err := seeds.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "index reload refused") {
		if time.Now().After(deadline) {
			t.Fatalf("the corrupt seed was not refused; log:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), bad) {
		t.Errorf("the log does not name the bad file %s", bad)
	}
	var after answer
	getJSON(t, nearbyURL(base, 35.68, 139.69, 50000, 20, 0), 200, &after)
	if !slices.Equal(after.Results, before.Results) || after.IndexVersion != before.IndexVersion {
		t.Fatal("the old index stopped answering as before")
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `nearby_index_reloads_total{result="error"}`) ||
		!strings.Contains(string(metrics), `nearby_http_requests_total{method="GET",route="/v1/search/nearby",status="200"}`) {
		t.Errorf("metrics lack reload errors or request counts:\n%s", metrics)
	}
}

func TestEmbeddedDefault(t *testing.T) {
	base, logs := startSearchd(t, nil, map[string]string{"NEARBY_DEMO_SIZE": "50000"})
	var a answer
	getJSON(t, base+"/v1/search/nearby?lat=35.6812&lon=139.7671&radius=5000", 200, &a)
	if a.Count == 0 || a.Count > 20 || a.IndexVersion == "" {
		t.Fatalf("demo answer %+v", a)
	}
	// The ready line follows the swap that makes /readyz answer 200.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "curl '"+base+"/v1/search/nearby?"); {
		if time.Now().After(deadline) {
			t.Fatalf("the log has no ready-to-paste curl example:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(base + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.HasPrefix(spec, []byte("openapi: 3.1")) {
		t.Errorf("/openapi.yaml starts %.40q", spec)
	}
}

// TestSearchCacheKeepsEveryRoute: the search cache wraps the engine, and
// every route the engine serves answers as without it: the density grid
// of the explorer included.
func TestSearchCacheKeepsEveryRoute(t *testing.T) {
	env := map[string]string{"NEARBY_DEMO_SIZE": "2000", "NEARBY_RATE_LIMITS": "off"}
	cached, _ := startSearchd(t, []string{"--search-cache"}, env)
	plain, _ := startSearchd(t, nil, env)
	for _, path := range []string{
		"/v1/index/density?min_lat=-90&min_lon=-180&max_lat=90&max_lon=180&cols=8&rows=4",
		"/v1/index",
		"/v1/search/box?min_lat=-90&min_lon=-180&max_lat=90&max_lon=180&limit=3",
	} {
		var want, got map[string]any
		getJSON(t, plain+path, 200, &want)
		getJSON(t, cached+path, 200, &got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s with the search cache:\n%v\nwithout:\n%v", path, got, want)
		}
	}
}

// TestClusterNodeWithoutRegions: a node the cluster map gives no region
// loads none (its regions in the map are none: "else all" is for a node
// without a cluster map) and asks the other nodes for every region.
func TestClusterNodeWithoutRegions(t *testing.T) {
	dir := t.TempDir()
	publish(t, dir, testBusinesses(2000, 9))
	clusterMap := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(clusterMap, []byte(`{"nodes":{"front":"http://127.0.0.1:1","n1":"http://127.0.0.1:2"},
		"regions":{"americas-west":["n1"],"americas-east":["n1"],"europe-africa":["n1"],"asia-oceania":["n1"],"rest":["n1"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	base, _ := startSearchd(t, []string{"--seeds", dir, "--cluster", clusterMap, "--node", "front", "--rate-limits", "off"}, nil)
	var ix struct {
		Regions []struct {
			Name string `json:"name"`
		} `json:"regions"`
		RemoteRegions []struct {
			Name string `json:"name"`
		} `json:"remote_regions"`
	}
	getJSON(t, base+"/v1/index", 200, &ix)
	if len(ix.Regions) != 0 || len(ix.RemoteRegions) != 5 {
		t.Errorf("a node holding no region loaded %v, asks others for %v", ix.Regions, ix.RemoteRegions)
	}
}
