package geo_test

import (
	"flag"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nearby/nearby/geo"
)

var seedFlag = flag.Uint64("seed", 0, "random seed for property tests (0: time-based)")

// newRand returns a seeded generator and logs the seed so a failure
// reproduces with -seed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

const rad = math.Pi / 180

// hav is the haversine of a distance in metres, sin²(d/2R), computed the same
// way HavBound computes it before its margins.
func hav(meters float64) float64 {
	s := math.Sin(meters / (2 * geo.EarthRadiusM))
	return s * s
}

// destination returns the point reached from lat, lon degrees by travelling
// meters along the great circle with initial bearing bearingDeg (clockwise
// from north). The result is a valid coordinate: latitude clamped to ±90,
// longitude normalised to [-180, 180].
func destination(lat, lon, bearingDeg, meters float64) (float64, float64) {
	phi1, lam1, theta := lat*rad, lon*rad, bearingDeg*rad
	delta := meters / geo.EarthRadiusM
	sinPhi2 := math.Sin(phi1)*math.Cos(delta) + math.Cos(phi1)*math.Sin(delta)*math.Cos(theta)
	sinPhi2 = math.Max(-1, math.Min(1, sinPhi2))
	phi2 := math.Asin(sinPhi2)
	lam2 := lam1 + math.Atan2(math.Sin(theta)*math.Sin(delta)*math.Cos(phi1),
		math.Cos(delta)-math.Sin(phi1)*sinPhi2)
	lat2 := math.Max(-90, math.Min(90, phi2/rad))
	return lat2, normLon(lam2 / rad)
}

// normLon maps a longitude in degrees into [-180, 180].
func normLon(lon float64) float64 {
	lon = math.Mod(lon, 360)
	switch {
	case lon > 180:
		lon -= 360
	case lon < -180:
		lon += 360
	}
	return lon
}

// randPoint returns a point that is, with some probability each, anywhere on
// the globe, near or exactly on a pole, near or exactly on the antimeridian,
// or both.
func randPoint(r *rand.Rand) (lat, lon float64) {
	lat = math.Asin(2*r.Float64()-1) / rad // uniform on the sphere
	lon = 360*r.Float64() - 180
	if r.IntN(4) == 0 { // near a pole
		lat = 90 - math.Pow(10, -6*r.Float64())*r.Float64()
		if r.IntN(8) == 0 {
			lat = 90
		}
		if r.IntN(2) == 0 {
			lat = -lat
		}
	}
	if r.IntN(4) == 0 { // near the antimeridian
		lon = 180 - math.Pow(10, -6*r.Float64())*r.Float64()
		if r.IntN(8) == 0 {
			lon = 180
		}
		if r.IntN(2) == 0 {
			lon = -lon
		}
	}
	return lat, lon
}

// randRadius returns a radius in metres: log-uniform in [1 m, 50 km] mostly,
// sometimes up to 5000 km.
func randRadius(r *rand.Rand) float64 {
	if r.IntN(8) == 0 {
		return math.Pow(10, 4+r.Float64()*2.7) // 10 km .. 5000 km
	}
	return math.Pow(10, r.Float64()*math.Log10(50000))
}

// randNear returns a point within about meters of lat, lon: a random bearing
// and a distance in [0, meters], biased towards the edge of the circle.
func randNear(r *rand.Rand, lat, lon, meters float64) (float64, float64) {
	var d float64
	switch r.IntN(4) {
	case 0:
		d = meters
	case 1:
		d = meters * (1 - 1e-9*r.Float64())
	case 2:
		d = meters * math.Sqrt(r.Float64())
	default:
		d = meters * (1 - 1e-3*r.Float64())
	}
	return destination(lat, lon, 360*r.Float64(), d)
}

func TestValid(t *testing.T) {
	tests := []struct {
		name     string
		lat, lon float64
		want     bool
	}{
		{"origin", 0, 0, true},
		{"corners", 90, 180, true},
		{"south west", -90, -180, true},
		{"lat too big", 90.0000001, 0, false},
		{"lon too small", 0, -180.0000001, false},
		{"NaN lat", math.NaN(), 0, false},
		{"NaN lon", 0, math.NaN(), false},
		{"Inf lat", math.Inf(1), 0, false},
		{"-Inf lon", 0, math.Inf(-1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := geo.Valid(tt.lat, tt.lon); got != tt.want {
				t.Errorf("Valid(%v, %v) = %v, want %v", tt.lat, tt.lon, got, tt.want)
			}
		})
	}
}

func TestDistanceKnown(t *testing.T) {
	const R = geo.EarthRadiusM
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want, tolM             float64
	}{
		{"Paris-London", 48.8566, 2.3522, 51.5074, -0.1278, 343_560, 500},
		{"New York-Los Angeles", 40.7128, -74.0060, 34.0522, -118.2437, 3_936_000, 5_000},
		{"one degree of latitude", 10, 20, 11, 20, R * rad, 1e-6},
		{"one degree of longitude on the equator", 0, 20, 0, 21, R * rad, 1e-6},
		{"one degree across the antimeridian", 0, 179.5, 0, -179.5, R * rad, 1e-6},
		{"quarter meridian", 0, 0, 90, 0, R * math.Pi / 2, 1e-6},
		{"pole to pole", -90, 0, 90, 0, R * math.Pi, 1e-6},
		{"antipodes on the equator", 0, 0, 0, 180, R * math.Pi, 1e-6},
		{"pole, any longitude", 90, 0, 90, 123, 0, 1e-6},
		{"±180 is one meridian", 12.5, 180, 12.5, -180, 0, 1e-6},
		{"1 m north", 45, 7, 45 + 1/(R*rad), 7, 1, 1e-9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := geo.Distance(tt.lat1, tt.lon1, tt.lat2, tt.lon2)
			if math.Abs(got-tt.want) > tt.tolM {
				t.Errorf("Distance = %.6f m, want %.6f ± %g m", got, tt.want, tt.tolM)
			}
		})
	}
}

func TestDistanceProperties(t *testing.T) {
	r := newRand(t)
	for range 20000 {
		lat1, lon1 := randPoint(r)
		lat2, lon2 := randPoint(r)
		if r.IntN(2) == 0 {
			lat2, lon2 = randNear(r, lat1, lon1, randRadius(r))
		}
		lat3, lon3 := randNear(r, lat2, lon2, randRadius(r))

		d12 := geo.Distance(lat1, lon1, lat2, lon2)
		if d21 := geo.Distance(lat2, lon2, lat1, lon1); d12 != d21 {
			t.Fatalf("Distance not symmetric: (%v,%v)-(%v,%v): %v vs %v", lat1, lon1, lat2, lon2, d12, d21)
		}
		if d := geo.Distance(lat1, lon1, lat1, lon1); d != 0 {
			t.Fatalf("Distance(p, p) = %v at (%v,%v), want 0", d, lat1, lon1)
		}
		if d12 < 0 || d12 > math.Pi*geo.EarthRadiusM {
			t.Fatalf("Distance = %v outside [0, πR]", d12)
		}
		if o := geo.NewOrigin(lat1, lon1); o.Distance(lat2, lon2) != d12 {
			t.Fatalf("Origin.Distance differs from Distance")
		}

		// Triangle inequality. asin is ill-conditioned near antipodes
		// (error up to ~0.1 m there), elsewhere Distance is good to ~1e-6 m.
		const tolM = 0.5
		d23 := geo.Distance(lat2, lon2, lat3, lon3)
		d13 := geo.Distance(lat1, lon1, lat3, lon3)
		if d13 > d12+d23+tolM {
			t.Fatalf("triangle inequality: d(1,3)=%v > d(1,2)=%v + d(2,3)=%v; points (%v,%v) (%v,%v) (%v,%v)",
				d13, d12, d23, lat1, lon1, lat2, lon2, lat3, lon3)
		}
	}
}

func TestHavBound(t *testing.T) {
	if got := geo.HavBound(math.Pi * geo.EarthRadiusM); !math.IsInf(got, 1) {
		t.Errorf("HavBound(πR) = %v, want +Inf", got)
	}
	if got := geo.HavBound(0); got < 0 || got > 1e-28 {
		t.Errorf("HavBound(0) = %v, want a tiny non-negative margin", got)
	}
	prev := 0.0
	for i := range 20000 {
		d := math.Pow(10, -3+10*float64(i)/20000) // 1 mm .. 10,000 km, increasing
		if d >= math.Pi*geo.EarthRadiusM {
			break
		}
		b := geo.HavBound(d)
		if b < hav(d) {
			t.Fatalf("HavBound(%v) = %v < hav = %v", d, b, hav(d))
		}
		if b < prev {
			t.Fatalf("HavBound not monotonic at %v m", d)
		}
		prev = b
		// The margin stays small: pruning loses little.
		if rel := b/hav(d) - 1; d > 1 && rel > 1e-6 {
			t.Fatalf("HavBound(%v) margin %v too large", d, rel)
		}
	}
}

// TestHavLowerBound checks HavLowerBound against the haversine of Distance
// and the pruning contract the index relies on: if Distance ≤ r then
// HavLowerBound ≤ HavBound(r), with r as small as possible (r = Distance).
func TestHavLowerBound(t *testing.T) {
	r := newRand(t)
	for range 200000 {
		lat1, lon1 := randPoint(r)
		var lat2, lon2 float64
		switch r.IntN(3) {
		case 0:
			lat2, lon2 = randPoint(r)
		case 1:
			lat2, lon2 = randNear(r, lat1, lon1, randRadius(r))
		default: // sub-metre: where rounding matters most
			lat2, lon2 = randNear(r, lat1, lon1, math.Pow(10, -6*r.Float64()))
		}
		o := geo.NewOrigin(lat1, lon1)
		lb := o.HavLowerBound(lat2, lon2)
		d := geo.Distance(lat1, lon1, lat2, lon2)
		if lb < 0 {
			t.Fatalf("HavLowerBound = %v < 0", lb)
		}
		// Lower bound of the true haversine, within Distance's rounding
		// (up to about 1e-15 in sin(d/2R), across the antimeridian).
		if math.Sqrt(lb) > math.Sqrt(hav(d))*(1+1e-12)+1.5e-15 {
			t.Fatalf("HavLowerBound(%v,%v → %v,%v) = %v > hav(Distance = %v m) = %v",
				lat1, lon1, lat2, lon2, lb, d, hav(d))
		}
		if lb > geo.HavBound(d) {
			t.Fatalf("pruning would lose a point: from (%v,%v) to (%v,%v): Distance %v m, HavLowerBound %v > HavBound %v",
				lat1, lon1, lat2, lon2, d, lb, geo.HavBound(d))
		}
		if rr := d * (1 + r.Float64()); lb > geo.HavBound(rr) {
			t.Fatalf("pruning would lose a point at %v m with r = %v m", d, rr)
		}
	}
}

// TestHavBoundShortDistances holds pairs for which HavBound once had only a
// relative margin: Distance rounds the coordinates in radians before
// subtracting them, so for points centimetres or micrometres apart
// HavLowerBound came out above HavBound(Distance) and a point exactly on the
// search radius was pruned.
func TestHavBoundShortDistances(t *testing.T) {
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
	}{
		{"micrometres", -40.85034264450086, -168.14440294989524, -40.850342644529654, -168.14440294992238},
		{"across the antimeridian", 0.9798358491912071, -179.99991335116155, 0.9798294646443994, 179.99992156440152},
		{"near the antimeridian", -0.9560748304592028, 179.9380566072486, -0.9560748304825409, 179.9380566071414},
		{"one metre on the equator", 0, 179.99999, 0, 179.99999 + 1/(geo.EarthRadiusM*rad)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := geo.Distance(tt.lat1, tt.lon1, tt.lat2, tt.lon2)
			o := geo.NewOrigin(tt.lat1, tt.lon1)
			if lb, hb := o.HavLowerBound(tt.lat2, tt.lon2), geo.HavBound(d); lb > hb {
				t.Errorf("HavLowerBound = %v > HavBound(%v m) = %v", lb, d, hb)
			}
			lb := o.RectHavLowerBound(tt.lat2, tt.lon2, tt.lat2, tt.lon2)
			if hb := geo.HavBound(d); lb > hb {
				t.Errorf("RectHavLowerBound = %v > HavBound(%v m) = %v", lb, d, hb)
			}
		})
	}
}

// TestRectHavUpperBound checks the contract CountWithin relies on: take
// the smallest radius r for which a rectangle's upper bound is at most
// HavInner(r) (the rectangle would be counted whole); then Distance from the
// origin to every point of the rectangle is at most r. Rectangles span from
// micrometres to most of the globe, with points sampled at corners, edges,
// the equator and the meridian opposite the origin.
func TestRectHavUpperBound(t *testing.T) {
	r := newRand(t)
	for range 20000 {
		lat0, lon0 := randPoint(r)
		o := geo.NewOrigin(lat0, lon0)
		var minLat, minLon float64
		switch r.IntN(3) {
		case 0:
			minLat, minLon = randNear(r, lat0, lon0, randRadius(r))
		default:
			minLat, minLon = randPoint(r)
		}
		size := math.Pow(10, -8+10*r.Float64()) // degrees
		maxLat, maxLon := math.Min(90, minLat+size*r.Float64()), math.Min(180, minLon+size*r.Float64())
		ub := o.RectHavUpperBound(minLat, minLon, maxLat, maxLon)
		lats := []float64{minLat, maxLat, 0}
		lons := []float64{minLon, maxLon, lon0 - 180, lon0 + 180}
		for range 20 {
			lats = append(lats, minLat+(maxLat-minLat)*r.Float64())
			lons = append(lons, minLon+(maxLon-minLon)*r.Float64())
		}
		sin := (math.Sqrt(ub) + 4e-15) / (1 - 1e-9)
		if sin >= 1 {
			continue // no radius below half the globe admits it
		}
		radius := 2 * geo.EarthRadiusM * math.Asin(sin)
		for geo.HavInner(radius) < ub {
			radius *= 1 + 1e-12
		}
		for _, lat := range lats {
			for _, lon := range lons {
				if lat < minLat || lat > maxLat || lon < minLon || lon > maxLon {
					continue
				}
				if d := geo.Distance(lat0, lon0, lat, lon); d > radius {
					t.Fatalf("from (%v,%v), [%v,%v]×[%v,%v] is admitted at %v m but (%v,%v) is %v m away",
						lat0, lon0, minLat, maxLat, minLon, maxLon, radius, lat, lon, d)
				}
			}
		}
	}
}

func TestHavInner(t *testing.T) {
	if got := geo.HavInner(math.Pi * geo.EarthRadiusM); got != 1 {
		t.Errorf("HavInner(πR) = %v, want 1", got)
	}
	// Distance's rounding exceeds tiny radii: no haversine, not even 0 (as
	// from longitude 180 to -180), is surely within them.
	for _, d := range []float64{0, 1e-9, 2e-8} {
		if got := geo.HavInner(d); got >= 0 {
			t.Errorf("HavInner(%v) = %v, want < 0", d, got)
		}
	}
	for i := range 20000 {
		d := math.Pow(10, -3+10*float64(i)/20000)
		if d >= math.Pi*geo.EarthRadiusM {
			break
		}
		if in := geo.HavInner(d); in > hav(d) || in > geo.HavBound(d) {
			t.Fatalf("HavInner(%v) = %v above hav %v", d, in, hav(d))
		}
	}
}
