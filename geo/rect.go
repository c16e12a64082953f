package geo

import "math"

// Rect is a latitude/longitude rectangle in degrees, edges included.
// MinLat ≤ MaxLat. A rectangle with MinLon > MaxLon crosses the antimeridian:
// it spans MinLon..180 and -180..MaxLon. As for polygons, longitudes -180
// and 180 are distinct here: a point at -180 is inside only if r reaches
// -180 (a rectangle from 170 to -180 takes both).
type Rect struct {
	MinLat, MinLon, MaxLat, MaxLon float64
}

// World is the rectangle covering the whole globe.
var World = Rect{MinLat: -90, MinLon: -180, MaxLat: 90, MaxLon: 180}

// Valid reports whether r's corners are valid coordinates and MinLat ≤ MaxLat.
func (r Rect) Valid() bool {
	return Valid(r.MinLat, r.MinLon) && Valid(r.MaxLat, r.MaxLon) && r.MinLat <= r.MaxLat
}

// Contains reports whether the point lat, lon degrees lies in r.
func (r Rect) Contains(lat, lon float64) bool {
	if lat < r.MinLat || lat > r.MaxLat {
		return false
	}
	if r.MinLon <= r.MaxLon {
		return lon >= r.MinLon && lon <= r.MaxLon
	}
	return lon >= r.MinLon || lon <= r.MaxLon
}

// Width returns r's span of longitude in degrees, eastward from MinLon to
// MaxLon: across the antimeridian if r crosses it. It is 0 for a
// rectangle of no width, including one from 180 to -180 (one meridian).
func (r Rect) Width() float64 {
	if r.MinLon > r.MaxLon {
		return r.MaxLon - r.MinLon + 360
	}
	return r.MaxLon - r.MinLon
}

// Centre returns the middle of r, across the antimeridian if r crosses it.
func (r Rect) Centre() (lat, lon float64) {
	lon = r.MinLon + r.Width()/2
	if lon > 180 {
		lon -= 360
	}
	return (r.MinLat + r.MaxLat) / 2, lon
}

// Split returns r as one or two rectangles that do not cross the antimeridian.
func (r Rect) Split() []Rect {
	if r.MinLon <= r.MaxLon {
		return []Rect{r}
	}
	return []Rect{
		{MinLat: r.MinLat, MinLon: r.MinLon, MaxLat: r.MaxLat, MaxLon: 180},
		{MinLat: r.MinLat, MinLon: -180, MaxLat: r.MaxLat, MaxLon: r.MaxLon},
	}
}

// CircleBounds returns a rectangle containing every point within radiusM
// metres of lat, lon degrees. Near a pole the circle may contain the pole; the
// rectangle then spans every longitude and is clamped at ±90°. A circle that
// crosses the antimeridian gives a rectangle with MinLon > MaxLon (see Split).
// The rectangle is widened by a hair so that rounding never excludes a point
// that Distance places inside the circle. A circle reaching within 0.1° of
// the antipode of its centre gives World.
func CircleBounds(lat, lon, radiusM float64) Rect {
	const margin = 1e-9 // degrees, about 0.1 mm
	d := radiusM/EarthRadiusM/rad + margin
	if d > 180-0.1 {
		// Near the antipode Distance's asin is ill-conditioned: it can
		// measure a point at angle θ up to about 1e-13°/sin θ short, more
		// than the margin within 0.01° of 180°.
		return World
	}
	r := Rect{MinLat: lat - d, MaxLat: lat + d, MinLon: -180, MaxLon: 180}
	if r.MinLat <= -90 || r.MaxLat >= 90 {
		r.MinLat = math.Max(r.MinLat, -90)
		r.MaxLat = math.Min(r.MaxLat, 90)
		return r
	}
	// Widest longitude reach of a small circle: asin(sin δ / cos φ), see
	// J. P. Matuschek, "Finding Points Within a Distance of a Latitude/Longitude
	// Using Bounding Coordinates".
	s := math.Sin(d*rad) / math.Cos(lat*rad)
	if s >= 1 {
		return r
	}
	dLon := math.Asin(s)/rad + margin
	if dLon >= 180 {
		return r
	}
	r.MinLon, r.MaxLon = lon-dLon, lon+dLon
	if r.MinLon < -180 {
		r.MinLon += 360
	}
	if r.MaxLon > 180 {
		r.MaxLon -= 360
	}
	return r
}
