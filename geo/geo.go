package geo

import "math"

// EarthRadiusM is the mean Earth radius in metres (IUGG R1) of the sphere
// on which every distance in nearby is measured.
const EarthRadiusM = 6371008.8

const rad = math.Pi / 180

// Valid reports whether lat is in [-90, 90] and lon in [-180, 180] degrees.
// NaN and ±Inf are invalid.
func Valid(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}

// Distance is the great-circle (haversine) distance in metres between two
// points given in degrees. It is the one distance function of the project:
// the index, the oracles in tests and the database fallback all call it, so
// answers can be compared bit for bit. Distance is symmetric.
func Distance(lat1, lon1, lat2, lon2 float64) float64 {
	return NewOrigin(lat1, lon1).Distance(lat2, lon2)
}

// Origin is a query point with its trigonometry computed once, for measuring
// many distances from it. The zero value is the point (0, 0).
type Origin struct {
	Lat, Lon float64 // degrees
	phi, lam float64 // radians
	cosPhi   float64
}

// NewOrigin returns the origin at lat, lon degrees.
func NewOrigin(lat, lon float64) Origin {
	phi := lat * rad
	return Origin{Lat: lat, Lon: lon, phi: phi, lam: lon * rad, cosPhi: math.Cos(phi)}
}

// Distance returns the great-circle distance in metres from o to lat, lon
// degrees. It returns exactly what geo.Distance(o.Lat, o.Lon, lat, lon) does.
func (o Origin) Distance(lat, lon float64) float64 {
	phi := lat * rad
	s1 := sin((phi - o.phi) / 2)
	s2 := sin((lon*rad - o.lam) / 2)
	a := s1*s1 + o.cosPhi*math.Cos(phi)*s2*s2
	if a > 1 {
		a = 1
	}
	return 2 * EarthRadiusM * asin(math.Sqrt(a))
}

// Searches measure mostly short distances, where sin and asin of small
// angles are their Taylor polynomials to well under an ulp: for |x| < 0.01
// the first omitted term is below 1e-20 relative. The polynomials are odd in
// x, so Distance stays exactly symmetric.

// sin is math.Sin, by polynomial for |x| < 0.01 rad.
func sin(x float64) float64 {
	if x > -0.01 && x < 0.01 {
		x2 := x * x
		return x - x*x2*(1.0/6-x2*(1.0/120-x2*(1.0/5040)))
	}
	return math.Sin(x)
}

// asin is math.Asin for x in [0, 1], by polynomial for x < 0.01.
func asin(x float64) float64 {
	if x < 0.01 {
		x2 := x * x
		return x + x*x2*(1.0/6+x2*(3.0/40+x2*(5.0/112)))
	}
	return math.Asin(x)
}

// The haversine of the central angle, a = sin²(Δφ/2) + cosφ₁cosφ₂sin²(Δλ/2),
// grows monotonically with distance. The functions below bound it from below
// with polynomials only, so an index can discard entries and cells without
// calling a trigonometric function, and call Distance for the few it keeps.

// HavBound converts a distance bound in metres (≥ 0) into haversine space: any
// point whose true distance is ≤ meters has a haversine ≤ HavBound(meters).
// Margins absorb floating-point rounding, so comparisons against it never
// discard a point that Distance would place within meters. The margin is
// relative (1e-9) and absolute (4e-15 in sin(d/2R), about 25 nm): Distance
// rounds lat·π/180 and lon·π/180 before subtracting them, which puts an
// absolute error of up to about 1e-15 in sin(d/2R) (the most across the
// antimeridian, where the longitudes in radians are near ±π); a relative
// margin alone does not cover that for short distances.
func HavBound(meters float64) float64 {
	h := meters / (2 * EarthRadiusM)
	if h >= math.Pi/2 {
		return math.Inf(1)
	}
	// Below 0.1 rad (1274 km) the Taylor polynomial h - h³/6 + h⁵/120, an
	// upper bound of sin(h) within h⁷/5040 (< 3e-11 relative), spares the
	// search radii of everyday queries a call to math.Sin.
	var s float64
	if h < 0.1 {
		h2 := h * h
		s = h * (1 - h2/6 + h2*h2/120)
	} else {
		s = math.Sin(h)
	}
	s = s*(1+1e-9) + 4e-15
	return s * s
}

// HavInner is the counterpart of HavBound: a haversine value below which
// Distance is sure to give at most meters, whatever its rounding. The
// margins mirror HavBound's, taken off instead of added. Below about 50 nm
// nothing is sure, not even a haversine of 0 (Distance from longitude 180
// to -180 is up to 1.6e-9 m, not 0), and HavInner returns -1.
func HavInner(meters float64) float64 {
	h := meters / (2 * EarthRadiusM)
	if h >= math.Pi/2 {
		return 1
	}
	s := math.Sin(h)*(1-1e-9) - 4e-15
	if s <= 0 {
		return -1
	}
	return s * s
}

// sinLB is a lower bound of sin(h) for h in [0, π/2]: h - h³/6.
func sinLB(h float64) float64 { return h - h*h*h/6 }

// cosLB is a lower bound of cos(x) for x in [-π/2, π/2], never negative:
// the Taylor series cut after a negative term.
func cosLB(x float64) float64 {
	x2 := x * x
	c := 1 - x2/2 + x2*x2/24 - x2*x2*x2/720
	if c < 0 {
		return 0
	}
	return c
}

// HavLowerBound returns a lower bound of the haversine from o to the point
// lat, lon degrees: cheap (no trigonometry), and ≤ the true value.
func (o Origin) HavLowerBound(lat, lon float64) float64 {
	dLat := math.Abs(lat-o.Lat) * rad
	dLon := math.Abs(lon - o.Lon)
	if dLon > 180 {
		dLon = 360 - dLon
	}
	s1 := sinLB(dLat / 2)
	s2 := sinLB(dLon * rad / 2)
	return s1*s1 + o.cosPhi*cosLB(lat*rad)*s2*s2
}

// RectHavLowerBound returns a lower bound of the haversine from o to every
// point of the rectangle [minLat, maxLat] × [minLon, maxLon] degrees, which
// must not cross the antimeridian (minLon ≤ maxLon). It is 0 when o is inside.
// Longitude gaps are measured around the globe, so a rectangle just east of
// -180° is near an origin just west of 180°. A rectangle reaching a pole is
// still bounded by its longitude gap: no point dLon away in longitude is
// nearer than the half meridian at that gap.
func (o Origin) RectHavLowerBound(minLat, minLon, maxLat, maxLon float64) float64 {
	var dLat float64
	switch {
	case o.Lat < minLat:
		dLat = minLat - o.Lat
	case o.Lat > maxLat:
		dLat = o.Lat - maxLat
	}
	var dLon float64
	if o.Lon < minLon || o.Lon > maxLon {
		dLon = math.Min(lonGap(o.Lon, minLon), lonGap(o.Lon, maxLon))
	}
	s1 := sinLB(dLat * rad / 2)
	if dLon == 0 {
		return s1 * s1
	}
	s2 := sinLB(dLon * rad / 2)
	m := math.Max(math.Abs(minLat), math.Abs(maxLat))
	cosM := cosLB(m * rad)
	a := s1*s1 + o.cosPhi*cosM*s2*s2
	if cosM < o.cosPhi/2 {
		// cos m is well below cos φ₀, and 0 for a rectangle reaching a
		// pole: the bound above then weakens, or forgets the longitude gap
		// (above half of cos φ₀, it is within about a factor 2 of the
		// bound below, not worth a square root). Whatever
		// the latitude, a point dLon away in longitude is at least the
		// distance d from o to that meridian's half great circle: sin d =
		// cosφ₀·sin dLon up to dLon = 90°, then 90° − |φ₀| (the nearer
		// pole). Its haversine, (1 − cos d)/2 = c²/(2(1 + √(1 − c²))) with
		// c = sin d, grows with c, so a lower bound of c gives one of it.
		// Near c = 1 (φ₀ near 0, then c is cosφ₀ itself) √(1 − c²) is ill
		// conditioned: 1 − c·c is rounded by up to about 2e-16, and its
		// root by up to 1.5e-8, more than HavBound's margins. The 1e-15
		// added keeps the root, and so the denominator, at or above its
		// true value.
		c := o.cosPhi
		if dLon < 90 {
			c *= sinLB(dLon * rad)
		}
		a = max(a, c*c/(2*(1+math.Sqrt(1-c*c+1e-15))))
	}
	return a
}

// RectHavUpperBound returns an upper bound of the haversine from o to every
// point of the rectangle [minLat, maxLat] × [minLon, maxLon] degrees, which
// must not cross the antimeridian (minLon ≤ maxLon): the largest latitude
// gap, the largest longitude gap (around the globe) and the largest cosine
// of a latitude of the rectangle, each taken alone, with a relative margin
// for rounding. Compare it with HavInner.
func (o Origin) RectHavUpperBound(minLat, minLon, maxLat, maxLon float64) float64 {
	dLat := math.Max(math.Abs(o.Lat-minLat), math.Abs(o.Lat-maxLat))
	dLon := math.Max(lonGap(o.Lon, minLon), lonGap(o.Lon, maxLon))
	anti := o.Lon - 180 // the meridian opposite o, as -180..0 and 0..180
	if anti >= minLon && anti <= maxLon || anti+360 >= minLon && anti+360 <= maxLon {
		dLon = 180
	}
	cosMax := 1.0
	if minLat > 0 || maxLat < 0 {
		cosMax = math.Cos(math.Min(math.Abs(minLat), math.Abs(maxLat)) * rad)
	}
	s1 := math.Sin(dLat * rad / 2)
	s2 := math.Sin(dLon * rad / 2)
	return (s1*s1 + o.cosPhi*cosMax*s2*s2) * (1 + 1e-9)
}

// lonGap is the angular difference in degrees between two longitudes, in [0, 180].
func lonGap(a, b float64) float64 {
	d := math.Abs(a - b)
	if d > 180 {
		d = 360 - d
	}
	return d
}
