package quadtree

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nearby/nearby/geo"
)

// FuzzNearest builds a small tree from a seed and runs one fuzzed query, as
// Nearest and as BestRated: bad arguments must give an error, good ones the
// brute-force answer, and CountWithin counts what brute force counts. With
// the top bit of n set, the entries are piled on a few places many share
// (tieEntries: the poles at several longitudes, both sides of the
// antimeridian), so leaves hold more than LeafCap entries of one coordinate
// and distances tie. Within must report the brute-force set, and the page
// after a full first page of Nearest (Filter.After) must continue it.
func FuzzNearest(f *testing.F) {
	f.Add(uint64(1), uint16(100), 0.0, 180.0, 5000.0, 20, uint32(0), uint8(0), uint8(0))
	f.Add(uint64(2), uint16(300), 90.0, 0.0, 50000.0, 100, uint32(5), uint8(6), uint8(30))
	f.Add(uint64(3), uint16(0), -89.99, -180.0, 1.0, 1, uint32(0), uint8(1), uint8(52))
	f.Add(uint64(4), uint16(50), math.NaN(), 0.0, -1.0, 0, uint32(0), uint8(0), uint8(0))
	// Piles at the poles and the antimeridian, queried from them, with
	// radii from a rounding error to more than half the globe.
	f.Add(uint64(5), uint16(0x8000|200), 90.0, -180.0, 1e-9, 7, uint32(0), uint8(0), uint8(0))
	f.Add(uint64(6), uint16(0x8000|250), -17.0, 180.0, 2e-9, 3, uint32(1), uint8(0), uint8(26))
	f.Add(uint64(7), uint16(0x8000|120), 0.0, -180.0, math.Pi*geo.EarthRadiusM, 50, uint32(0), uint8(2), uint8(0))
	f.Add(uint64(8), uint16(0x8000|299), 89.9999999, 180.0, 0.011, 1, uint32(0), uint8(0), uint8(0))
	f.Add(uint64(9), uint16(0x8000|64), -90.0, 90.0, math.MaxFloat64, 2, uint32(6), uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, lat, lon, radiusM float64, k int, cats uint32, prices, minRating uint8) {
		r := rand.New(rand.NewPCG(seed, seed))
		es := randEntries(r, int(n%600))
		if n&0x8000 != 0 {
			es = tieEntries(r, 1+int(n%300))
		}
		tr, err := Build(es)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.check(); err != nil {
			t.Fatal(err)
		}
		q := query{f: Filter{Categories: cats & (1<<20 - 1), Prices: prices, MinRating: minRating}}
		valid := lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && radiusM > 0 && !math.IsInf(radiusM, 0) && k > 0
		for _, query := range []struct {
			search func([]Hit, float64, float64, float64, int, Filter) ([]Hit, error)
			order  func(a, b Hit) int
			rated  bool
		}{{tr.Nearest, cmpHit, false}, {tr.BestRated, cmpRated, true}} {
			got, err := query.search(nil, lat, lon, radiusM, k, q.f)
			if !valid {
				if err == nil {
					t.Fatalf("(%v, %v, %v, %d) accepted bad input", lat, lon, radiusM, k)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			want := bruteWithin(tr, lat, lon, radiusM, q)
			slices.SortFunc(want, query.order)
			if !sameHits(tr, got, want[:min(k, len(want))], query.rated) {
				t.Fatalf("got %v, want %v", got, want[:min(k, len(want))])
			}
			if query.rated || len(got) < k {
				continue
			}
			// The next page holds what sorts strictly after the last hit.
			f := q.f
			f.After = &got[len(got)-1]
			next, err := tr.Nearest(nil, lat, lon, radiusM, k, f)
			if err != nil {
				t.Fatal(err)
			}
			rest := want[slices.IndexFunc(append(want, Hit{DistanceM: math.Inf(1)}), f.After.Less):]
			if !sameHits(tr, next, rest[:min(k, len(rest))], false) {
				t.Fatalf("page after %v: got %v, want %v", *f.After, next, rest[:min(k, len(rest))])
			}
		}
		if valid {
			want := bruteWithin(tr, lat, lon, radiusM, q)
			if n, err := tr.CountWithin(lat, lon, radiusM, q.f, k); err != nil || n != min(len(want), k) {
				t.Fatalf("CountWithin(limit %d) = %d, %v; brute force %d", k, n, err, len(want))
			}
			var got []Hit
			n, err := tr.Within(lat, lon, radiusM, q.f, func(h Hit) bool { got = append(got, h); return true })
			slices.SortFunc(got, cmpHit)
			if err != nil || n != len(want) || !sameHits(tr, got, want, false) {
				t.Fatalf("Within = %d hits (%d), %v; brute force %d", len(got), n, err, len(want))
			}
		}
	})
}
