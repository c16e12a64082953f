package quadtree

import (
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzNearest builds a small tree from a seed and runs one fuzzed query: bad
// arguments must give an error, good ones the brute-force answer.
func FuzzNearest(f *testing.F) {
	f.Add(uint64(1), uint16(100), 0.0, 180.0, 5000.0, 20, uint32(0))
	f.Add(uint64(2), uint16(300), 90.0, 0.0, 50000.0, 100, uint32(5))
	f.Add(uint64(3), uint16(0), -89.99, -180.0, 1.0, 1, uint32(0))
	f.Add(uint64(4), uint16(50), math.NaN(), 0.0, -1.0, 0, uint32(0))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, lat, lon, radiusM float64, k int, cats uint32) {
		r := rand.New(rand.NewPCG(seed, seed))
		tr, err := Build(randEntries(r, int(n%600)))
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.check(); err != nil {
			t.Fatal(err)
		}
		cats &= 1<<20 - 1
		got, err := tr.Nearest(nil, lat, lon, radiusM, k, Filter{Categories: cats})
		valid := lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && radiusM > 0 && !math.IsInf(radiusM, 0) && k > 0
		if !valid {
			if err == nil {
				t.Fatalf("Nearest(%v, %v, %v, %d) accepted bad input", lat, lon, radiusM, k)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		want := bruteWithin(tr, lat, lon, radiusM, cats)
		want = want[:min(k, len(want))]
		if !sameHits(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}
