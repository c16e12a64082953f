package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/httpapi"
	"github.com/nearby/nearby/internal/search"
	"github.com/nearby/nearby/internal/web"
)

// searchd's engine is what the density endpoint counts with.
var _ web.DensityIndex = (*search.Engine)(nil)

// testBusinesses are a few businesses around Tokyo and one across the
// antimeridian.
var testBusinesses = []nearby.Business{
	{ID: 1, Name: "Kissa One", Category: nearby.Cafe, Lat: 35.6895, Lon: 139.6917},
	{ID: 2, Name: "Bar Two", Category: nearby.Bar, Lat: 35.6900, Lon: 139.7050},
	{ID: 3, Name: "Cafe Three", Category: nearby.Cafe, Lat: 35.7100, Lon: 139.7100},
	{ID: 4, Name: "Fiji Bakery", Category: nearby.Bakery, Lat: -17.0, Lon: 179.9},
	{ID: 5, Name: "Fiji Bank", Category: nearby.Bank, Lat: -17.0, Lon: -179.9},
}

// newServer serves the API over an engine holding bs (none: no index yet).
func newServer(t *testing.T, bs []nearby.Business) *httptest.Server {
	t.Helper()
	e := &search.Engine{}
	if bs != nil {
		r, err := search.BuildRegion("world", 42, bs)
		if err != nil {
			t.Fatal(err)
		}
		e.Swap(search.NewIndex(r))
	}
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(httpapi.NewServer(e, slog.New(slog.DiscardHandler), reg, reg, nil))
	t.Cleanup(srv.Close)
	return srv
}

// get fetches url and decodes a JSON answer into v when v is not nil.
func get(t *testing.T, url string, v any) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
	return resp
}

type problem struct {
	Status        int                   `json:"status"`
	Detail        string                `json:"detail"`
	InvalidParams []nearby.InvalidParam `json:"invalid_params"`
}

func names(ps []nearby.InvalidParam) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestIndex(t *testing.T) {
	srv := newServer(t, testBusinesses)
	var got map[string]any
	resp := get(t, srv.URL+"/v1/index", &got)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	want := map[string]any{
		"index_version": "42", "businesses": 5.0,
		"regions":        []any{map[string]any{"name": "world", "version": "42", "businesses": 5.0}},
		"remote_regions": []any{},
	}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("GET /v1/index = %s, want %s", g, w)
	}

	var p problem
	if resp := get(t, srv.URL+"/v1/index?x=1", &p); resp.StatusCode != 400 || !slices.Equal(names(p.InvalidParams), []string{"x"}) {
		t.Errorf("unknown parameter: status %d, %+v", resp.StatusCode, p)
	}
	empty := newServer(t, nil)
	if resp := get(t, empty.URL+"/v1/index", &p); resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("no index: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type density struct {
	IndexVersion string  `json:"index_version"`
	MinLat       float64 `json:"min_lat"`
	MaxLon       float64 `json:"max_lon"`
	Cols         int     `json:"cols"`
	Rows         int     `json:"rows"`
	Counts       []int   `json:"counts"`
	Total        int     `json:"total"`
	Max          int     `json:"max"`
}

func TestDensity(t *testing.T) {
	srv := newServer(t, testBusinesses)
	tests := []struct {
		name, query string
		want        []int
	}{
		// Tokyo: columns 139.6–139.7 and 139.7–139.8, rows 35.7–35.8 and 35.6–35.7.
		{"tokyo", "min_lat=35.6&min_lon=139.6&max_lat=35.8&max_lon=139.8&cols=2&rows=2", []int{0, 1, 1, 1}},
		{"tokyo cafes", "min_lat=35.6&min_lon=139.6&max_lat=35.8&max_lon=139.8&cols=2&rows=2&category=cafe", []int{0, 1, 1, 0}},
		{"across the antimeridian", "min_lat=-18&min_lon=179&max_lat=-16&max_lon=-179&cols=2&rows=1", []int{1, 1}},
		{"default grid", "min_lat=-90&min_lon=-180&max_lat=90&max_lon=180", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d density
			resp := get(t, srv.URL+"/v1/index/density?"+tt.query, &d)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if tt.want != nil && !slices.Equal(d.Counts, tt.want) {
				t.Errorf("counts %v, want %v", d.Counts, tt.want)
			}
			total, most := 0, 0
			for _, c := range d.Counts {
				total += c
				most = max(most, c)
			}
			if d.Total != total || d.Max != most || len(d.Counts) != d.Cols*d.Rows || d.IndexVersion != "42" {
				t.Errorf("answer %+v: total %d, max %d", d, total, most)
			}
		})
	}
	var d density
	get(t, srv.URL+"/v1/index/density?min_lat=-90&min_lon=-180&max_lat=90&max_lon=180", &d)
	if d.Cols != 64 || d.Rows != 64 || d.Total != len(testBusinesses) {
		t.Errorf("default grid %d × %d with %d businesses; want 64 × 64 with %d", d.Cols, d.Rows, d.Total, len(testBusinesses))
	}
}

func TestDensityRefused(t *testing.T) {
	srv := newServer(t, testBusinesses)
	const box = "min_lat=0&min_lon=0&max_lat=1&max_lon=1"
	tests := []struct {
		query string
		bad   []string // the parameters the problem names, in order
	}{
		{"", []string{"min_lat", "min_lon", "max_lat", "max_lon"}},
		{"min_lat=x&min_lon=NaN&max_lat=Inf&max_lon=1", []string{"min_lat", "min_lon", "max_lat"}},
		{"min_lat=-91&min_lon=-181&max_lat=91&max_lon=181", []string{"min_lat", "min_lon", "max_lat", "max_lon"}},
		{"min_lat=1&min_lon=0&max_lat=1&max_lon=1", []string{"max_lat"}},
		{"min_lat=0&min_lon=1&max_lat=1&max_lon=1", []string{"max_lon"}},
		{"min_lat=0&min_lon=180&max_lat=1&max_lon=-180", []string{"max_lon"}}, // one meridian, of no width
		{box + "&cols=0&rows=4097", []string{"cols", "rows"}},
		{box + "&cols=65&rows=64", []string{"cols", "rows"}},
		{box + "&cols=1.5", []string{"cols"}},
		{box + "&category=cafe,spaceport", []string{"category"}},
		{box + "&cols=2&cols=3&zoom=4", []string{"cols", "zoom"}},
		{box + "&cols=0&category=%zz", []string{"cols", "category"}}, // a pair that does not decode, named with the rest
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var p problem
			resp := get(t, srv.URL+"/v1/index/density?"+tt.query, &p)
			if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if got := names(p.InvalidParams); !slices.Equal(got, tt.bad) {
				t.Errorf("names %v, want %v (%+v)", got, tt.bad, p.InvalidParams)
			}
			for _, ip := range p.InvalidParams {
				if ip.Reason == "" {
					t.Errorf("%s has no reason", ip.Name)
				}
			}
		})
	}
}

type cities struct {
	Cities []struct {
		Name       string  `json:"name"`
		Country    string  `json:"country"`
		Lat        float64 `json:"lat"`
		Lon        float64 `json:"lon"`
		Population int     `json:"population"`
	} `json:"cities"`
}

func TestCities(t *testing.T) {
	srv := newServer(t, nil) // cities need no index
	tests := []struct {
		query string
		first []string // "Name, CC" of the first answers
	}{
		{"q=Tokyo", []string{"Tokyo, JP"}},
		{"q=tokyo", []string{"Tokyo, JP"}},
		{"q=sao+paulo", []string{"São Paulo, BR"}},
		{"q=%20%20New%20%20York", []string{"New York City, US"}},
		{"q=york&limit=2", []string{"York, GB", "New York City, US"}},
		{"q=zzzzqx", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var c cities
			if resp := get(t, srv.URL+"/v1/cities?"+tt.query, &c); resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if len(c.Cities) < len(tt.first) || tt.first == nil && len(c.Cities) != 0 {
				t.Fatalf("%d cities, want at least %d", len(c.Cities), len(tt.first))
			}
			for i, w := range tt.first {
				if got := c.Cities[i].Name + ", " + c.Cities[i].Country; got != w {
					t.Errorf("city %d is %q, want %q", i, got, w)
				}
			}
		})
	}

	var c cities
	get(t, srv.URL+"/v1/cities", &c)
	if len(c.Cities) != web.DefaultCityLimit {
		t.Fatalf("%d cities by default, want %d", len(c.Cities), web.DefaultCityLimit)
	}
	for i := 1; i < len(c.Cities); i++ {
		if c.Cities[i].Population > c.Cities[i-1].Population {
			t.Errorf("cities not most populous first: %+v before %+v", c.Cities[i-1], c.Cities[i])
		}
	}
	get(t, srv.URL+"/v1/cities?limit=100", &c)
	if len(c.Cities) != 100 {
		t.Errorf("%d cities for limit=100", len(c.Cities))
	}

	for query, bad := range map[string][]string{
		"limit=0":                       {"limit"},
		"limit=101":                     {"limit"},
		"limit=ten":                     {"limit"},
		"q=" + strings.Repeat("a", 101): {"q"},
		"q=a&q=b&country=JP":            {"q", "country"},
	} {
		var p problem
		if resp := get(t, srv.URL+"/v1/cities?"+query, &p); resp.StatusCode != 400 || !slices.Equal(names(p.InvalidParams), bad) {
			t.Errorf("%s: status %d, params %v; want 400 naming %v", query, resp.StatusCode, names(p.InvalidParams), bad)
		}
	}
}

func TestPage(t *testing.T) {
	srv := newServer(t, nil)
	resp := get(t, srv.URL+"/", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	// Every asset the page links to is served, with its type.
	page, err := os.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	linked := regexp.MustCompile(`(?:href|src)="(static/[^"]+)"`).FindAllStringSubmatch(string(page), -1)
	if len(linked) < 4 {
		t.Fatalf("index.html links %d assets", len(linked))
	}
	types := map[string]string{".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".md": "text/markdown"}
	for _, m := range linked {
		resp := get(t, srv.URL+"/"+m[1], nil)
		ext := m[1][strings.LastIndex(m[1], "."):]
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), types[ext]) {
			t.Errorf("GET /%s: status %d, content type %q", m[1], resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	// The outlines app.js loads.
	if resp := get(t, srv.URL+"/static/countries-50m.json", nil); resp.StatusCode != 200 {
		t.Errorf("outlines: status %d", resp.StatusCode)
	}
	var p problem
	if resp := get(t, srv.URL+"/static/nope.js", &p); resp.StatusCode != 404 {
		t.Errorf("missing asset: status %d", resp.StatusCode)
	}
}

// TestAssetEncoding: gzip when asked for, the same bytes once decoded, and
// a 304 for a client that has the asset.
func TestAssetEncoding(t *testing.T) {
	srv := newServer(t, nil)
	want, err := os.ReadFile("static/countries-50m.json")
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(header http.Header) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/static/countries-50m.json", nil)
		req.Header = header
		// A Transport that leaves Accept-Encoding alone.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	resp, plain := fetch(http.Header{})
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(plain, want) {
		t.Errorf("identity: encoding %q, %d bytes; want %d bytes", resp.Header.Get("Content-Encoding"), len(plain), len(want))
	}
	resp, zipped := fetch(http.Header{"Accept-Encoding": {"br, gzip;q=0.8"}})
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip: encoding %q, vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, want) {
		t.Errorf("gzip body decodes to %d bytes (%v); want %d", len(unzipped), err, len(want))
	}
	t.Logf("outlines: %d bytes, %d gzipped", len(want), len(zipped))
	if resp, _ := fetch(http.Header{"Accept-Encoding": {"gzip;q=0"}}); resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 got encoding %q", resp.Header.Get("Content-Encoding"))
	}
	etag := resp.Header.Get("ETag")
	if resp, body := fetch(http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {etag}}); resp.StatusCode != 304 || len(body) != 0 {
		t.Errorf("If-None-Match %s: status %d, %d bytes", etag, resp.StatusCode, len(body))
	}
}

// TestCategoriesInPage keeps app.js's category list in step with the
// domain's.
func TestCategoriesInPage(t *testing.T) {
	js, err := os.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)const CATEGORIES = \[(.*?)\];`).FindSubmatch(js)
	if m == nil {
		t.Fatal("no CATEGORIES in app.js")
	}
	got := regexp.MustCompile(`'([a-z_]+)'`).FindAllSubmatch(m[1], -1)
	var page []string
	for _, g := range got {
		page = append(page, string(g[1]))
	}
	if want := nearby.CategoryNames(); !slices.Equal(page, want) {
		t.Errorf("app.js categories %v, want %v", page, want)
	}
}

// TestAssetBudget keeps the page small: the issue asks for a small page, and
// every byte is in searchd's binary.
func TestAssetBudget(t *testing.T) {
	const budget = 1 << 20
	total := 0
	err := fs.WalkDir(os.DirFS("static"), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		t.Logf("%-22s %7d bytes", path, info.Size())
		total += int(info.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("total %d bytes", total)
	if total > budget {
		t.Errorf("embedded assets are %d bytes, over the %d-byte budget", total, budget)
	}
}
