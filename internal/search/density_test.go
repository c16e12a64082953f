package search

import (
	"context"
	"flag"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
)

var densitySeed = flag.Uint64("density.seed", 0, "random seed of TestDensityBruteForce (0: a fixed default)")

// testEngine serves bs split into two regions at longitude 0, so that
// Density has to add up counts across regions.
func testEngine(t *testing.T, bs []nearby.Business) *Engine {
	t.Helper()
	var west, east []nearby.Business
	for _, b := range bs {
		if b.Lon < 0 {
			west = append(west, b)
		} else {
			east = append(east, b)
		}
	}
	var regions []*Region
	for i, part := range [][]nearby.Business{west, east} {
		r, err := BuildRegion([]string{"west", "east"}[i], 7, part)
		if err != nil {
			t.Fatal(err)
		}
		regions = append(regions, r)
	}
	e := &Engine{}
	e.Swap(NewIndex(regions...))
	return e
}

// bruteDensity counts by scanning every business, with the cell arithmetic
// written out plainly.
func bruteDensity(bs []nearby.Business, box geo.Rect, cols, rows int, cats nearby.CategorySet) []int {
	counts := make([]int, cols*rows)
	width := box.MaxLon - box.MinLon
	if width <= 0 {
		width += 360
	}
	height := box.MaxLat - box.MinLat
	for _, b := range bs {
		if cats != 0 && !cats.Has(b.Category) || !box.Contains(b.Lat, b.Lon) {
			continue
		}
		east := b.Lon - box.MinLon
		if east < 0 {
			east += 360
		}
		col := int(east / width * float64(cols))
		row := int((box.MaxLat - b.Lat) / height * float64(rows))
		counts[min(row, rows-1)*cols+min(col, cols-1)]++
	}
	return counts
}

// TestDensityBruteForce compares Density with a scan of every business over
// random boxes, grids and category filters, including boxes that cross the
// antimeridian.
func TestDensityBruteForce(t *testing.T) {
	seed := *densitySeed
	if seed == 0 {
		seed = 20260101
	}
	t.Logf("seed %d (rerun with -density.seed=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 1))
	bs := make([]nearby.Business, 20000)
	for i := range bs {
		// Clusters near the antimeridian and the poles as well as spread out.
		lat, lon := r.Float64()*180-90, r.Float64()*360-180
		switch i % 4 {
		case 1:
			lon = 180 - r.Float64()*2
		case 2:
			lon = -180 + r.Float64()*2
		case 3:
			lat = 88 + r.Float64()*2
		}
		// Store-exact coordinates (1e-7°), as the index keeps them.
		lat, lon = math.Round(lat*1e7)/1e7, math.Round(lon*1e7)/1e7
		bs[i] = nearby.Business{ID: int64(i + 1), Name: "b", Category: nearby.Category(r.IntN(20)), Lat: lat, Lon: lon}
	}
	e := testEngine(t, bs)
	for i := range 300 {
		lat1, lat2 := r.Float64()*180-90, r.Float64()*180-90
		box := geo.Rect{MinLat: min(lat1, lat2), MaxLat: max(lat1, lat2), MinLon: r.Float64()*360 - 180, MaxLon: r.Float64()*360 - 180}
		switch i % 3 {
		case 1: // a small box, maybe across the antimeridian
			box.MinLon = 178 + r.Float64()*2
			box.MaxLon = -180 + r.Float64()*3
			box.MinLat, box.MaxLat = -20+r.Float64()*10, 5+r.Float64()*10
		case 2:
			box = geo.World
		}
		if box.MinLat == box.MaxLat || box.MinLon == box.MaxLon {
			continue
		}
		cols, rows := 1+r.IntN(64), 1+r.IntN(64)
		var cats nearby.CategorySet
		if r.IntN(2) == 0 {
			cats = cats.Add(nearby.Category(r.IntN(20))).Add(nearby.Category(r.IntN(20)))
		}
		got, version, err := densityOf(e, box, cols, rows, cats)
		if err != nil {
			t.Fatalf("Density(%+v, %d, %d, %b): %v", box, cols, rows, cats, err)
		}
		if version != "7" {
			t.Fatalf("version %q, want 7", version)
		}
		if want := bruteDensity(bs, box, cols, rows, cats); !slices.Equal(got, want) {
			t.Fatalf("Density(%+v, %d, %d, %b) differs from brute force:\n got %v\nwant %v", box, cols, rows, cats, got, want)
		}
	}
}

// TestDensityCells pins where businesses on cell lines and box edges count.
func TestDensityCells(t *testing.T) {
	tests := []struct {
		name     string
		lat, lon float64
		box      geo.Rect
		cols     int
		rows     int
		want     int // index in the counts; -1: outside the box
	}{
		{"north-west corner", 10, 20, geo.Rect{MinLat: 0, MinLon: 20, MaxLat: 10, MaxLon: 40}, 2, 2, 0},
		{"south-east corner", 0, 40, geo.Rect{MinLat: 0, MinLon: 20, MaxLat: 10, MaxLon: 40}, 2, 2, 3},
		{"on the vertical line counts east", 8, 30, geo.Rect{MinLat: 0, MinLon: 20, MaxLat: 10, MaxLon: 40}, 2, 2, 1},
		{"on the horizontal line counts south", 5, 21, geo.Rect{MinLat: 0, MinLon: 20, MaxLat: 10, MaxLon: 40}, 2, 2, 2},
		{"just outside", 10.0000001, 30, geo.Rect{MinLat: 0, MinLon: 20, MaxLat: 10, MaxLon: 40}, 2, 2, -1},
		{"west of the antimeridian", 0, 179, geo.Rect{MinLat: -1, MinLon: 178, MaxLat: 1, MaxLon: -178}, 4, 1, 1},
		{"east of the antimeridian", 0, -179, geo.Rect{MinLat: -1, MinLon: 178, MaxLat: 1, MaxLon: -178}, 4, 1, 3},
		{"on the antimeridian at 180", 0, 180, geo.Rect{MinLat: -1, MinLon: 178, MaxLat: 1, MaxLon: -178}, 4, 1, 2},
		{"on the antimeridian at -180", 0, -180, geo.Rect{MinLat: -1, MinLon: 178, MaxLat: 1, MaxLon: -178}, 4, 1, 2},
		{"north pole", 90, 0, geo.World, 3, 3, 1},
		{"south pole, east edge", -90, 180, geo.World, 3, 3, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEngine(t, []nearby.Business{{ID: 1, Name: "x", Lat: tt.lat, Lon: tt.lon}})
			got, _, err := densityOf(e, tt.box, tt.cols, tt.rows, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]int, tt.cols*tt.rows)
			if tt.want >= 0 {
				want[tt.want] = 1
			}
			if !slices.Equal(got, want) {
				t.Errorf("counts %v, want %v", got, want)
			}
		})
	}
}

func TestDensityErrors(t *testing.T) {
	e := testEngine(t, []nearby.Business{{ID: 1, Name: "x", Lat: 1, Lon: 1}})
	ok := geo.Rect{MinLat: 0, MinLon: 0, MaxLat: 2, MaxLon: 2}
	tests := []struct {
		name       string
		box        geo.Rect
		cols, rows int
	}{
		{"flat box", geo.Rect{MinLat: 1, MinLon: 0, MaxLat: 1, MaxLon: 2}, 4, 4},
		{"thin box", geo.Rect{MinLat: 0, MinLon: 2, MaxLat: 1, MaxLon: 2}, 4, 4},
		{"upside down", geo.Rect{MinLat: 2, MinLon: 0, MaxLat: 0, MaxLon: 2}, 4, 4},
		{"bad latitude", geo.Rect{MinLat: 0, MinLon: 0, MaxLat: 91, MaxLon: 2}, 4, 4},
		{"NaN", geo.Rect{MinLat: math.NaN(), MinLon: 0, MaxLat: 1, MaxLon: 2}, 4, 4},
		{"no columns", ok, 0, 4},
		{"negative rows", ok, 4, -1},
		{"too many cells", ok, 65, 64},
		{"overflowing product", ok, 1 << 40, 1 << 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := densityOf(e, tt.box, tt.cols, tt.rows, 0)
			if nearby.ErrorCode(err) != nearby.EINVALID {
				t.Errorf("error %v, want code %s", err, nearby.EINVALID)
			}
		})
	}
	if _, _, err := densityOf(&Engine{}, ok, 4, 4, 0); nearby.ErrorCode(err) != nearby.EUNAVAILABLE {
		t.Errorf("no index: error %v, want code %s", err, nearby.EUNAVAILABLE)
	}
	if _, _, err := densityOf(e, ok, 64, 64, 0); err != nil {
		t.Errorf("a %d-cell grid: %v", nearby.MaxDensityCells, err)
	}
}

// densityOf asks e for a density grid.
func densityOf(e *Engine, box geo.Rect, cols, rows int, cats nearby.CategorySet) ([]int, string, error) {
	d, err := e.Density(context.Background(), nearby.DensityGrid{Box: box, Cols: cols, Rows: rows, Categories: cats})
	if err != nil {
		return nil, "", err
	}
	return d.Counts, d.IndexVersion, nil
}

// TestDensityAcrossNodes: on two nodes each holding one region and asking
// the other for the rest, with live changes applied, every grid equals
// brute force over all the businesses, from either node; with the other
// region's node down, the grid is partial: that region is named missing
// and its businesses are not counted.
func TestDensityAcrossNodes(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	db := newFakeDB()
	for range 1500 {
		db.randWrite(r, 0)
		db.advance(10 * time.Millisecond)
	}
	regions, m := db.snapshot(t, testAreas, 1)
	for range 200 { // changes since the seeds, applied live
		db.randWrite(r, 0)
		db.advance(10 * time.Millisecond)
	}
	sh, nodes, followers := twoNodes(db, regions, m, time.Second)
	db.advance(2 * time.Second)
	for _, f := range followers {
		if _, err := f.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	live := db.live()
	boxes := []geo.Rect{geo.World, {MinLat: 40, MinLon: -10, MaxLat: 60, MaxLon: 10}, {MinLat: -30, MinLon: 170, MaxLat: 0, MaxLon: -170}}
	for trial := range 30 {
		box := boxes[trial%len(boxes)]
		cols, rows := 1+r.IntN(40), 1+r.IntN(40)
		var cats nearby.CategorySet
		if trial%2 == 1 {
			cats = cats.Add(nearby.Category(r.IntN(20)))
		}
		want := bruteDensity(live, box, cols, rows, cats)
		for n, e := range nodes {
			d, err := e.Density(context.Background(), nearby.DensityGrid{Box: box, Cols: cols, Rows: rows, Categories: cats})
			if err != nil || len(d.Missing) > 0 || !slices.Equal(d.Counts, want) {
				t.Fatalf("node %d, %+v %d × %d: %v, missing %v, counts differ from brute force", n, box, cols, rows, err, d.Missing)
			}
		}
	}
	// The east node goes away: the west node counts its own region only.
	sh["east"] = &Engine{}
	var west []nearby.Business
	for _, b := range live {
		if testAreas[testAreas.Of(b.Lat, b.Lon)].Name == "west" {
			west = append(west, b)
		}
	}
	d, err := nodes[0].Density(context.Background(), nearby.DensityGrid{Box: geo.World, Cols: 16, Rows: 8})
	if err != nil || !slices.Equal(d.Missing, []string{"east"}) || !slices.Equal(d.Counts, bruteDensity(west, geo.World, 16, 8, 0)) {
		t.Fatalf("with east down: %v, missing %v, counts %v", err, d.Missing, d.Counts)
	}
}
