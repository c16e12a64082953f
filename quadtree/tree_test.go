package quadtree

import (
	"cmp"
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

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
	return lat, lon
}

func randCentre(r *rand.Rand) [2]float64 {
	if r.IntN(2) == 0 {
		return hotspots[r.IntN(len(hotspots))]
	}
	return [2]float64{r.Float64()*180 - 90, r.Float64()*360 - 180}
}

// randEntries returns n clustered entries, some sharing coordinates.
func randEntries(r *rand.Rand, n int) []Entry {
	var centres [][2]float64
	for range 1 + r.IntN(8) {
		centres = append(centres, randCentre(r))
	}
	es := make([]Entry, n)
	for i := range es {
		e := Entry{ID: int64(r.IntN(4 * n)), Category: uint8(r.IntN(20)), Name: "n"}
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

// bruteWithin measures every entry with geo.Distance: the oracle.
func bruteWithin(tr *Tree, lat, lon, radiusM float64, cats uint32) []Hit {
	var hs []Hit
	for i := range tr.Len() {
		if cats != 0 && cats&(1<<tr.Category(i)) == 0 {
			continue
		}
		elat, elon := tr.Point(i)
		if d := geo.Distance(lat, lon, elat, elon); d <= radiusM {
			hs = append(hs, Hit{Index: i, ID: tr.ID(i), DistanceM: d})
		}
	}
	slices.SortFunc(hs, cmpHit)
	return hs
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

// sameHits compares ids and distances in order. Entries with equal id and
// distance are interchangeable, so Index is not compared.
func sameHits(got, want []Hit) bool {
	return slices.EqualFunc(got, want, func(a, b Hit) bool { return a.ID == b.ID && a.DistanceM == b.DistanceM })
}

func randQuery(r *rand.Rand, tr *Tree) (lat, lon, radiusM float64, k int, cats uint32) {
	if tr.Len() > 0 && r.IntN(2) == 0 {
		lat, lon = tr.Point(r.IntN(tr.Len()))
		if r.IntN(2) == 0 {
			lat, lon = randPoint(r, [2]float64{lat, lon})
		}
	} else {
		lat, lon = randPoint(r, randCentre(r))
	}
	radiusM = math.Pow(10, r.Float64()*math.Log10(50000)) // 1 m .. 50 km
	if r.IntN(20) == 0 {
		radiusM = 50000 + r.Float64()*5e6
	}
	k = 1 + r.IntN(100)
	if r.IntN(3) == 0 {
		cats = uint32(r.IntN(1<<20)) & uint32(r.IntN(1<<20))
	}
	return
}

func TestNearestMatchesBruteForce(t *testing.T) {
	r := newRand(t)
	for trial := range 60 {
		n := []int{0, 1, 5, 33, 200, 2000, 5000}[trial%7]
		tr := mustBuild(t, randEntries(r, n))
		for range 60 {
			lat, lon, radiusM, k, cats := randQuery(r, tr)
			got, err := tr.Nearest(nil, lat, lon, radiusM, k, Filter{Categories: cats})
			if err != nil {
				t.Fatal(err)
			}
			want := bruteWithin(tr, lat, lon, radiusM, cats)
			want = want[:min(k, len(want))]
			if !sameHits(got, want) {
				t.Fatalf("n=%d Nearest(%v, %v, %v m, k=%d, cats=%b):\n got %v\nwant %v", n, lat, lon, radiusM, k, cats, got, want)
			}
		}
	}
}

func TestNearestPagesCoverEverything(t *testing.T) {
	r := newRand(t)
	for range 40 {
		tr := mustBuild(t, randEntries(r, 1500))
		lat, lon, radiusM, k, cats := randQuery(r, tr)
		want := bruteWithin(tr, lat, lon, radiusM, cats)
		var got []Hit
		f := Filter{Categories: cats}
		for page := 0; ; page++ {
			if page > len(want)+1 {
				t.Fatal("pagination does not end")
			}
			n := len(got)
			var err error
			got, err = tr.Nearest(got, lat, lon, radiusM, k, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got)-n < k {
				break
			}
			last := got[len(got)-1]
			f.After = &last
		}
		if !sameHits(got, want) {
			t.Fatalf("pages of %d at (%v, %v) r=%v: got %d hits, want %d", k, lat, lon, radiusM, len(got), len(want))
		}
	}
}

func TestWithinAndInBoxMatchBruteForce(t *testing.T) {
	r := newRand(t)
	for trial := range 40 {
		tr := mustBuild(t, randEntries(r, []int{0, 7, 300, 3000}[trial%4]))
		for range 40 {
			lat, lon, radiusM, _, cats := randQuery(r, tr)
			var got []Hit
			count, err := tr.Within(lat, lon, radiusM, Filter{Categories: cats}, func(h Hit) bool {
				got = append(got, h)
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got, cmpHit)
			want := bruteWithin(tr, lat, lon, radiusM, cats)
			if count != len(got) || !sameHits(got, want) {
				t.Fatalf("Within(%v, %v, %v m): got %d (count %d), want %d", lat, lon, radiusM, len(got), count, len(want))
			}

			box := geo.CircleBounds(lat, lon, radiusM)
			if r.IntN(3) == 0 { // an arbitrary box, possibly crossing the antimeridian
				a, b := r.Float64()*180-90, r.Float64()*180-90
				box = geo.Rect{MinLat: min(a, b), MaxLat: max(a, b), MinLon: r.Float64()*360 - 180, MaxLon: r.Float64()*360 - 180}
			}
			var inBox []int
			count, err = tr.InBox(box, Filter{Categories: cats}, func(i int) bool {
				inBox = append(inBox, i)
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			var wantBox []int
			for i := range tr.Len() {
				if (cats == 0 || cats&(1<<tr.Category(i)) != 0) && box.Contains(tr.Point(i)) {
					wantBox = append(wantBox, i)
				}
			}
			slices.Sort(inBox)
			if count != len(inBox) || !slices.Equal(inBox, wantBox) {
				t.Fatalf("InBox(%+v): got %d, want %d", box, len(inBox), len(wantBox))
			}
			// Every hit of the circle is in its bounding box.
			for _, h := range want {
				if !geo.CircleBounds(lat, lon, radiusM).Contains(tr.Point(h.Index)) {
					t.Fatalf("CircleBounds(%v, %v, %v) misses entry %d", lat, lon, radiusM, h.Index)
				}
			}
		}
	}
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
	want := bruteWithin(tr, 40.7484, -73.9857, 10, 0)[:20]
	if !sameHits(got, want) {
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
	for _, e := range []Entry{{Lat: nan}, {Lat: 91}, {Lon: inf}, {Category: MaxCategories}, {Name: string(make([]byte, MaxNameLen+1))}} {
		if _, err := Build([]Entry{e}); err == nil {
			t.Errorf("Build(%+v) accepted a bad entry", e)
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
	bad = c
	bad.Cats = c.Cats[1:]
	if _, err := FromColumns(bad); !errors.Is(err, ErrColumns) {
		t.Errorf("short column: %v", err)
	}
}

func TestSkipHidesEntries(t *testing.T) {
	r := newRand(t)
	for trial := range 30 {
		tr := mustBuild(t, randEntries(r, []int{1, 40, 700, 3000}[trial%4]))
		skip := make([]uint64, r.IntN(tr.Len()/64+2)) // may be shorter than the tree
		for i := range skip {
			skip[i] = r.Uint64() & r.Uint64()
		}
		hidden := func(i int) bool { return i/64 < len(skip) && skip[i/64]&(1<<(i%64)) != 0 }
		for range 30 {
			lat, lon, radiusM, k, cats := randQuery(r, tr)
			var want []Hit
			for _, h := range bruteWithin(tr, lat, lon, radiusM, cats) {
				if !hidden(h.Index) {
					want = append(want, h)
				}
			}
			f := Filter{Categories: cats, Skip: skip}
			got, err := tr.Nearest(nil, lat, lon, radiusM, k, f)
			if err != nil {
				t.Fatal(err)
			}
			if !sameHits(got, want[:min(k, len(want))]) {
				t.Fatalf("Nearest with Skip: got %v, want %v", got, want[:min(k, len(want))])
			}
			var within []Hit
			if _, err := tr.Within(lat, lon, radiusM, f, func(h Hit) bool { within = append(within, h); return true }); err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(within, cmpHit)
			if !sameHits(within, want) {
				t.Fatalf("Within with Skip: got %d hits, want %d", len(within), len(want))
			}
			box := geo.CircleBounds(lat, lon, radiusM)
			if _, err := tr.InBox(box, f, func(i int) bool {
				if hidden(i) {
					t.Fatalf("InBox reported hidden entry %d", i)
				}
				return true
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
