package geohash_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/geohash"
)

const rad = math.Pi / 180

// destination returns the point reached from lat, lon degrees by travelling
// meters along the great circle with initial bearing bearingDeg (clockwise
// from north), as a valid coordinate.
func destination(lat, lon, bearingDeg, meters float64) (float64, float64) {
	phi1, lam1, theta := lat*rad, lon*rad, bearingDeg*rad
	delta := meters / geo.EarthRadiusM
	sinPhi2 := math.Sin(phi1)*math.Cos(delta) + math.Cos(phi1)*math.Sin(delta)*math.Cos(theta)
	sinPhi2 = math.Max(-1, math.Min(1, sinPhi2))
	phi2 := math.Asin(sinPhi2)
	lam2 := lam1 + math.Atan2(math.Sin(theta)*math.Sin(delta)*math.Cos(phi1),
		math.Cos(delta)-math.Sin(phi1)*sinPhi2)
	lon2 := math.Mod(lam2/rad, 360)
	switch {
	case lon2 > 180:
		lon2 -= 360
	case lon2 < -180:
		lon2 += 360
	}
	return math.Max(-90, math.Min(90, phi2/rad)), lon2
}

// randPoint returns a point anywhere on the globe or, with some probability
// each, near or exactly on a pole (±89.9 and ±90 included), near or on the
// antimeridian (±180 included), or on a grid line of some precision.
func randPoint(r *rand.Rand) (lat, lon float64) {
	lat = math.Asin(2*r.Float64()-1) / rad
	lon = 360*r.Float64() - 180
	switch r.IntN(8) {
	case 0:
		lat = []float64{90, 89.9, 89.99999, 90 - 1e-12, 90 - 90*r.Float64()*1e-3}[r.IntN(5)]
	case 1:
		lat = -[]float64{90, 89.9, 89.99999, 90 - 1e-12, 90 - 90*r.Float64()*1e-3}[r.IntN(5)]
	case 2: // on a cell edge
		step := math.Ldexp(180, -r.IntN(31))
		lat = math.Max(-90, math.Min(90, math.Round(lat/step)*step))
	}
	switch r.IntN(6) {
	case 0:
		lon = []float64{180, -180, 179.9999, -179.9999, 180 - 1e-12, -180 + 1e-12}[r.IntN(6)]
	case 1:
		lon = 180 - 180*r.Float64()*1e-3
	case 2:
		lon = -180 + 180*r.Float64()*1e-3
	case 3: // on a cell edge
		step := math.Ldexp(360, -r.IntN(31))
		lon = math.Max(-180, math.Min(180, math.Round(lon/step)*step))
	}
	return lat, lon
}

// randInCircle returns a point at most about radiusM from lat, lon: at a
// random bearing and a distance biased towards the edge. Callers filter with
// geo.Distance, which decides what "within" means.
func randInCircle(r *rand.Rand, lat, lon, radiusM float64) (float64, float64) {
	d := radiusM * math.Sqrt(r.Float64())
	switch r.IntN(4) {
	case 0:
		d = radiusM
	case 1:
		d = radiusM * (1 - math.Pow(10, -12*r.Float64()))
	}
	bearing := 360 * r.Float64()
	if r.IntN(8) == 0 {
		bearing = 90 * float64(r.IntN(4))
	}
	return destination(lat, lon, bearing, d)
}

// checkCover checks the shape of a cover: sorted, unique, valid geohashes of
// the right length, at most MaxCells.
func checkCover(t *testing.T, cells []string, precision uint) {
	t.Helper()
	if len(cells) == 0 || len(cells) > geohash.MaxCells {
		t.Fatalf("cover of %d cells", len(cells))
	}
	for i, c := range cells {
		if uint(len(c)) != precision {
			t.Fatalf("cell %q has precision %d, want %d", c, len(c), precision)
		}
		if _, err := geohash.Bounds(c); err != nil {
			t.Fatalf("cell %q: %v", c, err)
		}
		if i > 0 && cells[i-1] >= c {
			t.Fatalf("cells not sorted and unique: %q then %q", cells[i-1], c)
		}
	}
}

// checkComplete samples n points within radiusM of lat, lon and checks that
// the cell of each is in cells. It returns how many points it checked.
func checkComplete(t *testing.T, r *rand.Rand, cells []string, lat, lon, radiusM float64, precision uint, n int) int {
	t.Helper()
	checked := 0
	for range n {
		plat, plon := randInCircle(r, lat, lon, radiusM)
		checked += checkPoint(t, cells, lat, lon, radiusM, precision, plat, plon)
	}
	return checked
}

// checkPoint checks that the cell of plat, plon is in cells if the point is
// within radiusM of lat, lon, and returns 1 if it was.
func checkPoint(t *testing.T, cells []string, lat, lon, radiusM float64, precision uint, plat, plon float64) int {
	t.Helper()
	if geo.Distance(lat, lon, plat, plon) > radiusM {
		return 0
	}
	pts := [][2]float64{{plat, plon}}
	if math.Abs(plon) == 180 { // both spellings of the antimeridian
		pts = append(pts, [2]float64{plat, -plon})
	}
	for _, p := range pts {
		h := geohash.Encode(p[0], p[1], precision)
		if _, found := slices.BinarySearch(cells, h); !found {
			t.Fatalf("Cover(%v, %v, %v, %d) misses (%v, %v) at %v m, in cell %q; cover has %d cells",
				lat, lon, radiusM, precision, p[0], p[1], geo.Distance(lat, lon, p[0], p[1]), h, len(cells))
		}
	}
	return 1
}

func TestCoverTable(t *testing.T) {
	tests := []struct {
		name              string
		lat, lon, radiusM float64
		precision         uint
		want              []string // nil: only check shape and completeness
		wantLen           int
	}{
		{"one cell", 42.60498046875, -5.60302734375, 100, 5, []string{"ezs42"}, 1},
		{"origin, four quadrants", 0, 0, 1, 3, []string{"7zz", "ebp", "kpb", "s00"}, 4},
		{"north pole, every column", 90, 0, 1000, 2, nil, 32},
		{"south pole, every column", -90, 77, 1000, 2, nil, 32},
		{"near north pole, pole outside", 89.9, 0, 5_000, 3, nil, 0},
		{"antimeridian at +180", 0, 180, 1000, 4, []string{"2pbp", "8000", "rzzz", "xbpb"}, 4},
		{"antimeridian at -180", 0, -180, 1000, 4, []string{"2pbp", "8000", "rzzz", "xbpb"}, 4},
		{"antimeridian, Fiji", -17, 179.99, 5_000, 5, nil, 0},
		{"whole world", 10, 10, 30_000_000, 1, nil, 32},
		{"Paris 2 km", 48.8566, 2.3522, 2000, 5, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cells, err := geohash.Cover(tt.lat, tt.lon, tt.radiusM, tt.precision)
			if err != nil {
				t.Fatalf("Cover: %v", err)
			}
			checkCover(t, cells, tt.precision)
			if tt.want != nil && !slices.Equal(cells, tt.want) {
				t.Errorf("Cover = %q, want %q", cells, tt.want)
			}
			if tt.wantLen != 0 && len(cells) != tt.wantLen {
				t.Errorf("Cover has %d cells, want %d", len(cells), tt.wantLen)
			}
			checkComplete(t, rand.New(rand.NewPCG(1, 2)), cells, tt.lat, tt.lon, tt.radiusM, tt.precision, 2000)
		})
	}
}

func TestCoverErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name              string
		lat, lon, radiusM float64
		precision         uint
		want              error
	}{
		{"NaN lat", nan, 0, 1, 5, geohash.ErrInvalidPoint},
		{"NaN lon", 0, nan, 1, 5, geohash.ErrInvalidPoint},
		{"Inf lat", inf, 0, 1, 5, geohash.ErrInvalidPoint},
		{"-Inf lon", 0, -inf, 1, 5, geohash.ErrInvalidPoint},
		{"lat 90.1", 90.1, 0, 1, 5, geohash.ErrInvalidPoint},
		{"lon -180.1", 0, -180.1, 1, 5, geohash.ErrInvalidPoint},
		{"radius 0", 0, 0, 0, 5, geohash.ErrInvalidRadius},
		{"radius -1", 0, 0, -1, 5, geohash.ErrInvalidRadius},
		{"radius NaN", 0, 0, nan, 5, geohash.ErrInvalidRadius},
		{"radius Inf", 0, 0, inf, 5, geohash.ErrInvalidRadius},
		{"precision 0", 0, 0, 1, 0, geohash.ErrPrecision},
		{"precision 13", 0, 0, 1, 13, geohash.ErrPrecision},
		{"too many cells", 0, 0, 50_000, 9, geohash.ErrTooManyCells},
		{"too many cells at the pole", 90, 0, 10, 9, geohash.ErrTooManyCells},
		{"too many cells, whole world", 0, 0, 30_000_000, 3, geohash.ErrTooManyCells},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cells, err := geohash.Cover(tt.lat, tt.lon, tt.radiusM, tt.precision)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Cover error %v, want %v", err, tt.want)
			}
			if cells != nil {
				t.Errorf("Cover returned %d cells with an error", len(cells))
			}
		})
	}
}

// TestCoverComplete is the main property: for random circles, including at
// ±180° and the poles, every point Distance places within the radius has its
// cell in the cover.
func TestCoverComplete(t *testing.T) {
	r := newRand(t)
	checked, covers := 0, 0
	for range 3000 {
		lat, lon := randPoint(r)
		radius := math.Pow(10, r.Float64()*math.Log10(50_000)) // 1 m .. 50 km
		precision := 1 + uint(r.IntN(9))
		cells, err := geohash.Cover(lat, lon, radius, precision)
		for errors.Is(err, geohash.ErrTooManyCells) {
			precision--
			cells, err = geohash.Cover(lat, lon, radius, precision)
		}
		if err != nil {
			t.Fatalf("Cover(%v, %v, %v, %d): %v", lat, lon, radius, precision, err)
		}
		covers++
		checkCover(t, cells, precision)
		checked += checkComplete(t, r, cells, lat, lon, radius, precision, 100)
		// The centre and the points due north, south, east and west at the
		// radius (latitude and longitude extremes at the equator).
		checked += checkPoint(t, cells, lat, lon, radius, precision, lat, lon)
		for b := range 4 {
			plat, plon := destination(lat, lon, 90*float64(b), radius)
			checked += checkPoint(t, cells, lat, lon, radius, precision, plat, plon)
		}
	}
	t.Logf("%d covers, %d points checked", covers, checked)
	if checked < 200_000 {
		t.Errorf("only %d points checked", checked)
	}
}

// TestCoverBruteForce compares Cover at low precisions with a scan of every
// cell of the world: Cover must hold every cell whose interior meets the
// circle's bounding rectangle and is not ruled out by the lower bound, and
// nothing that does not at least touch it.
func TestCoverBruteForce(t *testing.T) {
	r := newRand(t)
	var all [4][]string // all cells of precisions 1..3
	for p := 1; p <= 3; p++ {
		all[p] = allCells(uint(p))
	}
	for range 300 {
		lat, lon := randPoint(r)
		radius := math.Pow(10, 3+r.Float64()*3.5) // 1 km .. 3000 km
		p := uint(1 + r.IntN(3))
		cells, err := geohash.Cover(lat, lon, radius, p)
		if errors.Is(err, geohash.ErrTooManyCells) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		o := geo.NewOrigin(lat, lon)
		limit := geo.HavBound(radius)
		parts := geo.CircleBounds(lat, lon, radius).Split()
		for _, h := range all[p] {
			b, _ := geohash.Bounds(h)
			var open, closed bool
			for _, part := range parts {
				open = open || (b.MinLat < part.MaxLat && b.MaxLat > part.MinLat &&
					b.MinLon < part.MaxLon && b.MaxLon > part.MinLon)
				closed = closed || (b.MinLat <= part.MaxLat && b.MaxLat >= part.MinLat &&
					b.MinLon <= part.MaxLon && b.MaxLon >= part.MinLon)
			}
			near := o.RectHavLowerBound(b.MinLat, b.MinLon, b.MaxLat, b.MaxLon) <= limit
			_, in := slices.BinarySearch(cells, h)
			if open && near && !in {
				t.Fatalf("Cover(%v, %v, %v, %d) misses cell %q %+v", lat, lon, radius, p, h, b)
			}
			if in && !closed {
				t.Fatalf("Cover(%v, %v, %v, %d) has cell %q %+v outside the bounds", lat, lon, radius, p, h, b)
			}
		}
	}
}

// allCells returns every geohash of precision p.
func allCells(p uint) []string {
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	cells := []string{""}
	for range p {
		var next []string
		for _, c := range cells {
			for i := range len(alphabet) {
				next = append(next, c+alphabet[i:i+1])
			}
		}
		cells = next
	}
	return cells
}

// FuzzCover checks that Cover never panics, fails only with its own errors
// and only on bad input or too many cells, and is complete for the point the
// fuzzer picks (bearing and fraction of the radius from the centre).
func FuzzCover(f *testing.F) {
	f.Add(48.8566, 2.3522, 2000.0, uint8(5), 45.0, 1.0)
	f.Add(0.0, 180.0, 1000.0, uint8(4), 90.0, 1.0)
	f.Add(0.0, -180.0, 50_000.0, uint8(3), 270.0, 0.999)
	f.Add(90.0, 0.0, 10.0, uint8(6), 0.0, 0.5)
	f.Add(-89.9, 179.9999, 20_000.0, uint8(4), 180.0, 1.0)
	// Exactly at the poles and on both spellings of the antimeridian, with
	// radii from a rounding error to the whole globe.
	f.Add(-90.0, -180.0, 1e-6, uint8(3), 0.0, 1.0)
	f.Add(90.0, 180.0, 2e7, uint8(1), 123.0, 1.0)
	f.Add(0.0, 180.0, math.Pi*geo.EarthRadiusM, uint8(2), 45.0, 1.0)
	f.Add(45.0, -180.0, 1e-9, uint8(12), 270.0, 1.0)
	f.Add(-89.9999999, 180.0, 0.5, uint8(5), 90.0, 1.0)
	f.Add(math.NaN(), 0.0, 1.0, uint8(5), 0.0, 0.0)
	f.Add(0.0, 0.0, -1.0, uint8(13), 0.0, 0.0)
	f.Fuzz(func(t *testing.T, lat, lon, radiusM float64, precision uint8, bearing, frac float64) {
		cells, err := geohash.Cover(lat, lon, radiusM, uint(precision))
		valid := geo.Valid(lat, lon) && radiusM > 0 && !math.IsInf(radiusM, 1) &&
			precision >= 1 && precision <= geohash.MaxPrecision
		if err != nil {
			if valid && !errors.Is(err, geohash.ErrTooManyCells) {
				t.Fatalf("Cover(%v, %v, %v, %d): %v", lat, lon, radiusM, precision, err)
			}
			return
		}
		if !valid {
			t.Fatalf("Cover(%v, %v, %v, %d) accepted bad input", lat, lon, radiusM, precision)
		}
		checkCover(t, cells, uint(precision))
		checkPoint(t, cells, lat, lon, radiusM, uint(precision), lat, lon)
		if math.IsNaN(bearing) || math.IsInf(bearing, 0) || math.IsNaN(frac) {
			return
		}
		frac = math.Max(0, math.Min(1, math.Abs(frac)))
		plat, plon := destination(lat, lon, bearing, frac*radiusM)
		checkPoint(t, cells, lat, lon, radiusM, uint(precision), plat, plon)
		r := rand.New(rand.NewPCG(math.Float64bits(bearing), math.Float64bits(frac)))
		checkComplete(t, r, cells, lat, lon, radiusM, uint(precision), 20)
	})
}

// FuzzDecode checks that Decode and Bounds never panic and agree, and that a
// decoded hash encodes back to itself.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "s", "ezs42", "u4pruydqqvj", "zzzzzzzzzzzz", "000000000000", "a", "U", "s0000000000000", "\xff",
		// The world's corners and edges: north-west, south-east, the poles'
		// rows at longitude 0, both sides of the antimeridian on the equator.
		"bpbpbpbpbpbp", "pbpbpbpbpbpb", "upbpbpbpbpbp", "h00000000000", "xbpbpbpbpbpb", "800000000000", "b", "p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lat, lon, err := geohash.Decode(s)
		b, berr := geohash.Bounds(s)
		if (err == nil) != (berr == nil) {
			t.Fatalf("Decode error %v, Bounds error %v", err, berr)
		}
		if err != nil {
			if !errors.Is(err, geohash.ErrInvalidHash) {
				t.Fatalf("Decode(%q): %v does not wrap ErrInvalidHash", s, err)
			}
			return
		}
		if !b.Valid() || !b.Contains(lat, lon) {
			t.Fatalf("Decode(%q) = %v, %v outside Bounds %+v", s, lat, lon, b)
		}
		if got := geohash.Encode(lat, lon, uint(len(s))); got != s {
			t.Fatalf("Encode(Decode(%q)) = %q", s, got)
		}
	})
}

func BenchmarkCover(b *testing.B) {
	for _, bc := range []struct {
		name              string
		lat, lon, radiusM float64
	}{
		{"r=500m", 48.8566, 2.3522, 500},
		{"r=2km", 48.8566, 2.3522, 2000},
		{"r=20km", 48.8566, 2.3522, 20_000},
		{"r=2km/antimeridian", -17, 180, 2000},
		{"r=2km/pole", 89.99, 0, 2000},
	} {
		// Near a pole cells are narrow: back off until the cover fits.
		p := geohash.PrecisionForRadius(bc.radiusM)
		for _, err := geohash.Cover(bc.lat, bc.lon, bc.radiusM, p); errors.Is(err, geohash.ErrTooManyCells); {
			p--
			_, err = geohash.Cover(bc.lat, bc.lon, bc.radiusM, p)
		}
		b.Run(fmt.Sprintf("%s/p=%d", bc.name, p), func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				cells, err := geohash.Cover(bc.lat, bc.lon, bc.radiusM, p)
				if err != nil {
					b.Fatal(err)
				}
				n = len(cells)
			}
			b.ReportMetric(float64(n), "cells/op")
		})
	}
}

// TestCoverTinyRadiusAtAntimeridian: from longitude 180, a point at -180 is
// at a distance of rounding (1.6e-9 m), within any radius above that, and
// its cell must be in the cover however small the radius.
func TestCoverTinyRadiusAtAntimeridian(t *testing.T) {
	for _, lat := range []float64{0, 10, -45.5, 89.9} {
		for _, lon := range []float64{180, -180} {
			for _, radius := range []float64{1e-6, 1e-4, 0.01, 1} {
				for precision := uint(1); precision <= geohash.MaxPrecision; precision++ {
					cells, err := geohash.Cover(lat, lon, radius, precision)
					if errors.Is(err, geohash.ErrTooManyCells) {
						continue
					} else if err != nil {
						t.Fatal(err)
					}
					checkPoint(t, cells, lat, lon, radius, precision, lat, -lon)
				}
			}
		}
	}
}
