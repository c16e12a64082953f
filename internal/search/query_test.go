package search

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/search/searchtest"
)

// schedules are opening hours in zones either side of the antimeridian and
// of the date line's DST rules, with past-midnight spans and closed days.
func schedules(t testing.TB) []*hours.Schedule {
	t.Helper()
	day := func(spans ...hours.Span) []hours.Span { return spans }
	var out []*hours.Schedule
	for _, z := range []string{"America/New_York", "Europe/London", "Pacific/Auckland", "Pacific/Fiji", "Asia/Kolkata", "UTC"} {
		for _, week := range [][7][]hours.Span{
			{1: day(hours.Span{Open: 9 * 60, Close: 17 * 60}), 2: day(hours.Span{Open: 9 * 60, Close: 17 * 60}), 3: day(hours.Span{Open: 9 * 60, Close: 17 * 60}),
				4: day(hours.Span{Open: 9 * 60, Close: 17 * 60}), 5: day(hours.Span{Open: 9 * 60, Close: 17 * 60})},
			{0: day(hours.Span{Open: 17 * 60, Close: 26 * 60}), 5: day(hours.Span{Open: 18 * 60, Close: 27 * 60}), 6: day(hours.Span{Open: 18 * 60, Close: 27 * 60})},
			{0: day(hours.Span{Open: 0, Close: 24 * 60}), 1: day(hours.Span{Open: 0, Close: 24 * 60}), 2: day(hours.Span{Open: 0, Close: 24 * 60}),
				3: day(hours.Span{Open: 0, Close: 24 * 60}), 4: day(hours.Span{Open: 0, Close: 24 * 60}), 5: day(hours.Span{Open: 0, Close: 24 * 60}), 6: day(hours.Span{Open: 0, Close: 24 * 60})},
		} {
			s, err := hours.New(z, week)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, &s)
		}
	}
	return out
}

var names = []string{"Café de Flore", "Blue Bottle Coffee", "Le Petit Café", "Bäckerei Müller", "Sushi Zanmai", "Joe's Pizza", "Straße 9", "Saint-Étienne Bar"}

// attributed gives each business random attributes.
func attributed(r *rand.Rand, b nearby.Business, hs []*hours.Schedule) nearby.Business {
	b.Name = names[r.IntN(len(names))] + fmt.Sprint(" ", b.ID)
	if r.IntN(10) > 0 {
		b.Price = nearby.Price(1 + r.IntN(4))
	}
	if r.IntN(10) > 0 {
		b.Rating = nearby.RatingOf(r.IntN(51))
		b.ReviewCount = uint32(r.IntN(5000))
	}
	if r.IntN(10) > 0 {
		h := *hs[r.IntN(len(hs))] // equal schedules at other addresses
		b.Hours = &h
	}
	return b
}

// queryFixture is two regions (split at 0°) with a live delta of moves and
// new businesses, and the businesses it serves.
func queryFixture(t *testing.T, r *rand.Rand) (*Engine, []nearby.Business) {
	t.Helper()
	hs := schedules(t)
	db := newFakeDB()
	for range 1500 {
		db.randWrite(r, 0)
		db.advance(10 * time.Millisecond)
	}
	for _, row := range db.rows {
		row.Business = attributed(r, row.Business, hs)
		row.visible = row.Change
	}
	regions, m := db.snapshot(t, testAreas, 1)
	e := &Engine{}
	f := newTestFollower(e, db, time.Second, 1<<20)
	f.Install(NewIndex(regions...), m)
	for range 300 {
		db.randWrite(r, 0)
		db.advance(10 * time.Millisecond)
		for _, row := range db.pending {
			row.Business = attributed(r, row.Business, hs)
		}
	}
	db.advance(time.Second)
	if _, err := f.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, db.live()
}

func sameResults(got, want []nearby.SearchResult) bool {
	return slices.EqualFunc(got, want, func(a, b nearby.SearchResult) bool {
		return a.DistanceM == b.DistanceM && a.Business.Equal(b.Business)
	})
}

// TestFiltersAndSortsMatchBruteForce pages through random filtered nearby
// searches in both orders, with totals, over seeds plus a live delta.
func TestFiltersAndSortsMatchBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	e, live := queryFixture(t, r)
	ctx := context.Background()
	nonEmpty := 0
	for range 400 {
		q := nearby.SearchQuery{Limit: 1 + r.IntN(12), RadiusM: 100 + r.Float64()*6000, Total: r.IntN(2) == 0}
		q.Lat, q.Lon = randPlace(r)
		q.Categories, q.Filters = searchtest.RandFilters(r)
		if r.IntN(2) == 0 {
			q.Sort = nearby.SortRating
		}
		want := searchtest.Nearby(live, q)
		got, first := searchtest.AllPages(t, func(q nearby.SearchQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
			return e.Nearby(ctx, q, after)
		}, q)
		if !sameResults(got, want) {
			t.Fatalf("search %+v:\n got %d %v\nwant %d %v", q, len(got), got, len(want), want)
		}
		if q.Total && (first.Total != len(want) || first.TotalCapped) {
			t.Fatalf("search %+v: total %d (capped %v), want %d", q, first.Total, first.TotalCapped, len(want))
		}
		if len(want) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 100 {
		t.Fatalf("only %d of 400 searches found anything: the test says little", nonEmpty)
	}
}

// TestAreaSearchesMatchBruteForce pages through random box (also across the
// antimeridian, by id and by distance from the centre) and polygon (with a
// hole) searches.
func TestAreaSearchesMatchBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	e, live := queryFixture(t, r)
	ctx := context.Background()
	nonEmpty := 0
	for trial := range 300 {
		q := nearby.AreaQuery{Limit: 1 + r.IntN(15)}
		q.Categories, q.Filters = searchtest.RandFilters(r)
		lat, lon := randPlace(r)
		dLat, dLon := r.Float64()*0.05, r.Float64()*0.05
		q.Box = geo.Rect{MinLat: max(-90, lat-dLat), MaxLat: min(90, lat+dLat), MinLon: lon - dLon, MaxLon: lon + dLon}
		if q.Box.MinLon < -180 {
			q.Box.MinLon += 360 // crosses the antimeridian
		}
		if q.Box.MaxLon > 180 {
			q.Box.MaxLon -= 360
		}
		if trial%3 == 0 {
			// A square with a square hole (the middle third), in GeoJSON.
			w, s, e, n := max(-180, lon-dLon), max(-90, lat-dLat), min(180, lon+dLon), min(90, lat+dLat)
			hw, hs, he, hn := w+(e-w)/3, s+(n-s)/3, e-(e-w)/3, n-(n-s)/3
			shape, err := geo.ParseGeoJSON(fmt.Appendf(nil, `{"type":"Polygon","coordinates":[[[%[1]v,%[2]v],[%[3]v,%[2]v],[%[3]v,%[4]v],[%[1]v,%[4]v],[%[1]v,%[2]v]],[[%[5]v,%[6]v],[%[7]v,%[6]v],[%[7]v,%[8]v],[%[5]v,%[8]v],[%[5]v,%[6]v]]]}`,
				w, s, e, n, hw, hs, he, hn))
			if err != nil {
				t.Fatal(err)
			}
			q.Shape = shape
		} else {
			q.ByDistance = r.IntN(2) == 0
		}
		want := searchtest.Area(live, q)
		got, first := searchtest.AllPages(t, func(q nearby.AreaQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
			return e.Area(ctx, q, after)
		}, q)
		if !sameResults(got, want) {
			t.Fatalf("area %+v:\n got %d %v\nwant %d %v", q, len(got), got, len(want), want)
		}
		if first.Total != len(want) {
			t.Fatalf("area %+v: total %d, want %d", q, first.Total, len(want))
		}
		if len(want) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 60 {
		t.Fatalf("only %d of 300 area searches found anything: the test says little", nonEmpty)
	}
}

// TestAreaSearchesAcrossNodes runs one node per region (split at 0°), each
// following the feed, and pages box searches across the border and the
// antimeridian from both nodes: the remote region's part comes from the
// other node, merged exactly, totals added.
func TestAreaSearchesAcrossNodes(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	hs := schedules(t)
	db := newFakeDB()
	for range 1500 {
		db.randWrite(r, 0)
		db.advance(10 * time.Millisecond)
	}
	for _, row := range db.rows {
		row.Business = attributed(r, row.Business, hs)
		row.visible = row.Change
	}
	regions, m := db.snapshot(t, testAreas, 1)
	_, nodes, _ := twoNodes(db, regions, m, time.Second)
	live := db.live()
	for trial := range 60 {
		c := [][2]float64{{51.5, 0}, {-17, 180}, {51.5, -0.01}}[trial%3]
		q := nearby.AreaQuery{Limit: 1 + r.IntN(9), ByDistance: trial%2 == 0}
		q.Categories, q.Filters = searchtest.RandFilters(r)
		q.Box = geo.Rect{MinLat: c[0] - 0.05, MaxLat: c[0] + 0.05, MinLon: c[1] - 0.05, MaxLon: c[1] + 0.05}
		if q.Box.MaxLon > 180 {
			q.Box.MaxLon -= 360
		}
		want := searchtest.Area(live, q)
		everyNodeAnswers(t, nodes, (*Engine).Area, q, want)
	}
}

// TestTotalCapped: totals count exactly up to nearby.MaxTotal, across the
// two regions at the prime meridian, and say capped from there on.
func TestTotalCapped(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, n := range []int{nearby.MaxTotal - 1, nearby.MaxTotal, nearby.MaxTotal + 2500} {
		bs := make([]nearby.Business, n+300)
		for i := range bs {
			d := 450 * math.Sqrt(r.Float64()) // metres: inside the circle
			if i >= n {
				d = 550 + r.Float64()*400 // outside it
			}
			a := r.Float64() * 2 * math.Pi
			bs[i] = nearby.Business{ID: int64(i + 1), Name: "x", Category: nearby.Cafe,
				Lat: 51.5 + d*math.Sin(a)/111195, Lon: d * math.Cos(a) / 111195 / math.Cos(51.5*math.Pi/180)}
		}
		want := 0
		for _, b := range bs {
			if geo.Distance(51.5, 0, b.Lat, b.Lon) <= 500 {
				want++
			}
		}
		page, err := testEngine(t, bs).Nearby(context.Background(), nearby.SearchQuery{Lat: 51.5, Lon: 0, RadiusM: 500, Limit: 5, Total: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if wantTotal, capped := min(want, nearby.MaxTotal), want >= nearby.MaxTotal; page.Total != wantTotal || page.TotalCapped != capped {
			t.Errorf("%d within the radius: total %d (capped %v), want %d (capped %v)", want, page.Total, page.TotalCapped, wantTotal, capped)
		}
	}
}
