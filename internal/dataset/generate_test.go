package dataset

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/hours"
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
// and say so in the change). The attributes, drawn from a stream of their
// own, left the places, categories and names as they were.
func TestGenerateGolden(t *testing.T) {
	want := []struct {
		b     nearby.Business
		hours string
	}{
		{nearby.Business{ID: 1, Name: "Sushi Bar Abdullah", Category: nearby.Restaurant, Lat: 27.9020788, Lon: 78.076266,
			Price: 3, Rating: nearby.RatingOf(47), ReviewCount: 41},
			"Asia/Kolkata mon 11:00-22:00 tue 11:00-22:00 wed 11:00-22:00 thu 11:00-22:00 fri 11:00-22:00 sat 11:00-22:00 sun 11:00-22:00"},
		{nearby.Business{ID: 2, Name: "New Lamp Canteen", Category: nearby.Restaurant, Lat: -27.4493254, Lon: -58.9829426,
			Price: 2, Rating: nearby.RatingOf(39), ReviewCount: 15},
			"America/Argentina/Buenos_Aires tue 11:30-14:30,18:00-22:30 wed 11:30-14:30,18:00-22:30 thu 11:30-14:30,18:00-22:30 " +
				"fri 11:30-14:30,18:00-22:30 sat 11:30-14:30,18:00-22:30 sun 11:30-14:30,18:00-22:30"},
		{nearby.Business{ID: 3, Name: "Zhongshan Truck Stop", Category: nearby.GasStation, Lat: 21.3886385, Lon: 110.5565372,
			Price: 1, Rating: nearby.RatingOf(39), ReviewCount: 59},
			"Asia/Shanghai mon 00:00-24:00 tue 00:00-24:00 wed 00:00-24:00 thu 00:00-24:00 fri 00:00-24:00 sat 00:00-24:00 sun 00:00-24:00"},
	}
	for i, b := range Generate(len(want), 1) {
		w := want[i]
		hours := b.Hours
		b.Hours = nil
		if b != w.b || hours == nil || hours.String() != w.hours {
			t.Errorf("Generate(3, 1)[%d] =\n%+v %v\nwant\n%+v %v", i, b, hours, w.b, w.hours)
		}
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
			w := mustWorld() // parse the embedded cities outside the loop
			defer runtime.KeepAlive(w)
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

// TestGenerateAttributes checks the shape of the attributes: shares of
// prices, ratings, reviews and hours within bounds.
func TestGenerateAttributes(t *testing.T) {
	s := getSample(t)
	n := float64(len(s.bs))
	var noPrice, unrated, noHours, cheapGas, cheapLaundry, gas, laundry int
	var hotelPrices [5]int
	var ratings, reviews []float64
	for _, b := range s.bs {
		if !b.Price.Valid() || !b.Rating.Valid() || b.ReviewCount > nearby.MaxReviewCount {
			t.Fatalf("business %+v: attribute out of range", b)
		}
		if b.Price == 0 {
			noPrice++
		}
		switch b.Category {
		case nearby.GasStation:
			gas++
			if b.Price == 1 || b.Price == 2 {
				cheapGas++
			}
		case nearby.Laundry:
			laundry++
			if b.Price == 1 || b.Price == 2 {
				cheapLaundry++
			}
		case nearby.Hotel:
			hotelPrices[b.Price]++
		}
		if b.Rating.Rated() != (b.ReviewCount > 0) {
			t.Fatalf("business %+v: rated exactly when reviewed", b)
		}
		if b.Rating.Rated() {
			ratings = append(ratings, b.Rating.Stars())
			reviews = append(reviews, float64(b.ReviewCount))
		} else {
			unrated++
		}
		if b.Hours == nil {
			noHours++
		}
	}
	slices.Sort(ratings)
	slices.Sort(reviews)
	mean := 0.0
	for _, r := range ratings {
		mean += r
	}
	mean /= float64(len(ratings))
	sd := 0.0
	for _, r := range ratings {
		sd += (r - mean) * (r - mean)
	}
	sd = math.Sqrt(sd / float64(len(ratings)))
	median, p99 := reviews[len(reviews)/2], reviews[len(reviews)*99/100]
	t.Logf("no price %.1f%%, unrated %.1f%%, hours unknown %.1f%%; rating mean %.2f sd %.2f min %.1f max %.1f; "+
		"reviews median %.0f, p99 %.0f, max %.0f; hotels by price %v",
		100*float64(noPrice)/n, 100*float64(unrated)/n, 100*float64(noHours)/n, mean, sd, ratings[0], ratings[len(ratings)-1],
		median, p99, reviews[len(reviews)-1], hotelPrices)
	for _, c := range []struct {
		what      string
		got, l, h float64
	}{
		{"share without a price", float64(noPrice) / n, 0.07, 0.13},
		{"share unrated", float64(unrated) / n, 0.07, 0.09},
		{"share with unknown hours", float64(noHours) / n, 0.09, 0.11},
		{"mean rating", mean, 4.0, 4.15},
		{"rating standard deviation", sd, 0.4, 0.55},
		{"lowest rating", ratings[0], 1, 2.5},
		{"highest rating", ratings[len(ratings)-1], 5, 5},
		{"median reviews", median, 35, 45},
		{"99th percentile of reviews over the median", p99 / median, 10, 40},
		{"gas stations at price 1 or 2", float64(cheapGas) / float64(gas), 0.9, 1},
		{"laundries at price 1 or 2", float64(cheapLaundry) / float64(laundry), 0.9, 1},
	} {
		if !(c.got >= c.l && c.got <= c.h) {
			t.Errorf("%s %.3f, want %v to %v", c.what, c.got, c.l, c.h)
		}
	}
	for p := 1; p <= 4; p++ {
		if hotelPrices[p] < len(s.bs)/1000 {
			t.Errorf("%d hotels at price %d: want all levels", hotelPrices[p], p)
		}
	}
}

// TestGenerateHours checks the opening hours: in the city's time zone,
// shared between businesses, from the templates of the category.
func TestGenerateHours(t *testing.T) {
	s := getSample(t)
	cs, err := Cities()
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]*hours.Schedule{}
	saturday := time.Date(2026, 6, 6, 0, 0, 0, 0, time.UTC) // a Saturday
	var barsLate, bars, closedSunday, shops int
	for i, b := range s.bs {
		if b.Hours == nil {
			continue
		}
		if zone := zoneOf(cs[s.cities[i]]); b.Hours.TimeZone() != zone {
			t.Fatalf("business %d near %s has hours in %s, want %s", b.ID, cs[s.cities[i]].Name, b.Hours.TimeZone(), zone)
		}
		if prev, ok := byKey[b.Hours.Key()]; ok && prev != b.Hours {
			t.Fatalf("business %d: equal schedules at two addresses", b.ID)
		}
		byKey[b.Hours.Key()] = b.Hours
		switch b.Category {
		case nearby.Bar:
			bars++
			// Open at 01:00 on Sunday, local time: past midnight.
			if b.Hours.OpenAt(localTime(t, b.Hours.TimeZone(), saturday.Add(25*time.Hour))) {
				barsLate++
			}
		case nearby.Clothing:
			shops++
			if len(b.Hours.Spans(time.Sunday)) == 0 {
				closedSunday++
			}
		}
	}
	t.Logf("%d distinct schedules; %d of %d bars open at 01:00 on Sunday; %d of %d clothing shops closed on Sunday",
		len(byKey), barsLate, bars, closedSunday, shops)
	if len(byKey) > len(mustWorld().attrs.zones)*hoursUnknown {
		t.Errorf("%d distinct schedules, more than zones × templates", len(byKey))
	}
	if barsLate < bars/2 || closedSunday < shops/3 || closedSunday > shops*2/3 {
		t.Errorf("%d of %d bars open past midnight, %d of %d shops closed on Sunday", barsLate, bars, closedSunday, shops)
	}
}

// localTime returns the instant of wall time t (its fields, read in UTC) in
// zone.
func localTime(t *testing.T, zone string, wall time.Time) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	y, m, d := wall.Date()
	return time.Date(y, m, d, wall.Hour(), wall.Minute(), 0, 0, loc)
}

// TestHoursTemplates checks that every template parses and is used by a
// category, and the parser on its own.
func TestHoursTemplates(t *testing.T) {
	used := map[int]bool{}
	for c, ws := range hoursWeights {
		total := 0.0
		for tmpl, w := range ws {
			used[tmpl] = true
			total += w
		}
		if ws[hoursUnknown] == 0 || total <= 0 {
			t.Errorf("%v: no unknown hours", nearby.Category(c))
		}
	}
	for i, tmpl := range hoursTemplates {
		if _, err := parseTemplate(tmpl); err != nil {
			t.Errorf("template %d: %v", i, err)
		}
		if !used[i] {
			t.Errorf("template %d (%s) is not used", i, tmpl)
		}
	}
	week, err := parseTemplate("sun-tue 22:00-02:00,23:00-23:30; fri 09:00-09:00")
	if err != nil {
		t.Fatal(err)
	}
	late := []hours.Span{{Open: 1320, Close: 1560}, {Open: 1380, Close: 1410}}
	for d, want := range [7][]hours.Span{late, late, late, nil, nil, {{Open: 540, Close: 1980}}, nil} {
		if !slices.Equal(week[d], want) {
			t.Errorf("day %d: %v, want %v", d, week[d], want)
		}
	}
	for _, bad := range []string{"", "mon", "someday 09:00-10:00", "mon 9-5", "mon 24:00-01:00", "mon 09:00", "mon-fro 09:00-10:00"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("template %q parsed", bad)
		}
	}
	if len(priceWeights) != len(nearby.Categories()) || len(hoursWeights) != len(nearby.Categories()) {
		t.Errorf("%d price and %d hours weights for %d categories", len(priceWeights), len(hoursWeights), len(nearby.Categories()))
	}
}

// TestZones checks that every city gets a zone that loads, that the country
// table covers every country of the embedded cities, and the zones of some
// well-known places.
func TestZones(t *testing.T) {
	cs, err := Cities()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if _, ok := countryZones[c.Country]; !ok {
			t.Errorf("country %s (%s) has no zone", c.Country, c.Name)
		}
		z := zoneOf(c)
		if !seen[z] {
			seen[z] = true
			if _, err := time.LoadLocation(z); err != nil {
				t.Errorf("%s (%s): zone %s: %v", c.Name, c.Country, z, err)
			}
		}
	}
	for country, boxes := range zoneBoxes {
		for _, b := range boxes {
			if _, err := time.LoadLocation(b.zone); err != nil || b.south >= b.north || b.west >= b.east {
				t.Errorf("%s: box %+v: %v", country, b, err)
			}
		}
	}
	t.Logf("%d zones for %d cities", len(seen), len(cs))
	for _, tc := range []struct {
		country  string
		lat, lon float64
		zone     string
	}{
		{"US", 40.7128, -74.006, "America/New_York"}, {"US", 41.85, -87.65, "America/Chicago"},
		{"US", 39.74, -104.98, "America/Denver"}, {"US", 33.45, -112.07, "America/Phoenix"},
		{"US", 34.05, -118.24, "America/Los_Angeles"}, {"US", 47.61, -122.33, "America/Los_Angeles"},
		{"US", 36.17, -115.14, "America/Los_Angeles"}, {"US", 21.31, -157.86, "Pacific/Honolulu"},
		{"US", 61.22, -149.9, "America/Anchorage"}, {"US", 36.17, -86.78, "America/Chicago"},
		{"US", 39.77, -86.16, "America/New_York"}, {"US", 38.25, -85.76, "America/New_York"},
		{"CA", 43.65, -79.38, "America/Toronto"}, {"CA", 49.28, -123.12, "America/Vancouver"},
		{"CA", 51.05, -114.07, "America/Edmonton"}, {"CA", 50.45, -104.61, "America/Regina"},
		{"CA", 49.9, -97.14, "America/Winnipeg"}, {"CA", 44.65, -63.57, "America/Halifax"},
		{"CA", 47.56, -52.71, "America/St_Johns"}, {"CA", 46.81, -71.21, "America/Toronto"},
		{"MX", 19.43, -99.13, "America/Mexico_City"}, {"MX", 32.53, -117.02, "America/Tijuana"},
		{"MX", 21.16, -86.85, "America/Cancun"}, {"MX", 29.07, -110.96, "America/Hermosillo"},
		{"MX", 23.22, -106.42, "America/Mazatlan"}, {"MX", 20.97, -89.62, "America/Mexico_City"},
		{"BR", -23.55, -46.63, "America/Sao_Paulo"}, {"BR", -3.1, -60.02, "America/Manaus"},
		{"BR", -9.97, -67.81, "America/Rio_Branco"}, {"BR", -15.6, -56.1, "America/Cuiaba"},
		{"RU", 55.75, 37.62, "Europe/Moscow"}, {"RU", 54.71, 20.51, "Europe/Kaliningrad"},
		{"RU", 56.84, 60.6, "Asia/Yekaterinburg"}, {"RU", 55.03, 82.92, "Asia/Novosibirsk"},
		{"RU", 43.12, 131.89, "Asia/Vladivostok"}, {"RU", 53.02, 158.65, "Asia/Kamchatka"},
		{"RU", 53.2, 50.15, "Europe/Samara"}, {"RU", 55.79, 49.12, "Europe/Moscow"},
		{"AU", -33.87, 151.21, "Australia/Sydney"}, {"AU", -37.81, 144.96, "Australia/Melbourne"},
		{"AU", -27.47, 153.03, "Australia/Brisbane"}, {"AU", -31.95, 115.86, "Australia/Perth"},
		{"AU", -34.93, 138.6, "Australia/Adelaide"}, {"AU", -12.46, 130.84, "Australia/Darwin"},
		{"AU", -42.88, 147.33, "Australia/Hobart"}, {"AU", -36.08, 146.92, "Australia/Sydney"},
		{"ID", -6.2, 106.85, "Asia/Jakarta"}, {"ID", -8.65, 115.22, "Asia/Makassar"}, {"ID", -2.53, 140.72, "Asia/Jayapura"},
		{"CL", -33.45, -70.67, "America/Santiago"}, {"CL", -53.16, -70.91, "America/Punta_Arenas"},
		{"ES", 28.1, -15.41, "Atlantic/Canary"}, {"PT", 37.74, -25.67, "Atlantic/Azores"},
		{"CN", 43.8, 87.6, "Asia/Shanghai"}, {"KZ", 43.25, 76.95, "Asia/Almaty"}, {"KZ", 51.23, 51.37, "Asia/Aqtobe"},
		{"FR", 48.86, 2.35, "Europe/Paris"}, {"JP", 35.69, 139.69, "Asia/Tokyo"}, {"XK", 42.67, 21.17, "Europe/Belgrade"},
		{"ZZ", 0, 0, "Etc/GMT"}, {"ZZ", 10, 97.6, "Etc/GMT-7"}, {"ZZ", 10, -180, "Etc/GMT+12"}, {"ZZ", 10, 180, "Etc/GMT-12"},
		{"ZZ", 10, -7.4, "Etc/GMT"}, {"ZZ", 10, -7.6, "Etc/GMT+1"},
	} {
		if got := zoneOf(City{Country: tc.country, Lat: tc.lat, Lon: tc.lon}); got != tc.zone {
			t.Errorf("zoneOf(%s %v, %v) = %s, want %s", tc.country, tc.lat, tc.lon, got, tc.zone)
		}
	}
	for lon := -180.0; lon <= 180; lon += 0.5 {
		if z := etcZone(lon); !seen[z] {
			seen[z] = true
			if _, err := time.LoadLocation(z); err != nil {
				t.Errorf("etcZone(%v) = %s: %v", lon, z, err)
			}
		}
	}
}
