package httpapi

import (
	"errors"
	"math"
	"net/url"
	"testing"

	"github.com/nearby/nearby"
)

// FuzzParseNearby: any query string parses to either a valid search or an
// EINVALID error naming parameters, never a panic; cursors round-trip.
func FuzzParseNearby(f *testing.F) {
	for _, s := range []string{
		"lat=40.7&lon=-73.9", "lat=0&lon=180&radius=50000&limit=100&category=cafe,bar&format=geojson",
		"lat=NaN&lon=Inf&radius=-0", "lat=1&lat=2", "cursor=AQ0x&lat=1&lon=2", "lat=%zz", "limit=99999999999999999999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req, err := parseNearby(v)
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
		c := &nearby.Cursor{IndexVersion: "42", DistanceM: 12.5, ID: 7}
		got, err := decodeCursor(encodeCursor(c, q), q)
		if err != nil || *got != *c {
			t.Fatalf("cursor round trip: %+v, %v", got, err)
		}
		q.RadiusM /= 2
		if _, err := decodeCursor(encodeCursor(c, req.query), q); err == nil {
			t.Fatal("a cursor was accepted for another query")
		}
	})
}
