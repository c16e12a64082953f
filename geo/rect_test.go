package geo_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nearby/nearby/geo"
)

func TestRectContainsSplit(t *testing.T) {
	tests := []struct {
		name      string
		r         geo.Rect
		lat, lon  float64
		want      bool
		wantSplit int
	}{
		{"inside", geo.Rect{MinLat: 0, MinLon: 0, MaxLat: 1, MaxLon: 1}, 0.5, 0.5, true, 1},
		{"corner included", geo.Rect{MinLat: 0, MinLon: 0, MaxLat: 1, MaxLon: 1}, 1, 0, true, 1},
		{"north of it", geo.Rect{MinLat: 0, MinLon: 0, MaxLat: 1, MaxLon: 1}, 1.0000001, 0.5, false, 1},
		{"wrapping, east part", geo.Rect{MinLat: -1, MinLon: 179, MaxLat: 1, MaxLon: -179}, 0, 179.5, true, 2},
		{"wrapping, west part", geo.Rect{MinLat: -1, MinLon: 179, MaxLat: 1, MaxLon: -179}, 0, -179.5, true, 2},
		{"wrapping, +180", geo.Rect{MinLat: -1, MinLon: 179, MaxLat: 1, MaxLon: -179}, 0, 180, true, 2},
		{"wrapping, -180", geo.Rect{MinLat: -1, MinLon: 179, MaxLat: 1, MaxLon: -179}, 0, -180, true, 2},
		{"wrapping, outside", geo.Rect{MinLat: -1, MinLon: 179, MaxLat: 1, MaxLon: -179}, 0, 0, false, 2},
		{"world, pole", geo.World, 90, 42, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Contains(tt.lat, tt.lon); got != tt.want {
				t.Errorf("Contains(%v, %v) = %v, want %v", tt.lat, tt.lon, got, tt.want)
			}
			parts := tt.r.Split()
			if len(parts) != tt.wantSplit {
				t.Fatalf("Split() = %v, want %d parts", parts, tt.wantSplit)
			}
			inParts := false
			for _, p := range parts {
				if p.MinLon > p.MaxLon || !p.Valid() {
					t.Errorf("Split part %+v crosses the antimeridian or is invalid", p)
				}
				inParts = inParts || p.Contains(tt.lat, tt.lon)
			}
			if inParts != tt.want {
				t.Errorf("parts contain the point: %v, want %v", inParts, tt.want)
			}
		})
	}
}

// randRect returns a rectangle that does not cross the antimeridian, of
// random size from centimetres to the whole globe, sometimes touching a pole
// or ±180°.
func randRect(r *rand.Rand) geo.Rect {
	lat, lon := randPoint(r)
	h := math.Pow(10, -7+9*r.Float64()) // half-height, degrees
	w := math.Pow(10, -7+9.5*r.Float64())
	if r.IntN(8) == 0 { // geohash-like: a dyadic grid cell
		h, w = math.Ldexp(45, -r.IntN(30)), math.Ldexp(45, -r.IntN(30))
		lat = math.Floor(lat/h) * h
		lon = math.Floor(lon/w) * w
		return clampRect(geo.Rect{MinLat: lat, MinLon: lon, MaxLat: lat + h, MaxLon: lon + w})
	}
	return clampRect(geo.Rect{MinLat: lat - h, MinLon: lon - w, MaxLat: lat + h, MaxLon: lon + w})
}

func clampRect(b geo.Rect) geo.Rect {
	b.MinLat = math.Max(b.MinLat, -90)
	b.MaxLat = math.Min(b.MaxLat, 90)
	b.MinLon = math.Max(b.MinLon, -180)
	b.MaxLon = math.Min(b.MaxLon, 180)
	return b
}

// randInRect returns a point of b (which must not cross the antimeridian):
// a corner, a point on an edge, or an interior point.
func randInRect(r *rand.Rand, b geo.Rect) (float64, float64) {
	lerp := func(lo, hi, f float64) float64 { return math.Min(hi, lo+(hi-lo)*f) }
	lat := lerp(b.MinLat, b.MaxLat, r.Float64())
	lon := lerp(b.MinLon, b.MaxLon, r.Float64())
	switch r.IntN(4) {
	case 0: // a corner
		lat = [2]float64{b.MinLat, b.MaxLat}[r.IntN(2)]
		lon = [2]float64{b.MinLon, b.MaxLon}[r.IntN(2)]
	case 1: // a latitude edge
		lat = [2]float64{b.MinLat, b.MaxLat}[r.IntN(2)]
	case 2: // a longitude edge
		lon = [2]float64{b.MinLon, b.MaxLon}[r.IntN(2)]
	}
	return lat, lon
}

// TestRectHavLowerBound checks that the bound of a rectangle is below the
// haversine of every point in it, in particular its corners and edges, and
// never prunes a point within the radius it is compared with.
func TestRectHavLowerBound(t *testing.T) {
	r := newRand(t)
	for range 20000 {
		b := randRect(r)
		var olat, olon float64
		switch r.IntN(3) {
		case 0:
			olat, olon = randPoint(r)
		case 1: // near the rectangle
			plat, plon := randInRect(r, b)
			olat, olon = randNear(r, plat, plon, randRadius(r))
		default: // very near the rectangle
			plat, plon := randInRect(r, b)
			olat, olon = randNear(r, plat, plon, math.Pow(10, -6+6*r.Float64()))
		}
		o := geo.NewOrigin(olat, olon)
		lb := o.RectHavLowerBound(b.MinLat, b.MinLon, b.MaxLat, b.MaxLon)
		if lb < 0 || math.IsNaN(lb) {
			t.Fatalf("RectHavLowerBound(%+v) from (%v,%v) = %v", b, olat, olon, lb)
		}
		if b.Contains(olat, olon) && lb != 0 {
			t.Fatalf("RectHavLowerBound(%+v) = %v from inside (%v,%v), want 0", b, lb, olat, olon)
		}
		for range 20 {
			lat, lon := randInRect(r, b)
			d := o.Distance(lat, lon)
			if lb > geo.HavBound(d) {
				t.Fatalf("pruning would lose a point: rect %+v, origin (%v,%v), point (%v,%v) at %v m: bound %v > HavBound %v",
					b, olat, olon, lat, lon, d, lb, geo.HavBound(d))
			}
			if math.Sqrt(lb) > math.Sqrt(hav(d))*(1+1e-12)+1.5e-15 {
				t.Fatalf("rect %+v, origin (%v,%v), point (%v,%v): bound %v > hav(%v m) = %v",
					b, olat, olon, lat, lon, lb, d, hav(d))
			}
		}
	}
}

// rectMinDistance returns the exact least Distance from o to the rectangle
// b (which must not cross the antimeridian), by geometry rather than
// sampling: with o's longitude inside b it is the latitude gap; otherwise
// the nearest point is on one of b's meridian edges, where cos d =
// A sin φ + B cos φ has a single maximum, at φ* = atan2(A, B) if b reaches
// it, else at an end of the edge.
func rectMinDistance(o geo.Origin, b geo.Rect) float64 {
	if o.Lon >= b.MinLon && o.Lon <= b.MaxLon {
		return o.Distance(math.Max(b.MinLat, math.Min(b.MaxLat, o.Lat)), o.Lon)
	}
	d := math.Inf(1)
	for _, lon := range []float64{b.MinLon, b.MaxLon} {
		d = math.Min(d, math.Min(o.Distance(b.MinLat, lon), o.Distance(b.MaxLat, lon)))
		a, c := math.Sin(o.Lat*rad), math.Cos(o.Lat*rad)*math.Cos((lon-o.Lon)*rad)
		if star := math.Atan2(a, c) / rad; star >= b.MinLat && star <= b.MaxLat {
			d = math.Min(d, o.Distance(star, lon))
		}
	}
	return d
}

// TestRectHavLowerBoundNearest checks the bound against the exact least
// distance to the rectangle (rectMinDistance), which random points inside
// it rarely reach: the foot of the perpendicular on a meridian edge, or a
// pole. Rectangles often reach a pole, as the cells at the top of a tree or
// of a geohash cover do.
func TestRectHavLowerBoundNearest(t *testing.T) {
	r := newRand(t)
	var sum float64 // of bound / exact, for rectangles that reach a pole
	var poles int
	for range 100000 {
		b := randRect(r)
		switch r.IntN(4) {
		case 0:
			b.MaxLat = 90
		case 1:
			b.MinLat = -90
		}
		olat, olon := randPoint(r)
		if r.IntN(4) == 0 { // on a latitude the rectangle spans
			olat = b.MinLat + (b.MaxLat-b.MinLat)*r.Float64()
		}
		o := geo.NewOrigin(olat, olon)
		lb := o.RectHavLowerBound(b.MinLat, b.MinLon, b.MaxLat, b.MaxLon)
		d := rectMinDistance(o, b)
		if lb < 0 || math.IsNaN(lb) || lb > geo.HavBound(d) {
			t.Fatalf("RectHavLowerBound(%+v) from (%v,%v) = %v, but the rectangle is %v m away (HavBound %v)",
				b, olat, olon, lb, d, geo.HavBound(d))
		}
		if (b.MaxLat == 90 || b.MinLat == -90) && d > 1000 {
			sum += lb / hav(d)
			poles++
		}
	}
	// A bound that ignores longitude at the poles averages below 0.4 here
	// (about 0.9 with the half-meridian bound).
	mean := sum / float64(poles)
	t.Logf("rectangles reaching a pole: bound / exact haversine averages %.3f over %d", mean, poles)
	if mean < 0.8 {
		t.Errorf("rectangles reaching a pole: bound / exact haversine averages %.3f, want ≥ 0.8", mean)
	}
}

// TestRectHavLowerBoundPole holds rectangles that reach a pole across the
// origin's latitude: far in longitude, they are far, and the bound must say
// so, not 0 (a tree or a cover would open them for nothing).
func TestRectHavLowerBoundPole(t *testing.T) {
	tests := []struct {
		name     string
		lat, lon float64
		b        geo.Rect
	}{
		{"quarter globe away", 45, -90, geo.Rect{MinLat: 0, MinLon: 0, MaxLat: 90, MaxLon: 10}},
		{"opposite side", 10, 0, geo.Rect{MinLat: -90, MinLon: 170, MaxLat: 90, MaxLon: 180}},
		{"across the antimeridian", -60, 179, geo.Rect{MinLat: -90, MinLon: -170, MaxLat: -50, MaxLon: -160}},
		{"near the pole, not reaching it", 80, 0, geo.Rect{MinLat: 70, MinLon: 40, MaxLat: 89.9999, MaxLon: 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := geo.NewOrigin(tt.lat, tt.lon)
			lb := o.RectHavLowerBound(tt.b.MinLat, tt.b.MinLon, tt.b.MaxLat, tt.b.MaxLon)
			d := rectMinDistance(o, tt.b)
			if lb > geo.HavBound(d) || lb < hav(d)/2 {
				t.Errorf("RectHavLowerBound = %v, want in [%v/2, %v] (the rectangle is %v m away)", lb, hav(d), hav(d), d)
			}
		})
	}
}

// TestRectHavLowerBoundRounding: from just off the equator, a pole is a
// hair less than a quarter of the globe away, and cos φ rounds to 1 or
// just below it. A bound that took sin φ as √(1 − cos²φ) there came out
// above HavBound of the distance to the pole, and would prune it.
func TestRectHavLowerBoundRounding(t *testing.T) {
	for lat := 1e-9; lat < 1e-2; lat *= 1.01 {
		for _, sgn := range []float64{1, -1} {
			for _, lon := range []float64{90, 89.999999, 120, 179.9} {
				b := geo.Rect{MinLat: 89, MinLon: lon, MaxLat: 90, MaxLon: lon + 0.1}
				if sgn < 0 {
					b.MinLat, b.MaxLat = -90, -89
				}
				o := geo.NewOrigin(sgn*lat, 0)
				lb := o.RectHavLowerBound(b.MinLat, b.MinLon, b.MaxLat, b.MaxLon)
				if d := rectMinDistance(o, b); lb > geo.HavBound(d) {
					t.Fatalf("RectHavLowerBound(%+v) from (%v, 0) = %v > HavBound(%v m) = %v",
						b, sgn*lat, lb, d, geo.HavBound(d))
				}
			}
		}
	}
}

func TestCircleBoundsTable(t *testing.T) {
	const tol = 1e-6 // degrees
	tests := []struct {
		name              string
		lat, lon, radiusM float64
		want              geo.Rect
		wantSplit         int
	}{
		{"equator 1 km", 0, 0, 1000,
			geo.Rect{MinLat: -0.008993204, MinLon: -0.008993204, MaxLat: 0.008993204, MaxLon: 0.008993204}, 1},
		{"contains north pole", 89.99, 10, 5000,
			geo.Rect{MinLat: 89.945033982, MinLon: -180, MaxLat: 90, MaxLon: 180}, 1},
		{"centred on south pole", -90, 0, 1,
			geo.Rect{MinLat: -90, MinLon: -180, MaxLat: -89.999991007, MaxLon: 180}, 1},
		{"centred on north pole, 1 km", 90, 123, 1000,
			geo.Rect{MinLat: 89.991006796, MinLon: -180, MaxLat: 90, MaxLon: 180}, 1},
		{"near the pole, pole outside", 89, 0, 100_000,
			geo.Rect{MinLat: 88.100679636, MinLon: -64.070019396, MaxLat: 89.899320364, MaxLon: 64.070019396}, 1},
		{"on the antimeridian", 0, 180, 50_000,
			geo.Rect{MinLat: -0.449660182, MinLon: 179.550339818, MaxLat: 0.449660182, MaxLon: -179.550339818}, 2},
		{"on the antimeridian, -180", 60, -180, 50_000,
			geo.Rect{MinLat: 59.550339818, MinLon: 179.100651938, MaxLat: 60.449660182, MaxLon: -179.100651938}, 2},
		{"west of the antimeridian, wraps", -17, -179.9, 50_000,
			geo.Rect{MinLat: -17.449660182, MinLon: 179.629793603, MaxLat: -16.550339818, MaxLon: -179.429793603}, 2},
		{"near the antimeridian, no wrap", 0, 179, 50_000,
			geo.Rect{MinLat: -0.449660182, MinLon: 178.550339818, MaxLat: 0.449660182, MaxLon: 179.449660182}, 1},
		{"5000 km", 45, 90, 5_000_000,
			geo.Rect{MinLat: 0.033981814, MinLon: 1.973719525, MaxLat: 89.966018186, MaxLon: 178.026280475}, 1},
		{"half the globe", 0, 0, 20_000_000, geo.World, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := geo.CircleBounds(tt.lat, tt.lon, tt.radiusM)
			if math.Abs(got.MinLat-tt.want.MinLat) > tol || math.Abs(got.MaxLat-tt.want.MaxLat) > tol ||
				math.Abs(got.MinLon-tt.want.MinLon) > tol || math.Abs(got.MaxLon-tt.want.MaxLon) > tol {
				t.Errorf("CircleBounds(%v, %v, %v) = %+v, want %+v ± %g°", tt.lat, tt.lon, tt.radiusM, got, tt.want, tol)
			}
			if !got.Valid() {
				t.Errorf("CircleBounds = %+v, not Valid", got)
			}
			if n := len(got.Split()); n != tt.wantSplit {
				t.Errorf("Split() has %d parts, want %d", n, tt.wantSplit)
			}
			if !got.Contains(tt.lat, tt.lon) {
				t.Errorf("CircleBounds does not contain its centre")
			}
		})
	}
}

// tangentBearing returns the bearing in degrees from lat, lon to the point of
// the circle of radius meters with the largest longitude, or NaN when the
// circle contains a pole. Points near it test the longitude reach of
// CircleBounds, the hardest part to get right.
func tangentBearing(lat, meters float64) float64 {
	phi, delta := lat*rad, meters/geo.EarthRadiusM
	sinPhiT := math.Sin(phi) / math.Cos(delta)
	if math.Abs(sinPhiT) >= 1 {
		return math.NaN()
	}
	c := (sinPhiT - math.Sin(phi)*math.Cos(delta)) / (math.Cos(phi) * math.Sin(delta))
	return math.Acos(math.Max(-1, math.Min(1, c))) / rad
}

// TestCircleBoundsComplete samples points within random circles, on and near
// their edges, and checks that the bounding rectangle contains every one that
// Distance places within the radius.
func TestCircleBoundsComplete(t *testing.T) {
	r := newRand(t)
	checked := 0
	for range 20000 {
		lat, lon := randPoint(r)
		radius := randRadius(r)
		if r.IntN(8) == 0 { // sub-metre circles
			radius = math.Pow(10, -3*r.Float64())
		}
		b := geo.CircleBounds(lat, lon, radius)
		if !b.Valid() {
			t.Fatalf("CircleBounds(%v, %v, %v) = %+v, not Valid", lat, lon, radius, b)
		}
		tb := tangentBearing(lat, radius)
		for range 30 {
			var plat, plon float64
			switch {
			case r.IntN(3) == 0 && !math.IsNaN(tb):
				bearing := tb + (r.Float64()*2-1)*math.Pow(10, -8*r.Float64())
				if r.IntN(2) == 0 {
					bearing = -bearing
				}
				d := radius * (1 - 1e-12*r.Float64())
				plat, plon = destination(lat, lon, bearing, d)
			case r.IntN(6) == 0: // due north or south: latitude reach
				plat, plon = destination(lat, lon, 180*float64(r.IntN(2)), radius)
			default:
				plat, plon = randNear(r, lat, lon, radius)
			}
			if geo.Distance(lat, lon, plat, plon) > radius {
				continue
			}
			checked++
			if !b.Contains(plat, plon) {
				t.Fatalf("CircleBounds(%v, %v, %v) = %+v misses (%v, %v) at %v m",
					lat, lon, radius, b, plat, plon, geo.Distance(lat, lon, plat, plon))
			}
			if math.Abs(plon) == 180 && !b.Contains(plat, -plon) {
				t.Fatalf("CircleBounds(%v, %v, %v) = %+v contains (%v, %v) but not (%v, %v)",
					lat, lon, radius, b, plat, plon, plat, -plon)
			}
		}
		// Tightness: latitude reach is the radius plus a hair.
		if d := radius/geo.EarthRadiusM/rad + 1e-6; b.MaxLat-lat > d || lat-b.MinLat > d {
			t.Fatalf("CircleBounds(%v, %v, %v) = %+v: latitude span too large", lat, lon, radius, b)
		}
	}
	if checked < 100000 {
		t.Fatalf("only %d points checked", checked)
	}
}

// TestCircleBoundsNearAntipode: circles as wide as the globe allows, centred
// near a pole so that their far edge falls near the other pole, close to the
// antipode of the centre. There Distance's asin is ill-conditioned and can
// place a point much more than the rectangle's margin nearer than it is;
// the rectangle must still contain every point Distance places inside.
func TestCircleBoundsNearAntipode(t *testing.T) {
	r := newRand(t)
	for range 200000 {
		lat := 90 - math.Pow(10, -10*r.Float64())
		lon := 360*r.Float64() - 180
		if r.IntN(2) == 0 {
			lat = -lat
		}
		// A point a little off the antipode, in any direction.
		alat, alon := -lat, normLon(lon+180)
		plat, plon := destination(alat, alon, 360*r.Float64(), math.Pow(10, 5*r.Float64()-2))
		radius := geo.Distance(lat, lon, plat, plon)
		if b := geo.CircleBounds(lat, lon, radius); !b.Contains(plat, plon) {
			t.Fatalf("CircleBounds(%v, %v, %v) = %+v misses (%v, %v) at %v m",
				lat, lon, radius, b, plat, plon, geo.Distance(lat, lon, plat, plon))
		}
	}
}

func TestRectWidth(t *testing.T) {
	for _, tt := range []struct {
		r    geo.Rect
		want float64
	}{
		{geo.World, 360},
		{geo.Rect{MinLon: 10, MaxLon: 30}, 20},
		{geo.Rect{MinLon: 5, MaxLon: 5}, 0},
		{geo.Rect{MinLon: 170, MaxLon: -170}, 20},
		{geo.Rect{MinLon: 180, MaxLon: -180}, 0}, // one meridian
		{geo.Rect{MinLon: -180, MaxLon: 180}, 360},
		{geo.Rect{MinLon: 10, MaxLon: 9}, 359},
	} {
		if got := tt.r.Width(); got != tt.want {
			t.Errorf("%+v.Width() = %v, want %v", tt.r, got, tt.want)
		}
	}
}
