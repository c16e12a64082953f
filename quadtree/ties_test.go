package quadtree

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// tiePlaces are a few exact places that many entries share: the poles at
// several longitudes, both sides of the antimeridian, and pairs symmetric
// about a meridian, so that many entries are at equal distances.
var tiePlaces = [][2]float64{
	{90, 0}, {90, 180}, {90, -180}, {90, 37}, {-90, 0}, {-90, -180},
	{-17, 180}, {-17, -180}, {-17, 179.9999999}, {-16.9999999, -180},
	{0, 180}, {0, -180}, {10, 10}, {10, 10.0000001}, {10.0000001, 10},
	{89.9999999, 0}, {89.9999999, 180}, {-89.9999999, 90},
}

// tieEntries returns n entries with unique ids piled on a few of
// tiePlaces, with few distinct ratings, prices and categories.
func tieEntries(r *rand.Rand, n int) []Entry {
	places := make([][2]float64, 0, 6)
	for range 1 + r.IntN(6) {
		places = append(places, tiePlaces[r.IntN(len(tiePlaces))])
	}
	es := make([]Entry, n)
	for i, j := range r.Perm(n) {
		p := places[r.IntN(len(places))]
		a := Attrs{}
		if r.IntN(3) > 0 {
			a.Rating = uint8(1 + 25*r.IntN(3))
		}
		if r.IntN(3) > 0 {
			a.Price = uint8(1 + r.IntN(2))
		}
		es[i] = Entry{ID: int64(j) + 1, Lat: p[0], Lon: p[1], Category: uint8(r.IntN(3)), Attrs: a}
	}
	return es
}

// TestTiesMatchBruteForce pages Nearest and BestRated, with k from 1 to
// past the data, and counts with CountWithin, from places many entries
// share (poles, antimeridian), where distances and ratings tie: the pages
// together are the brute-force list, and the count its length.
func TestTiesMatchBruteForce(t *testing.T) {
	r := newRand(t)
	for trial := range 300 {
		n := 1 + r.IntN(300)
		tr := mustBuild(t, tieEntries(r, n))
		for range 20 {
			p := tiePlaces[r.IntN(len(tiePlaces))]
			lat, lon := p[0], p[1]
			radiusM := math.Pow(10, r.Float64()*7)
			if d := onEdge(r, tr, lat, lon); d > 0 && r.IntN(2) == 0 {
				radiusM = d
			}
			q := randFilter(r, tr)
			k := 1 + r.IntN(n+3)
			for _, byRating := range []bool{false, true} {
				want := bruteWithin(tr, lat, lon, radiusM, q)
				query := tr.Nearest
				if byRating {
					slices.SortFunc(want, cmpRated)
					query = tr.BestRated
				}
				f := q.filter(t, tr, inCircle(tr, lat, lon, radiusM))
				var got []Hit
				for page := 0; ; page++ {
					if page > len(want)+1 {
						t.Fatal("pagination does not end")
					}
					m := len(got)
					var err error
					got, err = query(got, lat, lon, radiusM, k, f)
					if err != nil {
						t.Fatal(err)
					}
					if len(got)-m < k {
						break
					}
					last := got[len(got)-1]
					f.After = &last
				}
				if !sameHits(tr, got, want, byRating) {
					t.Fatalf("trial %d n=%d rated=%v pages of %d at (%v, %v) r=%v %+v:\n got %v\nwant %v", trial, n, byRating, k, lat, lon, radiusM, q.f, got, want)
				}
			}
			cnt, err := tr.CountWithin(lat, lon, radiusM, q.filter(t, tr, inCircle(tr, lat, lon, radiusM)), n+1)
			if want := len(bruteWithin(tr, lat, lon, radiusM, q)); err != nil || cnt != want {
				t.Fatalf("CountWithin at (%v, %v) r=%v %+v: %d, want %d", lat, lon, radiusM, q.f, cnt, want)
			}
		}
	}
}
