package httpapi

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/httpx"
)

// FuzzParseNearby: any query string parses to either a valid search or an
// EINVALID error naming parameters, never a panic; cursors round-trip.
func FuzzParseNearby(f *testing.F) {
	for _, s := range []string{
		"lat=40.7&lon=-73.9", "lat=0&lon=180&radius=50000&limit=100&category=cafe,bar&format=geojson",
		"lat=NaN&lon=Inf&radius=-0", "lat=1&lat=2", "cursor=AQ0x&lat=1&lon=2", "lat=%zz", "limit=99999999999999999999",
		"lat=1&lon=2&price=1,4&min_rating=3.5&open_at=2026-03-08T02:30:00-05:00&q=café&sort=rating&total=true&fields=id,name",
		"lat=1&lon=2&open_now=true&fields=distance_m,review_count",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v := httpx.ParseQuery(raw)
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		req, err := parseNearby(v, now)
		if err != nil {
			var de *nearby.Error
			if !errors.As(err, &de) || de.Code != nearby.EINVALID || len(de.Params) == 0 {
				t.Fatalf("parseNearby(%q): %v", raw, err)
			}
			return
		}
		q := req.query
		if q.Validate() != nil || math.IsNaN(q.Lat) || math.IsNaN(q.RadiusM) {
			t.Fatalf("parseNearby(%q) accepted %+v", raw, q)
		}
		c := &nearby.Cursor{IndexVersion: "42", Rating: nearby.RatingOf(45), DistanceM: 12.5, ID: 7}
		got, err := decodeCursor(encodeCursor(c, req.key), req.key)
		if err != nil || *got != *c {
			t.Fatalf("cursor round trip: %+v, %v", got, err)
		}
		// Open now is a flag of the search, not the instant of each page.
		if again, err := parseNearby(v, now.Add(time.Hour)); err != nil || again.key != req.key {
			t.Fatalf("the same search an hour later has another key: %v", err)
		}
		v = setParam(v, "radius", strconv.FormatFloat(q.RadiusM/2, 'g', -1, 64))
		if other, err := parseNearby(v, now); err == nil && other.key == req.key {
			t.Fatal("a cursor was accepted for another query")
		}
	})
}

// setParam gives the named parameter one value, in place of any.
func setParam(v httpx.Values, name, value string) httpx.Values {
	v = slices.DeleteFunc(v, func(p httpx.Pair) bool { return p.Name == name })
	return append(v, httpx.Pair{Name: name, Value: value})
}

func TestParseNearbyFilters(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	v := httpx.ParseQuery("lat=1&lon=2&price=1,3&min_rating=4.5&open_now=true&q=caf&sort=rating&total=true&fields=id,price")
	req, err := parseNearby(v, now)
	if err != nil {
		t.Fatal(err)
	}
	q := req.query
	if !q.Prices.Has(1) || q.Prices.Has(2) || !q.Prices.Has(3) || q.MinRating != nearby.RatingOf(45) || !q.OpenAt.Equal(now) ||
		q.Name != "caf" || q.Sort != nearby.SortRating || !q.Total || req.fields != fieldID|fieldPrice {
		t.Fatalf("parsed %+v, fields %b", q, req.fields)
	}
	for raw, param := range map[string]string{
		"lat=1&lon=2&price=5":                                    "price",
		"lat=1&lon=2&min_rating=5.5":                             "min_rating",
		"lat=1&lon=2&min_rating=4.25":                            "min_rating",
		"lat=1&lon=2&open_now=yes":                               "open_now",
		"lat=1&lon=2&open_at=tomorrow":                           "open_at",
		"lat=1&lon=2&open_now=true&open_at=2026-11-27T10:00:00Z": "open_at",
		"lat=1&lon=2&open_at=0001-01-01T00:00:00Z":               "open_at", // the zero instant means no filter
		"lat=1&lon=2&open_at=0001-01-01T01:00:00%2B01:00":        "open_at",
		"lat=1&lon=2&open_at=2300-01-01T00:00:00Z":               "open_at", // past UnixNano's range, as cursor keys hold it
		"lat=1&lon=2&open_at=1899-12-31T23:59:59Z":               "open_at",
		"lat=1&lon=2&q=%20%21%20":                                "q",
		"lat=1&lon=2&sort=name":                                  "sort",
		"lat=1&lon=2&total=1":                                    "total",
		"lat=1&lon=2&fields=id,hours":                            "fields",
	} {
		v := httpx.ParseQuery(raw)
		_, err := parseNearby(v, now)
		var de *nearby.Error
		if !errors.As(err, &de) || len(de.Params) != 1 || de.Params[0].Name != param {
			t.Errorf("%s: %v, want one bad parameter %s", raw, err, param)
		}
	}
}

// TestOpenAtUnencodedPlus: an open_at whose offset's "+" is sent as is
// (curl 'http://…&open_at=2026-11-27T18:30:00+01:00', the form the 400's
// own example shows) arrives form-decoded as a space; it is read as the
// instant it names, the same search as the percent-encoded form.
func TestOpenAtUnencodedPlus(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	want := time.Date(2026, 11, 27, 17, 30, 0, 0, time.UTC)
	encoded, err := parseNearby(httpx.ParseQuery("lat=1&lon=2&open_at=2026-11-27T18:30:00%2B01:00"), now)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := parseNearby(httpx.ParseQuery("lat=1&lon=2&open_at=2026-11-27T18:30:00+01:00"), now)
	if err != nil {
		t.Fatalf("unencoded +: %v", err)
	}
	if !plain.query.OpenAt.Equal(want) || plain.key != encoded.key {
		t.Fatalf("unencoded +: open_at %v, key %x; want %v, key %x", plain.query.OpenAt, plain.key, want, encoded.key)
	}
	box, err := parseBox(httpx.ParseQuery("min_lat=1&min_lon=2&max_lat=3&max_lon=4&open_at=2026-11-27T18:30:00+01:00"), now)
	if err != nil || !box.query.OpenAt.Equal(want) {
		t.Fatalf("box, unencoded +: open_at %v, %v", box.query.OpenAt, err)
	}
	// A space anywhere else is still no RFC 3339 time.
	for _, raw := range []string{"2026-11-27+18:30:00Z", "2026-11-27T18:30:00+01:00+", "+2026-11-27T18:30:00Z"} {
		if _, err := parseNearby(httpx.ParseQuery("lat=1&lon=2&open_at="+raw), now); err == nil {
			t.Errorf("open_at=%s accepted", raw)
		}
	}
}

// TestFormat1CursorsStillWork: a cursor issued before filters existed
// continues the same plain search.
func TestFormat1CursorsStillWork(t *testing.T) {
	now := time.Now()
	v := httpx.ParseQuery("lat=40.758&lon=-73.9855&radius=2000&category=cafe")
	req, err := parseNearby(v, now)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{1, 2, '4', '2'}
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(12.5))
	b = binary.BigEndian.AppendUint64(b, 7)
	// The format-1 key: FNV-1a over lat, lon, radius and categories.
	h := fnv.New64a()
	for _, x := range []uint64{math.Float64bits(40.758), math.Float64bits(-73.9855), math.Float64bits(2000), uint64(req.query.Categories)} {
		h.Write(binary.BigEndian.AppendUint64(nil, x))
	}
	b = binary.BigEndian.AppendUint64(b, h.Sum64())
	v = setParam(v, "cursor", base64.RawURLEncoding.EncodeToString(b))
	got, err := parseNearby(v, now)
	if err != nil || *got.after != (nearby.Cursor{IndexVersion: "42", DistanceM: 12.5, ID: 7}) {
		t.Fatalf("format-1 cursor: %+v, %v", got.after, err)
	}
	v = setParam(v, "radius", "1000")
	if _, err := parseNearby(v, now); err == nil {
		t.Fatal("a format-1 cursor was accepted for another search")
	}
}

// TestSearchKeyIsFNV: the in-place key hashes exactly what hash/fnv would
// over the documented layout, so cursors issued by earlier releases of the
// same format still continue their search.
func TestSearchKeyIsFNV(t *testing.T) {
	h := fnv.New64a()
	h.Write([]byte("nearby"))
	for _, x := range []uint64{math.Float64bits(1.5), 7, 1, 0, 5} {
		h.Write(binary.BigEndian.AppendUint64(nil, x))
	}
	h.Write([]byte("pizza"))
	h.Write(binary.BigEndian.AppendUint64(nil, 3))
	h.Write([]byte{1, 2, 3})
	got := newSearchKey("nearby").float(1.5).uint(7).bool(true).bool(false).str("pizza").bytes([]byte{1, 2, 3})
	if uint64(got) != h.Sum64() {
		t.Fatalf("searchKey %x, hash/fnv %x", uint64(got), h.Sum64())
	}
}

// TestSearchKeyZero: numbers are compared as numbers, so lat=-0 continues
// the pages of lat=0 (a cursor is not refused as another search's).
func TestSearchKeyZero(t *testing.T) {
	if a, b := newSearchKey("nearby").float(0), newSearchKey("nearby").float(math.Copysign(0, -1)); a != b {
		t.Errorf("searchKey of 0 %x, of -0 %x", uint64(a), uint64(b))
	}
}

// TestUndecodedPairsNamedWithTheRest: a pair that does not decode is named
// with every other bad parameter of the request, in the documented order,
// and once however often it is given.
func TestUndecodedPairsNamedWithTheRest(t *testing.T) {
	s := fuzzServer()
	square := `{"type":"Polygon","coordinates":[[[2.2,48.8],[2.4,48.8],[2.4,48.9],[2.2,48.9],[2.2,48.8]]]}`
	for _, tc := range []struct {
		method, path, body string
		want               []string
	}{
		{"GET", "/v1/search/nearby?lat=0&lon=0&cursor=%zz&cursor=%zz", "", []string{"cursor"}},
		{"GET", "/v1/search/nearby?cursor=%zz&limit=0&zz=1&lat=%zz", "", []string{"lat", "lon", "limit", "cursor", "zz"}},
		{"GET", "/v1/search/nearby?lat=1&lon=2;radius=5&lat=3", "", []string{"lat", "lon"}},
		{"GET", "/v1/search/box?min_lat=1&min_lon=2&max_lat=3&max_lon=4&q=%zz&limit=0", "", []string{"limit", "q"}},
		{"POST", "/v1/search/within?format=%zz&limit=0", `{"type":"Point","coordinates":[1,2]}`, []string{"limit", "format", "body"}},
		{"POST", "/v1/search/within?a%zz=1&a%zz=2", square, []string{"a%zz"}},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		r.Header.Set("Content-Type", "application/geo+json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		var p struct {
			InvalidParams []nearby.InvalidParam `json:"invalid_params"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &p); w.Code != http.StatusBadRequest || err != nil {
			t.Fatalf("%s %s: %d %s", tc.method, tc.path, w.Code, w.Body)
		}
		var names []string
		for _, b := range p.InvalidParams {
			names = append(names, b.Name)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("%s %s: invalid params %v, want %v", tc.method, tc.path, names, tc.want)
		}
	}
}

// TestBoxNamesOnlyBadCorners: a corner that is missing, not a number or
// out of range is named alone; the box is checked as a whole (named
// min_lat) only when its four corners are valid.
func TestBoxNamesOnlyBadCorners(t *testing.T) {
	for raw, want := range map[string][]string{
		"min_lat=40": {"min_lon", "max_lat", "max_lon"},
		"min_lat=40&min_lon=-74&max_lat=abc&max_lon=-73":        {"max_lat"},
		"min_lat=40&min_lon=-74&max_lat=&max_lon=-73":           {"max_lat"},
		"min_lat=40&min_lon=-74&max_lat=39&max_lon=-73":         {"min_lat"},
		"min_lat=40&min_lon=-74&max_lat=41&max_lon=-181":        {"max_lon"},
		"min_lat=40&min_lon=-74&max_lat=91&max_lon=-73":         {"max_lat"},
		"min_lat=-91&min_lon=180.5&max_lat=41&max_lon=-73":      {"min_lat", "min_lon"},
		"min_lat=40&min_lon=180&max_lat=41&max_lon=-180":        nil, // the meridian ±180: a box of no width
		"min_lat=42&min_lon=-74&max_lat=41&max_lon=181":         {"max_lon"},
		"min_lat=40&min_lon=-74&max_lat=39&max_lon=-73&limit=0": {"min_lat", "limit"},
	} {
		_, err := parseBox(httpx.ParseQuery(raw), time.Now())
		var de *nearby.Error
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("%s: %v", raw, err)
		}
		var names []string
		if de != nil {
			for _, b := range de.Params {
				names = append(names, b.Name)
			}
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: invalid params %v, want %v", raw, names, want)
		}
	}
}
