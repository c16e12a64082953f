package quadtree

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nearby/nearby/geo"
)

// TestCountGridMatchesBruteForce: counts per cell equal, cell by cell, a
// scan of every entry through the filter's oracle and Grid.Cell, for random
// filters (Skip and Accept included), boxes (across the antimeridian, at
// the poles, the world) and grids from one cell to thousands, so that whole
// subtrees are counted at once on coarse grids and entry by entry on fine
// ones.
func TestCountGridMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for round := range 12 {
		es := randEntries(r, 200+r.IntN(3000))
		tr := mustBuild(t, es)
		for range 40 {
			var box geo.Rect
			switch r.IntN(4) {
			case 0:
				box = geo.World
			case 1: // around a hotspot, maybe across the antimeridian
				c := randCentre(r)
				w, h := r.Float64()*20, r.Float64()*10
				box = geo.Rect{MinLat: max(-90, c[0]-h), MaxLat: min(90, c[0]+h), MinLon: c[1] - w, MaxLon: c[1] + w}
				if box.MinLon < -180 {
					box.MinLon += 360
				}
				if box.MaxLon > 180 {
					box.MaxLon -= 360
				}
			case 2:
				box = geo.Rect{MinLat: -90, MaxLat: -60 + r.Float64()*150, MinLon: 170 + r.Float64()*10, MaxLon: -180 + r.Float64()*20}
			default:
				box = geo.Rect{MinLat: r.Float64()*180 - 90, MinLon: r.Float64()*360 - 180}
				box.MaxLat, box.MaxLon = box.MinLat+r.Float64()*(90-box.MinLat), r.Float64()*360-180
			}
			g := Grid{Box: box, Cols: 1 + r.IntN(64), Rows: 1 + r.IntN(64)}
			if g.check() != nil {
				continue
			}
			q := randFilter(r, tr)
			want := make([]int, g.Cols*g.Rows)
			for i := range tr.Len() {
				if lat, lon := tr.Point(i); box.Contains(lat, lon) && q.passes(tr, i) {
					want[g.Cell(lat, lon)]++
				}
			}
			got := make([]int, len(want))
			if err := tr.CountGrid(g, q.filter(t, tr, func(i int) bool { return box.Contains(tr.Point(i)) }), got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("round %d: CountGrid(%+v, %+v) differs from brute force:\n got %v\nwant %v", round, g, q.f, got, want)
			}
		}
	}
}

func TestCountGridRefuses(t *testing.T) {
	tr := mustBuild(t, randEntries(rand.New(rand.NewPCG(1, 2)), 100))
	ok := geo.Rect{MinLat: 0, MinLon: 0, MaxLat: 1, MaxLon: 1}
	for _, g := range []Grid{
		{Box: geo.Rect{MinLat: 1, MinLon: 0, MaxLat: 1, MaxLon: 1}, Cols: 1, Rows: 1},
		{Box: geo.Rect{MinLat: 0, MinLon: 1, MaxLat: 1, MaxLon: 1}, Cols: 1, Rows: 1},
		{Box: geo.Rect{MinLat: 0, MinLon: 0, MaxLat: 91, MaxLon: 1}, Cols: 1, Rows: 1},
		{Box: ok, Cols: 0, Rows: 1},
	} {
		if err := tr.CountGrid(g, Filter{}, make([]int, max(0, g.Cols*g.Rows))); !errors.Is(err, ErrInvalidRect) {
			t.Errorf("%+v: %v, want ErrInvalidRect", g, err)
		}
	}
	if err := tr.CountGrid(Grid{Box: ok, Cols: 2, Rows: 2}, Filter{}, make([]int, 3)); !errors.Is(err, ErrInvalidRect) {
		t.Errorf("3 counts for 4 cells: %v", err)
	}
	// From 180 to -180 is one meridian: no width, as MinLon == MaxLon.
	meridian := geo.Rect{MinLat: 0, MinLon: 180, MaxLat: 1, MaxLon: -180}
	if err := tr.CountGrid(Grid{Box: meridian, Cols: 2, Rows: 2}, Filter{}, make([]int, 4)); !errors.Is(err, ErrInvalidRect) {
		t.Errorf("a grid from 180 to -180: %v, want ErrInvalidRect", err)
	}
	// Cols × Rows overflows int to 0, the length of nil counts: the grid
	// must be refused, not indexed.
	huge := Grid{Box: geo.World, Cols: 1 << 32, Rows: 1 << 32}
	if math.MaxInt == math.MaxInt64 {
		if err := tr.CountGrid(huge, Filter{}, nil); !errors.Is(err, ErrInvalidRect) {
			t.Errorf("%d × %d cells, nil counts: %v, want ErrInvalidRect", huge.Cols, huge.Rows, err)
		}
	}
}

// TestCountWithinMatchesBruteForce: the count equals a scan of every entry
// through the filter's oracle and geo.Distance, capped at the limit, for
// random filters (Skip and Accept included), places (poles and the
// antimeridian among them) and radii from a metre to half the globe, so that
// whole subtrees are counted at once and entries on the circle one by one.
func TestCountWithinMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for round := range 12 {
		tr := mustBuild(t, randEntries(r, 200+r.IntN(3000)))
		for range 60 {
			c := randCentre(r)
			if r.IntN(4) == 0 {
				c = [2]float64{[]float64{90, -90, 0}[r.IntN(3)], []float64{180, -180, 0}[r.IntN(3)]}
			}
			radius := math.Pow(10, r.Float64()*7.3) // 1 m .. 20,000 km
			if d := onEdge(r, tr, c[0], c[1]); d > 0 && r.IntN(4) == 0 {
				radius = d
			}
			q := randFilter(r, tr)
			want := 0
			for i := range tr.Len() {
				if lat, lon := tr.Point(i); geo.Distance(c[0], c[1], lat, lon) <= radius && q.passes(tr, i) {
					want++
				}
			}
			limit := want + 1
			if r.IntN(3) == 0 {
				limit = r.IntN(want + 1)
			}
			inCircle := func(i int) bool { lat, lon := tr.Point(i); return geo.Distance(c[0], c[1], lat, lon) <= radius }
			got, err := tr.CountWithin(c[0], c[1], radius, q.filter(t, tr, inCircle), limit)
			if err != nil {
				t.Fatal(err)
			}
			if got != min(want, limit) {
				t.Fatalf("round %d: CountWithin(%v, %v m, %+v, limit %d) = %d, brute force %d", round, c, radius, q.f, limit, got, want)
			}
		}
	}
}

// TestCountWithinTinyRadiusAcrossAntimeridian: longitudes 180 and -180 are
// one place, but Distance between them is not exactly 0 (sin of π rounded
// is 1.2e-16), so a radius below that rounding must not count an entry at
// -180 from an origin at 180 as surely within, as Within does not report it.
func TestCountWithinTinyRadiusAcrossAntimeridian(t *testing.T) {
	for _, lat := range []float64{60.3932617, 0} {
		tr := mustBuild(t, []Entry{{ID: 1, Lat: lat, Lon: -180}, {ID: 2, Lat: lat, Lon: -180}})
		d := geo.Distance(lat, 180, lat, -180)
		if d == 0 {
			t.Fatalf("Distance across the antimeridian at %v° is exactly 0: the test needs rounding", lat)
		}
		for _, radius := range []float64{math.Nextafter(d, 0), d / 2, d} {
			want, err := tr.Within(lat, 180, radius, Filter{}, func(Hit) bool { return true })
			if err != nil {
				t.Fatal(err)
			}
			got, err := tr.CountWithin(lat, 180, radius, Filter{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("CountWithin(%v, 180, %v m) = %d, Within reports %d", lat, radius, got, want)
			}
		}
	}
}
