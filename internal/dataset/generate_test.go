package dataset

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomized tests (0: pick one and log it)")

// testSeed returns the seed of a randomized test, logged so a failure can be
// reproduced with -seed.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	s := *seedFlag
	if s == 0 {
		s = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -seed=%d)", s, s)
	return s
}

// sample is a shared draw for the shape tests, made once per test binary.
type sample struct {
	seed   uint64
	bs     []nearby.Business
	cities []int // cities[i] is the index of the city bs[i] was placed around
}

const sampleN = 200_000

var sampleCache *sample

func getSample(t *testing.T) *sample {
	t.Helper()
	if sampleCache == nil {
		s := &sample{seed: testSeed(t), bs: make([]nearby.Business, sampleN), cities: make([]int, sampleN)}
		g := NewGenerator(s.seed)
		for i := range s.bs {
			s.bs[i], s.cities[i] = g.next()
		}
		sampleCache = s
	} else {
		t.Logf("seed %d (rerun with -seed=%d)", sampleCache.seed, sampleCache.seed)
	}
	return sampleCache
}

func TestGenerateDeterministic(t *testing.T) {
	seed := testSeed(t)
	a, b := Generate(5000, seed), Generate(5000, seed)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different businesses")
	}
	if prefix := Generate(1000, seed); !slices.Equal(prefix, a[:1000]) {
		t.Fatal("Generate(1000) is not a prefix of Generate(5000)")
	}
	g := NewGenerator(seed)
	for i := range a {
		if got := g.Next(); got != a[i] {
			t.Fatalf("Generator.Next #%d = %+v, Generate gave %+v", i, got, a[i])
		}
	}
	c := Generate(5000, seed+1)
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds %d and %d share %d of 5000 businesses", seed, seed+1, same)
	}
	if bs := Generate(0, seed); len(bs) != 0 {
		t.Errorf("Generate(0) returned %d businesses", len(bs))
	}
	if bs := Generate(-1, seed); len(bs) != 0 {
		t.Errorf("Generate(-1) returned %d businesses", len(bs))
	}
}

// TestGenerateGolden pins the first businesses of seed 1, so a change to the
// generator that changes its output is a conscious one (update the values
// and say so in the change).
func TestGenerateGolden(t *testing.T) {
	want := []nearby.Business{
		{ID: 1, Name: "Sushi Bar Abdullah", Category: nearby.Restaurant, Lat: 27.9020788, Lon: 78.076266},
		{ID: 2, Name: "New Lamp Canteen", Category: nearby.Restaurant, Lat: -27.4493254, Lon: -58.9829426},
		{ID: 3, Name: "Zhongshan Truck Stop", Category: nearby.GasStation, Lat: 21.3886385, Lon: 110.5565372},
	}
	if got := Generate(len(want), 1); !slices.Equal(got, want) {
		t.Errorf("Generate(3, 1) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestGenerateValid(t *testing.T) {
	s := getSample(t)
	for i, b := range s.bs {
		if b.ID != int64(i+1) {
			t.Fatalf("business %d has id %d", i, b.ID)
		}
		if p := businessProblem(b); p != "" {
			t.Fatalf("business %+v: %s", b, p)
		}
		if !geo.Valid(b.Lat, b.Lon) || b.Lat != roundE7(b.Lat) || b.Lon != roundE7(b.Lon) {
			t.Fatalf("business %+v: coordinates invalid or not rounded to 1e-7", b)
		}
	}
}

func TestGenerateNearCities(t *testing.T) {
	s := getSample(t)
	cs, err := Cities()
	if err != nil {
		t.Fatal(err)
	}
	var far, veryFar int
	for i, b := range s.bs {
		c := cs[s.cities[i]]
		d := geo.Distance(b.Lat, b.Lon, c.Lat, c.Lon)
		if d > 50_000 {
			far++
		}
		if d > maxM*1.01 { // 1% for the flat-earth step
			veryFar++
		}
	}
	t.Logf("%.3f%% of businesses further than 50 km from their city", 100*float64(far)/float64(len(s.bs)))
	if far > len(s.bs)/100 {
		t.Errorf("%d of %d businesses further than 50 km from their city, want under 1%%", far, len(s.bs))
	}
	if veryFar > 0 {
		t.Errorf("%d businesses further than %d m from their city", veryFar, maxM)
	}
}

// TestGenerateOceansEmpty checks that points in the middle of oceans, far
// from any island with a town, have no business within 500 km.
func TestGenerateOceansEmpty(t *testing.T) {
	s := getSample(t)
	oceans := []struct {
		name     string
		lat, lon float64
	}{
		{"North Pacific", 35, -150},
		{"South Pacific", -40, -120},
		{"South Atlantic", -35, -15},
		{"Indian Ocean", -35, 80},
		{"Southern Ocean", -60, 0},
	}
	for _, o := range oceans {
		for _, b := range s.bs {
			if d := geo.Distance(o.lat, o.lon, b.Lat, b.Lon); d < 500_000 {
				t.Errorf("%s (%v, %v): business %+v only %.0f km away", o.name, o.lat, o.lon, b, d/1000)
				break
			}
		}
	}
}

// TestGenerateDensity checks the clustering: big cities get more businesses
// than small towns, and downtowns are denser than suburbs.
func TestGenerateDensity(t *testing.T) {
	s := getSample(t)
	within := func(lat, lon, r float64) int {
		n := 0
		for _, b := range s.bs {
			if geo.Distance(lat, lon, b.Lat, b.Lon) <= r {
				n++
			}
		}
		return n
	}
	tokyo := within(35.6895, 139.6917, 10_000)
	shanghai := within(31.2222, 121.4581, 10_000)
	// Alice Springs: 26,000 people, 1,000 km from the next town of its size.
	small := within(-23.6980, 133.8807, 10_000)
	t.Logf("within 10 km: Tokyo %d, Shanghai %d, Alice Springs %d", tokyo, shanghai, small)
	if tokyo < 100 || shanghai < 100 || small > tokyo/10 || small > shanghai/10 {
		t.Errorf("within 10 km: Tokyo %d, Shanghai %d, Alice Springs %d: want the megacities at 100+ and 10x the town",
			tokyo, shanghai, small)
	}
	// Shanghai: businesses per km² within 2 km of the centre and in the ring
	// from 10 to 12 km.
	core := float64(within(31.2222, 121.4581, 2000)) / (math.Pi * 2 * 2)
	ring := float64(within(31.2222, 121.4581, 12_000)-within(31.2222, 121.4581, 10_000)) / (math.Pi * (12*12 - 10*10))
	t.Logf("Shanghai: %.1f businesses/km² downtown, %.1f at 10-12 km", core, ring)
	if core < 3*ring {
		t.Errorf("Shanghai: %.1f businesses/km² downtown, %.1f at 10-12 km: want downtown 3x denser", core, ring)
	}
}

func TestGenerateDuplicates(t *testing.T) {
	s := getSample(t)
	type point struct{ lat, lon float64 }
	seen := make(map[point]int, len(s.bs))
	for _, b := range s.bs {
		seen[point{b.Lat, b.Lon}]++
	}
	shared := 0
	for _, n := range seen {
		if n > 1 {
			shared += n
		}
	}
	frac := float64(shared) / float64(len(s.bs))
	t.Logf("%.2f%% of businesses share their location", 100*frac)
	if frac < 0.01 || frac > 0.04 {
		t.Errorf("%.2f%% of businesses share their location, want 1%%-4%%", 100*frac)
	}
}

func TestGenerateCategories(t *testing.T) {
	s := getSample(t)
	var counts [len(categoryWeights)]int
	for _, b := range s.bs {
		counts[b.Category]++
	}
	var sum float64
	for _, w := range categoryWeights {
		sum += w
	}
	n := float64(len(s.bs))
	for c, w := range categoryWeights {
		p := w / sum
		want := n * p
		tol := 5 * math.Sqrt(n*p*(1-p)) // 5 standard deviations
		if got := float64(counts[c]); math.Abs(got-want) > tol {
			t.Errorf("%v: %v businesses, want %.0f ± %.0f", nearby.Category(c), got, want, tol)
		}
	}
	if counts[nearby.Restaurant] <= counts[nearby.Clothing] || counts[nearby.Museum] >= counts[nearby.Bookstore] {
		t.Errorf("restaurants %d, clothing %d, museums %d, bookstores %d: want restaurants most common, museums rare",
			counts[nearby.Restaurant], counts[nearby.Clothing], counts[nearby.Museum], counts[nearby.Bookstore])
	}
}

// TestCategoryTables checks that every category has a weight and name words,
// so adding a category to the domain without updating this package fails
// here rather than panicking in Generate.
func TestCategoryTables(t *testing.T) {
	for _, c := range nearby.Categories() {
		if int(c) >= len(categoryWeights) || categoryWeights[c] <= 0 {
			t.Errorf("%v has no weight", c)
		}
		if int(c) >= len(kinds) || len(kinds[c]) == 0 {
			t.Errorf("%v has no kind words", c)
		}
	}
	if len(categoryWeights) != len(nearby.Categories()) || len(kinds) != len(nearby.Categories()) {
		t.Errorf("%d weights and %d kind lists for %d categories", len(categoryWeights), len(kinds), len(nearby.Categories()))
	}
}

func TestGenerateNames(t *testing.T) {
	s := getSample(t)
	distinct := make(map[string]bool, len(s.bs))
	var commas, quotes, nonASCII int
	for _, b := range s.bs {
		distinct[b.Name] = true
		if strings.Contains(b.Name, ",") {
			commas++
		}
		if strings.Contains(b.Name, `"`) {
			quotes++
		}
		if strings.ContainsFunc(b.Name, func(r rune) bool { return r >= utf8.RuneSelf }) {
			nonASCII++
		}
		if b.Name != strings.TrimSpace(b.Name) || strings.Contains(b.Name, "  ") || strings.ContainsFunc(b.Name, unicode.IsControl) {
			t.Fatalf("badly formed name %q", b.Name)
		}
	}
	n := len(s.bs)
	t.Logf("%d names: %d distinct, %d with a comma, %d with a quote, %d non-ASCII", n, len(distinct), commas, quotes, nonASCII)
	if len(distinct) < n/2 {
		t.Errorf("only %d distinct names among %d", len(distinct), n)
	}
	for what, k := range map[string]int{"a comma": commas, "a quote": quotes, "non-ASCII letters": nonASCII} {
		if k < n/200 || k > n/10 {
			t.Errorf("%d of %d names have %s, want 0.5%%-10%%", k, n, what)
		}
	}
}

func TestAlias(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 0))
	weights := []float64{0, 1, 2, 3, 4, 0, 10}
	a := newAlias(weights)
	const n = 200_000
	counts := make([]int, len(weights))
	for range n {
		counts[a.draw(r)]++
	}
	for i, w := range weights {
		p := w / 20
		want := n * p
		if tol := 5*math.Sqrt(n*p*(1-p)) + 0.5; math.Abs(float64(counts[i])-want) > tol {
			t.Errorf("index %d (weight %v): drawn %d times, want %.0f ± %.0f", i, w, counts[i], want, tol)
		}
	}
}

// BenchmarkGenerate measures Generate, the generator's whole cost per
// business (placement, category, name).
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{1_000_000} {
		b.Run(fmt.Sprintf("n=%s", count(n)), func(b *testing.B) {
			mustWorld() // parse the embedded cities outside the loop
			b.ReportAllocs()
			var bs []nearby.Business
			for b.Loop() {
				bs = Generate(n, 1)
			}
			if len(bs) != n {
				b.Fatal("short")
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "businesses/s")
		})
	}
}

// BenchmarkGeneratorNext measures streaming generation, the path that
// writes 10M businesses without holding them.
func BenchmarkGeneratorNext(b *testing.B) {
	g := NewGenerator(1)
	b.ReportAllocs()
	var sink int64
	for b.Loop() {
		sink += g.Next().ID
	}
	if sink == 0 {
		b.Fatal("no businesses")
	}
}

// count formats n as 1M, 10k, ...
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// TestPlaceAtPolesAndAntimeridian draws around made-up cities at the edges
// of the coordinate space, with a large scale, so points cross the poles and
// the antimeridian and must be folded and wrapped back into range.
func TestPlaceAtPolesAndAntimeridian(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 0))
	for _, c := range []City{
		{Name: "North", Lat: 89.99, Lon: 179.99, Population: 1e9},
		{Name: "South", Lat: -89.99, Lon: -179.99, Population: 1e9},
		{Name: "Dateline", Lat: 0, Lon: 180, Population: 1e9},
		{Name: "Dateline West", Lat: 0, Lon: -180, Population: 1e9},
	} {
		w := &world{sites: []site{newSite(c)}, pick: newAlias([]float64{1})}
		var east, west, far int
		for range 10_000 {
			lat, lon, city := w.place(r)
			if city != 0 || !geo.Valid(lat, lon) || lat != roundE7(lat) || lon != roundE7(lon) {
				t.Fatalf("%s: place gave %v, %v (city %d)", c.Name, lat, lon, city)
			}
			if d := geo.Distance(c.Lat, c.Lon, lat, lon); d > 1.5*maxM {
				far++
			}
			if lon > 0 {
				east++
			} else {
				west++
			}
		}
		if far > 0 {
			t.Errorf("%s: %d points further than %d km", c.Name, far, 3*maxM/2000)
		}
		if east < 1000 || west < 1000 {
			t.Errorf("%s: %d points east and %d west of Greenwich: want both sides of the antimeridian", c.Name, east, west)
		}
	}
}
