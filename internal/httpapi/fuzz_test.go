package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/search"
)

// fuzzServer is a searchd API over 3000 generated businesses, built once.
var fuzzServer = sync.OnceValue(func() *Server {
	region, err := search.BuildRegion("world", 1, dataset.Generate(3000, 1))
	if err != nil {
		panic(err)
	}
	engine := &search.Engine{}
	engine.Swap(search.NewIndex(region))
	reg := prometheus.NewRegistry()
	return NewServer(engine, slog.New(slog.NewTextHandler(io.Discard, nil)), reg, reg, nil)
})

// FuzzSearchRoutes sends arbitrary query strings (and, to within, bodies)
// to the searches and the density grid through the whole handler: every answer is a 200 with a JSON document or
// a 4xx problem document, never a 5xx.
func FuzzSearchRoutes(f *testing.F) {
	square := `{"type":"Polygon","coordinates":[[[2.2,48.8],[2.4,48.8],[2.4,48.9],[2.2,48.9],[2.2,48.8]]]}`
	for _, s := range []struct {
		route       uint8
		query, body string
	}{
		{0, "lat=48.85&lon=2.35&radius=3000&limit=5&sort=rating&total=true&fields=id,rating", ""},
		{0, "lat=0&lon=180&radius=50000&category=cafe,bar&price=1,2&min_rating=3&open_now=true&format=geojson", ""},
		{0, "lat=1&lon=2&cursor=AQ0x&q=caf", ""},
		{1, "min_lat=48.8&min_lon=2.2&max_lat=48.9&max_lon=2.4&order=distance&limit=3", ""},
		{1, "min_lat=-10&min_lon=170&max_lat=10&max_lon=-170&open_at=2026-03-08T02:30:00-05:00", ""},
		{1, "min_lat=91&min_lon=x&max_lat=&max_lon=0&limit=0", ""},
		{2, "limit=2&fields=id,name,distance_m", square},
		{2, "q=bistro&format=geojson", `{"type":"MultiPolygon","coordinates":[[[[170,-5],[179,-5],[179,5],[170,5],[170,-5]]]]}`},
		{2, "", `{"type":"Polygon","coordinates":[[[170,0],[-170,0],[-170,5],[170,0]]]}`},
		{2, "", `{"type":"Point","coordinates":[1,2]}`},
		{3, "min_lat=40&min_lon=-75&max_lat=41&max_lon=-73&cols=8&rows=4&category=cafe", ""},
		{3, "min_lat=-20&min_lon=179&max_lat=-10&max_lon=-179&cols=4096&rows=1", ""},
	} {
		f.Add(s.route, s.query, s.body)
	}
	s := fuzzServer()
	f.Fuzz(func(t *testing.T, route uint8, query, body string) {
		path := []string{"/v1/search/nearby", "/v1/search/box", "/v1/search/within", "/v1/index/density"}[route%4] + "?" + query
		if u, err := url.ParseRequestURI(path); err != nil || strings.ContainsAny(query, " #") || u.Path != path[:strings.IndexByte(path, '?')] {
			return // no client could send it
		}
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if route%4 == 2 {
			r = httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/geo+json")
		}
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { s.ServeHTTP(w, r); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("%s %s with %q: no answer in 2 s", r.Method, r.URL, body)
		}
		ct := w.Header().Get("Content-Type")
		switch {
		case w.Code >= 500:
			t.Fatalf("%s %s: %d %s", r.Method, r.URL, w.Code, w.Body)
		case w.Code == http.StatusOK:
			if !json.Valid(w.Body.Bytes()) || !strings.HasPrefix(ct, "application/") {
				t.Fatalf("%s %s: 200 with %s %q", r.Method, r.URL, ct, w.Body)
			}
		default:
			var p struct {
				Status int `json:"status"`
			}
			if ct != "application/problem+json" || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Status != w.Code {
				t.Fatalf("%s %s: %d with %s %q", r.Method, r.URL, w.Code, ct, w.Body)
			}
		}
	})
}
