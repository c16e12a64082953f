package httpapi

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/search"
)

// FuzzAppendNearby: the hand-written encoder decodes exactly like
// encoding/json's encoding of the same answer.
func FuzzAppendNearby(f *testing.F) {
	f.Add("Café \"Le Coin\", Paris", int64(42), 48.8566, 2.3522, 12.5, "AQ0x", "17")
	f.Add("tab\there\nnew\x00line\u2028 \xff bad", int64(1), -90.0, 180.0, 1e-7, "", "")
	f.Add("<script>&", int64(9007199254740993), 1e-9, -1e-300, 5e21, "x", "v")
	f.Add("e7", int64(5), -0.0000001, -179.9999999, 0.1, "", "")
	f.Add("e7", int64(5), 40.7544137, 0.5, 3.0, "", "")
	f.Add("only distance_m, not shown", int64(fieldDistance)<<8|1, 1.0, 2.0, 3.0, "", "")
	f.Fuzz(func(t *testing.T, name string, id int64, lat, lon, d float64, cursor, version string) {
		if math.IsNaN(lat) || math.IsInf(lat, 0) || math.IsNaN(lon) || math.IsInf(lon, 0) || math.IsNaN(d) || math.IsInf(d, 0) {
			return
		}
		u := uint64(id)
		page := &nearby.SearchPage{IndexVersion: version, Total: int(u % 20000), TotalCapped: u%3 == 0, Results: []nearby.SearchResult{
			{Business: nearby.Business{ID: id, Name: name, Category: nearby.Cafe, Lat: lat, Lon: lon,
				Price: nearby.Price(u % 5), Rating: nearby.Rating(u % 52), ReviewCount: uint32(u)}, DistanceM: d},
			{Business: nearby.Business{ID: 7, Name: "second", Category: nearby.HairSalon}},
		}}
		var next *string
		if cursor != "" {
			next = &cursor
		}
		shape := answerShape{fields: fieldSet(u>>8) & (1<<len(resultFields) - 1), distance: u&1 == 0, total: u&2 == 0}
		got := appendPage(nil, page, next, shape)
		want, err := json.Marshal(toNearbyJSON(page, next, shape))
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("invalid JSON %q: %v", got, err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("hand-written %s\nencoding/json %s", got, want)
		}
	})
}

type nearbyJSON struct {
	Results      []map[string]any `json:"results"`
	Count        int              `json:"count"`
	NextCursor   *string          `json:"next_cursor"`
	Partial      bool             `json:"partial"`
	Missing      []string         `json:"missing_regions,omitempty"`
	Total        *int             `json:"total,omitempty"`
	TotalCapped  *bool            `json:"total_capped,omitempty"`
	IndexVersion string           `json:"index_version"`
}

// toNearbyJSON is the reflective twin of appendPage, the reference its
// tests compare with.
func toNearbyJSON(page *nearby.SearchPage, next *string, shape answerShape) nearbyJSON {
	out := nearbyJSON{
		Results: make([]map[string]any, len(page.Results)), Count: len(page.Results), NextCursor: next,
		Partial: page.Partial, Missing: page.Missing, IndexVersion: page.IndexVersion,
	}
	if shape.total {
		out.Total, out.TotalCapped = &page.Total, &page.TotalCapped
	}
	for i, res := range page.Results {
		m := map[string]any{}
		for name, v := range resultValues(res, shape) {
			m[name] = v
		}
		out.Results[i] = m
	}
	return out
}

func TestAppendCoordMatchesStrconv(t *testing.T) {
	for _, e7 := range []int64{0, 1, -1, 10, 123, 1234567, 10000000, -10000000, 407544137, -1800000000, 1800000000, 900000000, -899999999, 5000001} {
		deg := float64(e7) / 1e7
		want := strconv.FormatFloat(deg, 'f', -1, 64)
		if deg != 0 && math.Abs(deg) < 1e-6 {
			want = strconv.FormatFloat(deg, 'e', -1, 64)
		}
		if got := string(appendCoord(nil, deg)); got != want {
			t.Errorf("appendCoord(%v) = %s, want %s", deg, got, want)
		}
	}
}

// BenchmarkAppendPage encodes pages of 20 real results (the handler's
// JSON encoding alone).
func BenchmarkAppendPage(b *testing.B) {
	engine := &search.Engine{}
	region, err := search.BuildRegion("world", 1, dataset.Generate(100_000, 1))
	if err != nil {
		b.Fatal(err)
	}
	engine.Swap(search.NewIndex(region))
	var pages []*nearby.SearchPage
	for _, q := range dataset.Queries(100, 3) {
		page, err := engine.Nearby(context.Background(), nearby.SearchQuery{Lat: q.Lat, Lon: q.Lon, RadiusM: 50000, Limit: 20}, nil)
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, page)
	}
	next := "Ago0Mjk1OTY3Mjk2AEBS8CqKm--YAAAAAAAEdxDS2zjwTs4PdQ"
	buf := make([]byte, 0, 8<<10)
	i := 0
	for b.Loop() {
		buf = appendPage(buf[:0], pages[i%len(pages)], &next, answerShape{distance: true})
		i++
	}
}

// TestFieldsWithoutDistance: fields=distance_m on a search whose results
// have no distance (box by id, polygon) selects nothing, in JSON as in
// GeoJSON; it is not read as "every field".
func TestFieldsWithoutDistance(t *testing.T) {
	s := fuzzServer()
	square := `{"type":"Polygon","coordinates":[[[2.2,48.8],[2.4,48.8],[2.4,48.9],[2.2,48.9],[2.2,48.8]]]}`
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/v1/search/box?min_lat=48.8&min_lon=2.2&max_lat=48.9&max_lon=2.4&limit=3&fields=distance_m", ""},
		{"POST", "/v1/search/within?limit=3&fields=distance_m", square},
		{"GET", "/v1/search/box?min_lat=48.8&min_lon=2.2&max_lat=48.9&max_lon=2.4&limit=3&fields=distance_m&format=geojson", ""},
		{"POST", "/v1/search/within?limit=3&fields=distance_m&format=geojson", square},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/geo+json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		var page struct {
			Results  []map[string]any
			Features []struct{ Properties map[string]any }
		}
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &page) != nil || len(page.Results)+len(page.Features) == 0 {
			t.Fatalf("%s %s: %d %s", tc.method, tc.path, w.Code, w.Body)
		}
		for _, f := range page.Features {
			page.Results = append(page.Results, f.Properties)
		}
		for _, res := range page.Results {
			if len(res) != 0 {
				t.Errorf("%s %s: result %v, want {}", tc.method, tc.path, res)
			}
		}
	}
}
