package quadtree

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/nearby/nearby/geo"
)

var seedFlag = flag.Uint64("seed", 0, "random seed for property tests (0: time-based)")

// newRand returns a seeded generator and logs the seed so a failure reproduces
// with -seed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// hotspots are places where geometry is hard: the antimeridian, the poles,
// the equator and the prime meridian.
var hotspots = [][2]float64{
	{0, 180}, {0, -180}, {-17, 179.999}, {65, -179.99}, {90, 0}, {-90, 0},
	{89.9999, 45}, {-89.99, -120}, {0, 0}, {51.5, -0.0001}, {35.68, 139.76},
}

// randPoint returns a point near a hotspot or a random centre, at a distance
// from metres to tens of kilometres, wrapped into valid coordinates.
func randPoint(r *rand.Rand, centre [2]float64) (lat, lon float64) {
	scale := math.Pow(10, r.Float64()*5) // 1 m .. 100 km
	dLat := r.NormFloat64() * scale / 111195
	dLon := r.NormFloat64() * scale / 111195 / math.Max(math.Cos(centre[0]*math.Pi/180), 0.01)
	lat = centre[0] + dLat
	lon = centre[1] + dLon
	if lat > 90 {
		lat = 180 - lat
	}
	if lat < -90 {
		lat = -180 - lat
	}
	lon = math.Mod(lon+540, 360) - 180
	if r.IntN(50) == 0 {
		lon = []float64{-180, 180}[r.IntN(2)]
	}
	if r.IntN(100) == 0 {
		lat = []float64{-90, 90}[r.IntN(2)]
	}
	return lat, lon
}

// onEdge returns the distance from lat, lon to a random entry of tr, or the
// float64 just below or above it: a radius with an entry exactly on the
// circle, or a rounding step off it. It returns 0 for an empty tree.
func onEdge(r *rand.Rand, tr *Tree, lat, lon float64) float64 {
	if tr.Len() == 0 {
		return 0
	}
	elat, elon := tr.Point(r.IntN(tr.Len()))
	d := geo.Distance(lat, lon, elat, elon)
	switch r.IntN(3) {
	case 0:
		d = math.Nextafter(d, 0)
	case 1:
		d = math.Nextafter(d, math.Inf(1))
	}
	return d
}

func randCentre(r *rand.Rand) [2]float64 {
	if r.IntN(2) == 0 {
		return hotspots[r.IntN(len(hotspots))]
	}
	return [2]float64{r.Float64()*180 - 90, r.Float64()*360 - 180}
}

// randEntries returns n clustered entries with attributes, some sharing
// coordinates.
func randEntries(r *rand.Rand, n int) []Entry {
	var centres [][2]float64
	for range 1 + r.IntN(8) {
		centres = append(centres, randCentre(r))
	}
	// Ids span little, from 0 or from far away (kept as 32-bit offsets), or
	// the whole int64 range (kept whole).
	id := func() int64 { return int64(r.IntN(4 * n)) }
	switch r.IntN(4) {
	case 0:
		id = func() int64 { return int64(r.Uint64()) }
	case 1:
		id = func() int64 { return 1<<40 + int64(r.IntN(4*n)) }
	}
	es := make([]Entry, n)
	for i := range es {
		e := Entry{ID: id(), Category: uint8(r.IntN(20)), Name: "n", Attrs: randAttrs(r)}
		if i > 0 && r.IntN(10) == 0 {
			prev := es[r.IntN(i)]
			e.Lat, e.Lon = prev.Lat, prev.Lon
		} else {
			e.Lat, e.Lon = randPoint(r, centres[r.IntN(len(centres))])
		}
		es[i] = e
	}
	return es
}

// randAttrs draws attributes, a quarter of them without a price or a
// rating, with few distinct ratings so that ties are common.
func randAttrs(r *rand.Rand) Attrs {
	a := Attrs{Tag: uint32(r.IntN(5)), Reviews: r.Uint32N(1000)}
	if r.IntN(4) > 0 {
		a.Price = uint8(1 + r.IntN(MaxPrice))
	}
	if r.IntN(4) > 0 {
		a.Rating = uint8(1 + 5*r.IntN(MaxRating/5+1))
	}
	return a
}

func mustBuild(t testing.TB, es []Entry) *Tree {
	t.Helper()
	tr, err := Build(es)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.check(); err != nil {
		t.Fatalf("check: %v", err)
	}
	return tr
}

// query is a random filter with the set of entries its Accept accepts (nil
// for no Accept). filter arms Accept for one query.
type query struct {
	f      Filter
	accept []uint64
}

func randFilter(r *rand.Rand, tr *Tree) query {
	var q query
	if r.IntN(3) == 0 {
		a, b := r.IntN(1<<20), r.IntN(1<<20)
		q.f.Categories = uint32(a & b) // two draws: about a quarter of the bits
	}
	if r.IntN(3) == 0 {
		q.f.Prices = uint8(r.IntN(1 << 6)) // bit 0 and bits above MaxPrice too
	}
	if r.IntN(3) == 0 {
		q.f.MinRating = uint8(r.IntN(MaxRating + 2))
	}
	if r.IntN(4) == 0 {
		q.f.Skip = randBits(r, r.IntN(tr.Len()/64+2), 3) // may be shorter than the tree
	}
	if r.IntN(3) == 0 {
		q.accept = randBits(r, tr.Len()/64+1, 2)
	}
	return q
}

// randBits returns a bit set of words words, each bit set with probability
// (3/4)^and.
func randBits(r *rand.Rand, words, and int) []uint64 {
	bs := make([]uint64, words)
	for i := range bs {
		bs[i] = ^uint64(0)
		for range and {
			bs[i] &= r.Uint64() | r.Uint64()
		}
	}
	return bs
}

func bit(set []uint64, i int) bool { return i/64 < len(set) && set[i/64]&(1<<(i%64)) != 0 }

// cheap is the oracle of every test of a Filter but Accept, written apart
// from the code under test.
func (q query) cheap(tr *Tree, i int) bool {
	a := tr.Attrs(i)
	return (q.f.Categories == 0 || q.f.Categories&(1<<tr.Category(i)) != 0) &&
		(q.f.Prices == 0 || a.Price != 0 && q.f.Prices&(1<<a.Price) != 0) &&
		a.Rating >= q.f.MinRating && !bit(q.f.Skip, i)
}

// passes is the oracle of the whole Filter.
func (q query) passes(tr *Tree, i int) bool {
	return q.cheap(tr, i) && (q.accept == nil || bit(q.accept, i))
}

// filter returns q's Filter with Accept armed: it fails t if asked about an
// entry that fails another test or lies outside the query's geometry.
func (q query) filter(t testing.TB, tr *Tree, inGeometry func(i int) bool) Filter {
	t.Helper()
	f := q.f
	if q.accept != nil {
		f.Accept = func(i int) bool {
			if !q.cheap(tr, i) || !inGeometry(i) {
				t.Fatalf("Accept(%d) asked about an entry that fails another test", i)
			}
			return bit(q.accept, i)
		}
	}
	return f
}

// bruteWithin measures every entry with geo.Distance: the oracle.
func bruteWithin(tr *Tree, lat, lon, radiusM float64, q query) []Hit {
	var hs []Hit
	for i := range tr.Len() {
		if !q.passes(tr, i) {
			continue
		}
		elat, elon := tr.Point(i)
		if d := geo.Distance(lat, lon, elat, elon); d <= radiusM {
			hs = append(hs, Hit{Index: i, ID: tr.ID(i), DistanceM: d, Rating: tr.Attrs(i).Rating})
		}
	}
	slices.SortFunc(hs, cmpHit)
	return hs
}

// inCircle reports whether entry i is within radiusM of lat, lon.
func inCircle(tr *Tree, lat, lon, radiusM float64) func(i int) bool {
	return func(i int) bool {
		elat, elon := tr.Point(i)
		return geo.Distance(lat, lon, elat, elon) <= radiusM
	}
}

// cmpHit orders by distance, then id, then index; written apart from
// Hit.Less so the oracle does not share the code under test.
func cmpHit(a, b Hit) int {
	if c := cmp.Compare(a.DistanceM, b.DistanceM); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return a.Index - b.Index
}

// cmpRated orders by rating, highest first, then as cmpHit.
func cmpRated(a, b Hit) int {
	if c := cmp.Compare(b.Rating, a.Rating); c != 0 {
		return c
	}
	return cmpHit(a, b)
}

// sameHits compares ids and distances in order, and ratings too when the
// order is by rating: entries equal in those are interchangeable, so Index
// is not compared. Every hit must carry its entry's rating.
func sameHits(tr *Tree, got, want []Hit, byRating bool) bool {
	for _, h := range got {
		if h.Rating != tr.Attrs(h.Index).Rating {
			return false
		}
	}
	return slices.EqualFunc(got, want, func(a, b Hit) bool {
		return a.ID == b.ID && a.DistanceM == b.DistanceM && (!byRating || a.Rating == b.Rating)
	})
}

func randQuery(r *rand.Rand, tr *Tree) (lat, lon, radiusM float64, k int) {
	if tr.Len() > 0 && r.IntN(2) == 0 {
		lat, lon = tr.Point(r.IntN(tr.Len()))
		if r.IntN(2) == 0 {
			lat, lon = randPoint(r, [2]float64{lat, lon})
		}
	} else {
		lat, lon = randPoint(r, randCentre(r))
	}
	radiusM = math.Pow(10, r.Float64()*math.Log10(50000)) // 1 m .. 50 km
	switch r.IntN(20) {
	case 0:
		radiusM = 50000 + r.Float64()*5e6
	case 1, 2:
		if d := onEdge(r, tr, lat, lon); d > 0 {
			radiusM = d
		}
	}
	k = 1 + r.IntN(100)
	return
}

func TestNearestMatchesBruteForce(t *testing.T) {
	r := newRand(t)
	for trial := range 60 {
		n := []int{0, 1, 5, 33, 200, 2000, 5000}[trial%7]
		tr := mustBuild(t, randEntries(r, n))
		for range 60 {
			lat, lon, radiusM, k := randQuery(r, tr)
			q := randFilter(r, tr)
			got, err := tr.Nearest(nil, lat, lon, radiusM, k, q.filter(t, tr, inCircle(tr, lat, lon, radiusM)))
			if err != nil {
				t.Fatal(err)
			}
			want := bruteWithin(tr, lat, lon, radiusM, q)
			want = want[:min(k, len(want))]
			if !sameHits(tr, got, want, false) {
				t.Fatalf("n=%d Nearest(%v, %v, %v m, k=%d, %+v):\n got %v\nwant %v", n, lat, lon, radiusM, k, q.f, got, want)
			}
		}
	}
}

func TestBestRatedMatchesBruteForce(t *testing.T) {
	r := newRand(t)
	for trial := range 60 {
		n := []int{0, 1, 5, 33, 200, 2000, 5000}[trial%7]
		tr := mustBuild(t, randEntries(r, n))
		for range 60 {
			lat, lon, radiusM, k := randQuery(r, tr)
			q := randFilter(r, tr)
			got, err := tr.BestRated(nil, lat, lon, radiusM, k, q.filter(t, tr, inCircle(tr, lat, lon, radiusM)))
			if err != nil {
				t.Fatal(err)
			}
			want := bruteWithin(tr, lat, lon, radiusM, q)
			slices.SortFunc(want, cmpRated)
			want = want[:min(k, len(want))]
			if !sameHits(tr, got, want, true) {
				t.Fatalf("n=%d BestRated(%v, %v, %v m, k=%d, %+v):\n got %v\nwant %v", n, lat, lon, radiusM, k, q.f, got, want)
			}
		}
	}
}

// TestPagesCoverEverything pages through Nearest and BestRated answers
// with After: the pages together are the brute-force list, in order.
func TestPagesCoverEverything(t *testing.T) {
	r := newRand(t)
	for _, tc := range []struct {
		name  string
		query func(*Tree, []Hit, float64, float64, float64, int, Filter) ([]Hit, error)
		order func(a, b Hit) int
		rated bool
	}{
		{"Nearest", (*Tree).Nearest, cmpHit, false},
		{"BestRated", (*Tree).BestRated, cmpRated, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 40 {
				// Ids are unique: After cannot tell apart entries equal in
				// id and distance (and rating), so a page may end between them.
				es := randEntries(r, 1500)
				for i, j := range r.Perm(len(es)) {
					es[i].ID = int64(j)
				}
				tr := mustBuild(t, es)
				lat, lon, radiusM, k := randQuery(r, tr)
				k = max(1, k/4)
				q := randFilter(r, tr)
				want := bruteWithin(tr, lat, lon, radiusM, q)
				slices.SortFunc(want, tc.order)
				var got []Hit
				f := q.filter(t, tr, inCircle(tr, lat, lon, radiusM))
				for page := 0; ; page++ {
					if page > len(want)+1 {
						t.Fatal("pagination does not end")
					}
					n := len(got)
					var err error
					got, err = tc.query(tr, got, lat, lon, radiusM, k, f)
					if err != nil {
						t.Fatal(err)
					}
					if len(got)-n < k {
						break
					}
					last := got[len(got)-1]
					f.After = &last
				}
				if !sameHits(tr, got, want, tc.rated) {
					t.Fatalf("pages of %d at (%v, %v) r=%v %+v: got %d hits, want %d", k, lat, lon, radiusM, q.f, len(got), len(want))
				}
			}
		})
	}
}

func TestWithinAndInBoxMatchBruteForce(t *testing.T) {
	r := newRand(t)
	for trial := range 40 {
		tr := mustBuild(t, randEntries(r, []int{0, 7, 300, 3000}[trial%4]))
		for range 40 {
			lat, lon, radiusM, _ := randQuery(r, tr)
			q := randFilter(r, tr)
			var got []Hit
			count, err := tr.Within(lat, lon, radiusM, q.filter(t, tr, inCircle(tr, lat, lon, radiusM)), func(h Hit) bool {
				got = append(got, h)
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.IsSortedFunc(got, func(a, b Hit) int { return a.Index - b.Index }) {
				t.Fatal("Within does not report in tree order")
			}
			slices.SortFunc(got, cmpHit)
			want := bruteWithin(tr, lat, lon, radiusM, q)
			if count != len(got) || !sameHits(tr, got, want, false) {
				t.Fatalf("Within(%v, %v, %v m, %+v): got %d (count %d), want %d", lat, lon, radiusM, q.f, len(got), count, len(want))
			}
			// Every hit of the circle is in its bounding box.
			for _, h := range want {
				if !geo.CircleBounds(lat, lon, radiusM).Contains(tr.Point(h.Index)) {
					t.Fatalf("CircleBounds(%v, %v, %v) misses entry %d", lat, lon, radiusM, h.Index)
				}
			}

			box := geo.CircleBounds(lat, lon, radiusM)
			switch r.IntN(3) {
			case 0: // an arbitrary box, possibly crossing the antimeridian
				a, b := r.Float64()*180-90, r.Float64()*180-90
				box = geo.Rect{MinLat: min(a, b), MaxLat: max(a, b), MinLon: r.Float64()*360 - 180, MaxLon: r.Float64()*360 - 180}
			case 1: // corners on entries: edges through them
				if tr.Len() > 0 {
					a, b := tr.Entry(r.IntN(tr.Len())), tr.Entry(r.IntN(tr.Len()))
					box = geo.Rect{MinLat: min(a.Lat, b.Lat), MaxLat: max(a.Lat, b.Lat), MinLon: a.Lon, MaxLon: b.Lon}
				}
			}
			inBox := func(i int) bool { return box.Contains(tr.Point(i)) }
			var wantBox []int
			for i := range tr.Len() {
				if q.passes(tr, i) && inBox(i) {
					wantBox = append(wantBox, i)
				}
			}
			checkVisit(t, fmt.Sprintf("InBox(%+v, %+v)", box, q.f), wantBox, r, func(fn func(int) bool) (int, error) {
				return tr.InBox(box, q.filter(t, tr, inBox), fn)
			})
		}
	}
}

// checkVisit runs a query that reports positions: it must report want, in
// tree order within each part of a box split at the antimeridian, and stop
// when told.
func checkVisit(t *testing.T, name string, want []int, r *rand.Rand, query func(fn func(int) bool) (int, error)) {
	t.Helper()
	var got []int
	count, err := query(func(i int) bool { got = append(got, i); return true })
	if err != nil {
		t.Fatal(err)
	}
	if count != len(got) {
		t.Fatalf("%s: count %d for %d entries", name, count, len(got))
	}
	sorted := slices.Sorted(slices.Values(got))
	if !slices.Equal(sorted, want) {
		t.Fatalf("%s: got %d entries, want %d", name, len(got), len(want))
	}
	if descents := 0; len(got) > 0 {
		for j := 1; j < len(got); j++ {
			if got[j] < got[j-1] {
				descents++
			}
		}
		if descents > 1 {
			t.Fatalf("%s: not in tree order", name)
		}
	}
	if len(want) == 0 {
		return
	}
	stop := 1 + r.IntN(len(want))
	var first []int
	count, err = query(func(i int) bool { first = append(first, i); return len(first) < stop })
	if err != nil || count != stop || !slices.Equal(first, got[:stop]) {
		t.Fatalf("%s stopped after %d: count %d, err %v", name, stop, count, err)
	}
}

func TestInPolygonMatchesBruteForce(t *testing.T) {
	r := newRand(t)
	for trial := range 40 {
		tr := mustBuild(t, randEntries(r, []int{0, 7, 300, 3000, 6000}[trial%5]))
		for range 30 {
			checkInPolygon(t, r, tr, randPolygon(r, tr), randFilter(r, tr))
		}
	}
	tr := mustBuild(t, randEntries(r, 10))
	for _, m := range []geo.MultiPolygon{nil, {{Rings: [][]geo.Point{{{Lat: math.NaN()}, {}, {Lat: 1}, {}}}}}} {
		if _, err := tr.InPolygon(m, Filter{}, func(int) bool { return true }); !errors.Is(err, ErrInvalidPolygon) {
			t.Errorf("InPolygon(%v): %v, want ErrInvalidPolygon", m, err)
		}
	}
}

// randPolygon returns one to three polygons, each a star-shaped ring with
// up to two holes, near the tree's entries; some vertices sit on entries,
// so that edges run through them and through node boxes' edges.
func randPolygon(r *rand.Rand, tr *Tree) geo.MultiPolygon {
	centre := randCentre(r)
	if tr.Len() > 0 && r.IntN(4) > 0 {
		centre[0], centre[1] = tr.Point(r.IntN(tr.Len()))
	}
	var m geo.MultiPolygon
	for range 1 + r.IntN(3) {
		size := math.Pow(10, -4+r.Float64()*5) // 1e-4° .. 10°
		c := [2]float64{centre[0] + r.NormFloat64()*size, centre[1] + r.NormFloat64()*size}
		var p geo.Polygon
		for hole := range 1 + r.IntN(3) {
			p.Rings = append(p.Rings, randRing(r, tr, c, size/float64(1+2*hole)))
		}
		m = append(m, p)
	}
	return m
}

func randRing(r *rand.Rand, tr *Tree, c [2]float64, size float64) []geo.Point {
	n := 3 + r.IntN(10)
	angles := make([]float64, n)
	for i := range angles {
		angles[i] = r.Float64() * 2 * math.Pi
	}
	slices.Sort(angles)
	ring := make([]geo.Point, 0, n+1)
	for _, a := range angles {
		d := size * (0.2 + r.Float64())
		p := geo.Point{Lat: c[0] + d*math.Sin(a), Lon: c[1] + d*math.Cos(a)}
		if tr.Len() > 0 && r.IntN(4) == 0 {
			// An entry near the vertex, as the vertex itself.
			best := math.Inf(1)
			for range 50 {
				i := r.IntN(tr.Len())
				lat, lon := tr.Point(i)
				if dd := math.Abs(lat-p.Lat) + math.Abs(lon-p.Lon); dd < best && dd < 3*size {
					best, p = dd, geo.Point{Lat: lat, Lon: lon}
				}
			}
		}
		p.Lat = max(-90, min(90, p.Lat))
		p.Lon = max(-180, min(180, p.Lon))
		ring = append(ring, p)
	}
	return append(ring, ring[0])
}

func TestDenseClusterStaysShallow(t *testing.T) {
	// 100k entries within 100 m, as in a dense downtown, plus 5k on one spot.
	r := newRand(t)
	var es []Entry
	for i := range 100000 {
		es = append(es, Entry{ID: int64(i), Lat: 40.758 + r.NormFloat64()*0.0005, Lon: -73.9855 + r.NormFloat64()*0.0005})
	}
	for i := range 5000 {
		es = append(es, Entry{ID: int64(200000 + i), Lat: 40.7484, Lon: -73.9857})
	}
	tr := mustBuild(t, es)
	if d := tr.Depth(); d > 16 {
		t.Errorf("depth %d for 105k entries; want ≤ 16", d)
	}
	got, err := tr.Nearest(nil, 40.7484, -73.9857, 10, 20, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := bruteWithin(tr, 40.7484, -73.9857, 10, query{})[:20]
	if !sameHits(tr, got, want, false) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestBadInput(t *testing.T) {
	tr := mustBuild(t, []Entry{{ID: 1, Lat: 1, Lon: 1}})
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name          string
		lat, lon, rad float64
		k             int
		want          error
	}{
		{"lat too big", 90.1, 0, 10, 1, ErrInvalidPoint},
		{"lon too small", 0, -180.5, 10, 1, ErrInvalidPoint},
		{"nan lat", nan, 0, 10, 1, ErrInvalidPoint},
		{"inf lon", 0, inf, 10, 1, ErrInvalidPoint},
		{"zero radius", 0, 0, 0, 1, ErrInvalidRadius},
		{"negative radius", 0, 0, -1, 1, ErrInvalidRadius},
		{"nan radius", 0, 0, nan, 1, ErrInvalidRadius},
		{"inf radius", 0, 0, inf, 1, ErrInvalidRadius},
		{"zero k", 0, 0, 10, 0, ErrInvalidK},
		{"negative k", 0, 0, 10, -3, ErrInvalidK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tr.Nearest(nil, tc.lat, tc.lon, tc.rad, tc.k, Filter{}); !errors.Is(err, tc.want) {
				t.Errorf("Nearest: %v, want %v", err, tc.want)
			}
			if tc.want != ErrInvalidK {
				if _, err := tr.Within(tc.lat, tc.lon, tc.rad, Filter{}, func(Hit) bool { return true }); !errors.Is(err, tc.want) {
					t.Errorf("Within: %v, want %v", err, tc.want)
				}
			}
		})
	}
	if _, err := tr.InBox(geo.Rect{MinLat: 10, MaxLat: 5}, Filter{}, func(int) bool { return true }); !errors.Is(err, ErrInvalidRect) {
		t.Errorf("InBox with MinLat > MaxLat: %v", err)
	}
	for _, tc := range []struct {
		e    Entry
		want error
	}{
		{Entry{Lat: nan}, ErrInvalidPoint},
		{Entry{Lat: 91}, ErrInvalidPoint},
		{Entry{Lon: inf}, ErrInvalidPoint},
		{Entry{Category: MaxCategories}, ErrInvalidCategory},
		{Entry{Name: string(make([]byte, MaxNameLen+1))}, ErrInvalidName},
		{Entry{Attrs: Attrs{Price: MaxPrice + 1}}, ErrInvalidAttrs},
		{Entry{Attrs: Attrs{Rating: MaxRating + 1}}, ErrInvalidAttrs},
	} {
		if _, err := Build([]Entry{tc.e}); !errors.Is(err, tc.want) {
			t.Errorf("Build(%+v): %v, want %v", tc.e, err, tc.want)
		}
	}
	empty := mustBuild(t, nil)
	if hs, err := empty.Nearest(nil, 0, 0, 1000, 5, Filter{}); err != nil || len(hs) != 0 {
		t.Errorf("empty tree: %v, %v", hs, err)
	}
}

func TestFromColumnsRoundTrip(t *testing.T) {
	r := newRand(t)
	tr := mustBuild(t, randEntries(r, 3000))
	c := tr.Columns()
	tr2, err := FromColumns(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr2.check(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.nodes, tr2.nodes) {
		t.Fatal("nodes differ after FromColumns")
	}
	// Out of order, bad lengths and bad values are refused.
	bad := c
	bad.Lats = slices.Clone(c.Lats)
	bad.Lats[0], bad.Lats[len(bad.Lats)-1] = bad.Lats[len(bad.Lats)-1], bad.Lats[0]
	bad.Lons = slices.Clone(c.Lons)
	bad.Lons[0], bad.Lons[len(bad.Lons)-1] = bad.Lons[len(bad.Lons)-1], bad.Lons[0]
	if _, err := FromColumns(bad); !errors.Is(err, ErrColumns) {
		t.Errorf("unsorted columns: %v", err)
	}
	for name, mutate := range map[string]func(c *Columns){
		"short categories": func(c *Columns) { c.Cats = c.Cats[1:] },
		"short tags":       func(c *Columns) { c.Tags = c.Tags[1:] },
		"short reviews":    func(c *Columns) { c.Reviews = c.Reviews[1:] },
		"price":            func(c *Columns) { c.Prices = slices.Clone(c.Prices); c.Prices[7] = MaxPrice + 1 },
		"rating":           func(c *Columns) { c.Ratings = slices.Clone(c.Ratings); c.Ratings[9] = MaxRating + 1 },
	} {
		bad := c
		mutate(&bad)
		if _, err := FromColumns(bad); !errors.Is(err, ErrColumns) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Empty attribute columns (seeds written before attributes) mean zero.
	bare := c
	bare.Prices, bare.Ratings, bare.Tags, bare.Reviews = nil, nil, nil, nil
	tr3, err := FromColumns(bare)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr3.check(); err != nil {
		t.Fatal(err)
	}
	for i := range tr3.Len() {
		if e := tr3.Entry(i); e.Attrs != (Attrs{}) || e.ID != tr.ID(i) || e.Name != tr.Name(i) {
			t.Fatalf("entry %d without attribute columns: %+v", i, e)
		}
	}
	if got, err := tr3.Nearest(nil, 0, 0, 1e7, 1, Filter{Prices: 1 << 2}); err != nil || len(got) != 0 {
		t.Fatalf("a price filter on entries without prices: %v, %v", got, err)
	}
}

// TestEntriesKeepTheirAttributes builds and rebuilds from columns: every
// entry comes back as it was added.
func TestEntriesKeepTheirAttributes(t *testing.T) {
	r := newRand(t)
	for _, ids := range []struct {
		name     string
		id       func(i int) int64
		idxBytes int // per entry, without the nodes
	}{
		{"small", func(i int) int64 { return int64(i) }, 19},
		{"far", func(i int) int64 { return math.MaxInt64 - int64(i)*2_000_000 }, 19}, // span < 2^32
		{"wide", func(i int) int64 { return int64(i)<<53 - 1<<62 }, 23},              // negatives too
	} {
		es := randEntries(r, 2000)
		added := map[int64]Entry{}
		for i := range es {
			es[i].ID = ids.id(i)
			es[i].Name = fmt.Sprint("shop ", i)
			es[i].Lat, es[i].Lon = FromE7(ToE7(es[i].Lat)), FromE7(ToE7(es[i].Lon))
			added[es[i].ID] = es[i]
		}
		tr := mustBuild(t, es)
		c := tr.Columns()
		tr2, err := FromColumns(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range []*Tree{tr, tr2} {
			for i := range tr.Len() {
				if e := tr.Entry(i); e != added[e.ID] || c.IDs[i] != e.ID {
					t.Fatalf("%s ids: entry %d is %+v, was added as %+v", ids.name, i, e, added[e.ID])
				}
			}
		}
		if tr.IndexBytes() != tr2.IndexBytes() || tr.ColdBytes() <= tr2.ColdBytes() {
			t.Errorf("%s ids: index %d and %d bytes, cold %d and %d", ids.name, tr.IndexBytes(), tr2.IndexBytes(), tr.ColdBytes(), tr2.ColdBytes())
		}
		if got := tr.IndexBytes() - len(tr.nodes)*int(unsafe.Sizeof(node{})); got != ids.idxBytes*len(es) {
			t.Errorf("%s ids: %d bytes of columns for %d entries, want %d each", ids.name, got, len(es), ids.idxBytes)
		}
	}
}

// checkInPolygon compares InPolygon(m), through the plain polygon or its
// index at random, with brute force under the filter q.
func checkInPolygon(t *testing.T, r *rand.Rand, tr *Tree, m geo.MultiPolygon, q query) {
	t.Helper()
	inside := func(i int) bool { return m.Contains(tr.Point(i)) }
	var want []int
	for i := range tr.Len() {
		if q.passes(tr, i) && inside(i) {
			want = append(want, i)
		}
	}
	var poly Polygon = m
	if r.IntN(2) == 0 {
		poly = m.Index()
	}
	checkVisit(t, fmt.Sprintf("InPolygon(%v, %+v)", m, q.f), want, r, func(fn func(int) bool) (int, error) {
		return tr.InPolygon(poly, q.filter(t, tr, inside), fn)
	})
}
