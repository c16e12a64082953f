package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/httpapi"
	"github.com/nearby/nearby/internal/search"
)

// TestResponsesMatchSchema sends real requests through the server and
// checks each answer against the response schema api/openapi.yaml gives
// for its path, method, status and content type.
func TestResponsesMatchSchema(t *testing.T) {
	doc := loadSpec(t)
	bs := dataset.Generate(3000, 1)
	// Businesses on the antimeridian and at a pole, where coordinates and
	// distances from a box's centre reach their documented bounds.
	bs = append(bs,
		nearby.Business{ID: 1 << 40, Name: "antipode", Category: nearby.Cafe, Lat: 0, Lon: 180},
		nearby.Business{ID: 1<<40 + 1, Name: "pole", Category: nearby.Bar, Lat: -90, Lon: -180})
	region, err := search.BuildRegion("world", 1, bs)
	if err != nil {
		t.Fatal(err)
	}
	engine := &search.Engine{}
	engine.Swap(search.NewIndex(region))
	reg := prometheus.NewRegistry()
	srv := httpapi.NewServer(engine, slog.New(slog.NewTextHandler(io.Discard, nil)), reg, reg, OpenAPI)

	square := `{"type":"Polygon","coordinates":[[[2.2,48.8],[2.4,48.8],[2.4,48.9],[2.2,48.9],[2.2,48.8]]]}`
	for _, tc := range []struct {
		method, path, route, body string
	}{
		{"GET", "/v1/search/nearby?lat=48.85&lon=2.35&radius=5000&limit=5", "/v1/search/nearby", ""},
		{"GET", "/v1/search/nearby?lat=48.85&lon=2.35&radius=5000&limit=5&total=true&sort=rating&format=geojson", "/v1/search/nearby", ""},
		{"GET", "/v1/search/nearby?lat=48.85&lon=2.35&fields=id,distance_m&total=true", "/v1/search/nearby", ""},
		{"GET", "/v1/search/nearby?lat=91&lon=2.35", "/v1/search/nearby", ""},
		{"GET", "/v1/search/box?min_lat=48.8&min_lon=2.2&max_lat=48.9&max_lon=2.4&limit=3", "/v1/search/box", ""},
		{"GET", "/v1/search/box?min_lat=48.8&min_lon=2.2&max_lat=48.9&max_lon=2.4&limit=3&order=distance&format=geojson", "/v1/search/box", ""},
		{"GET", "/v1/search/box?min_lat=-90&min_lon=-180&max_lat=90&max_lon=180&order=distance&limit=100", "/v1/search/box", ""},
		{"GET", "/v1/search/box?min_lat=-90&min_lon=-180&max_lat=90&max_lon=180&order=distance&limit=100&format=geojson", "/v1/search/box", ""},
		{"GET", "/v1/search/box?min_lat=0&min_lon=-180&max_lat=0&max_lon=180&order=distance", "/v1/search/box", ""},
		{"GET", "/v1/search/box?min_lat=-10&min_lon=170&max_lat=10&max_lon=-170&fields=name", "/v1/search/box", ""},
		{"POST", "/v1/search/within?limit=2", "/v1/search/within", square},
		{"POST", "/v1/search/within?limit=2&format=geojson&fields=id,lat", "/v1/search/within", square},
		{"POST", "/v1/search/within", "/v1/search/within", `{"type":"Point","coordinates":[1,2]}`},
		{"GET", "/v1/businesses/" + strconv.FormatInt(bs[0].ID, 10), "/v1/businesses/{id}", ""},
		{"GET", "/v1/businesses/1099511627776", "/v1/businesses/{id}", ""},
		{"GET", "/v1/businesses/1", "/v1/businesses/{id}", ""},
		{"GET", "/v1/businesses/x", "/v1/businesses/{id}", ""},
		{"GET", "/v1/businesses/%2022906", "/v1/businesses/{id}", ""},
		{"GET", "/healthz", "/healthz", ""},
		{"GET", "/v1/index", "/v1/index", ""},
		{"GET", "/v1/index/density?min_lat=40&min_lon=-75&max_lat=41&max_lon=-73&cols=8&rows=4", "/v1/index/density", ""},
		{"GET", "/v1/index/density?min_lat=-20&min_lon=179&max_lat=-10&max_lon=-179&cols=4&rows=1", "/v1/index/density", ""},
		{"GET", "/v1/index/density?min_lat=-20&min_lon=179&max_lat=-10", "/v1/index/density", ""},
		{"GET", "/v1/cities?q=par", "/v1/cities", ""},
		{"GET", "/v1/search/nearby?lat=0&lon=0&cursor=AgEx", "/v1/search/nearby", ""},
		{"GET", "/readyz", "/readyz", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.body != "" {
				r.Header.Set("Content-Type", "application/geo+json")
			}
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, r)
			ct, _, _ := strings.Cut(w.Header().Get("Content-Type"), ";")
			op := get(t, doc, "paths", tc.route, strings.ToLower(tc.method))
			resp := resolve(t, doc, get(t, op, "responses", strconv.Itoa(w.Code)))
			schema := get(t, resp, "content", ct, "schema")
			var v any
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
				t.Fatalf("%d %s: %v", w.Code, w.Body, err)
			}
			for _, e := range validate(doc, schema, v, "") {
				t.Errorf("%d %s: %s", w.Code, ct, e)
			}
		})
	}
}
