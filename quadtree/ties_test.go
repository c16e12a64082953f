package quadtree

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nearby/nearby/geo"
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

// TestBoxesOnPilesMatchBruteForce runs InBox, CountGrid and InPolygon over
// piles of entries on tiePlaces (leaves of more than LeafCap entries of one
// coordinate, at the poles and on both spellings of the antimeridian), with
// box edges exactly on the world's edges and on the piles: each must report
// what a scan of every entry through geo.Rect.Contains, Grid.Cell or
// geo.MultiPolygon.Contains reports.
func TestBoxesOnPilesMatchBruteForce(t *testing.T) {
	r := newRand(t)
	edges := []float64{-180, 180, -90, 90, 0, 179.9999999, -179.9999999, 89.9999999, -89.9999999, -17, -16.9999999}
	for range 200 {
		tr := mustBuild(t, tieEntries(r, 1+r.IntN(400)))
		for range 10 {
			// An edge on a world edge or a pile, or anywhere, within lo..hi.
			edge := func(lo, hi float64, lat bool) float64 {
				switch r.IntN(3) {
				case 0:
					return max(lo, min(hi, edges[r.IntN(len(edges))]))
				case 1:
					plat, plon := tr.Point(r.IntN(tr.Len()))
					if lat {
						return plat
					}
					return plon
				}
				return lo + r.Float64()*(hi-lo)
			}
			a, b := edge(-90, 90, true), edge(-90, 90, true)
			box := geo.Rect{MinLat: min(a, b), MaxLat: max(a, b), MinLon: edge(-180, 180, false), MaxLon: edge(-180, 180, false)}
			q := randFilter(r, tr)
			inBox := func(i int) bool { return box.Contains(tr.Point(i)) }
			var want []int
			for i := range tr.Len() {
				if q.passes(tr, i) && inBox(i) {
					want = append(want, i)
				}
			}
			checkVisit(t, fmt.Sprintf("InBox(%+v, %+v)", box, q.f), want, r, func(fn func(int) bool) (int, error) {
				return tr.InBox(box, q.filter(t, tr, inBox), fn)
			})
			if g := (Grid{Box: box, Cols: 1 + r.IntN(40), Rows: 1 + r.IntN(40)}); g.check() == nil {
				wantCounts := make([]int, g.Cols*g.Rows)
				for _, i := range want {
					wantCounts[g.Cell(tr.Point(i))]++
				}
				got := make([]int, len(wantCounts))
				if err := tr.CountGrid(g, q.filter(t, tr, inBox), got); err != nil || !slices.Equal(got, wantCounts) {
					t.Fatalf("CountGrid(%+v, %+v): %v\n got %v\nwant %v", g, q.f, err, got, wantCounts)
				}
			}
			checkInPolygon(t, r, tr, randPolygon(r, tr), q)
		}
	}
}
