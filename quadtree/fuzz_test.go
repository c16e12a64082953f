package quadtree

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// FuzzNearest builds a small tree from a seed and runs one fuzzed query, as
// Nearest and as BestRated: bad arguments must give an error, good ones the
// brute-force answer, and CountWithin counts what brute force counts.
func FuzzNearest(f *testing.F) {
	f.Add(uint64(1), uint16(100), 0.0, 180.0, 5000.0, 20, uint32(0), uint8(0), uint8(0))
	f.Add(uint64(2), uint16(300), 90.0, 0.0, 50000.0, 100, uint32(5), uint8(6), uint8(30))
	f.Add(uint64(3), uint16(0), -89.99, -180.0, 1.0, 1, uint32(0), uint8(1), uint8(52))
	f.Add(uint64(4), uint16(50), math.NaN(), 0.0, -1.0, 0, uint32(0), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, lat, lon, radiusM float64, k int, cats uint32, prices, minRating uint8) {
		r := rand.New(rand.NewPCG(seed, seed))
		tr, err := Build(randEntries(r, int(n%600)))
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
			want = want[:min(k, len(want))]
			if !sameHits(tr, got, want, query.rated) {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
		if valid {
			all := len(bruteWithin(tr, lat, lon, radiusM, q))
			if n, err := tr.CountWithin(lat, lon, radiusM, q.f, k); err != nil || n != min(all, k) {
				t.Fatalf("CountWithin(limit %d) = %d, %v; brute force %d", k, n, err, all)
			}
		}
	})
}
