package geo

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
)

// Point is a position in WGS84 degrees.
type Point struct {
	Lat, Lon float64
}

// Polygon is an area of the lon/lat plane bounded by rings: by GeoJSON
// convention Rings[0] is the outer ring and the others are holes, but every
// ring counts alike (see MultiPolygon).
type Polygon struct {
	Rings [][]Point
}

// MultiPolygon is the area of a GeoJSON Polygon or MultiPolygon: the union of
// its polygons. ParseGeoJSON returns one satisfying these rules, which a
// MultiPolygon built by hand must satisfy too:
//   - A ring is at least 4 positions, the last equal to the first, each a
//     valid coordinate (Valid). It has no edge spanning more than 180° of
//     longitude: a shape across the antimeridian is split there into a
//     MultiPolygon (RFC 7946 §3.1.9), one part ending at 180 and the other
//     starting at -180, as GeoJSON writers do.
//   - Edges are straight lines in the lon/lat plane (RFC 7946 §3.1.1), not
//     great circles, and a point is in a polygon by the even-odd rule over
//     all its rings: a hole removes what it covers, a hole in a hole adds it
//     back, and self-intersecting rings are not rejected but decided the
//     same way. Ring orientation (winding) does not matter.
//   - Polygons are closed sets: a point on an edge or a vertex, of an outer
//     ring or a hole, is inside. Contains decides this exactly, with no
//     rounding error, and RelateRect agrees with it.
//   - A MultiPolygon is at most MaxPolygons polygons and MaxVertices
//     positions in all, so the work of a query is bounded.
//   - Longitudes -180 and 180 are distinct in the plane: a point at -180 is
//     inside only if the shape touches -180.
//
// A MultiPolygon is read-only after parsing and safe for concurrent use.
type MultiPolygon []Polygon

// Limits of ParseGeoJSON, which reads untrusted request bodies.
const (
	MaxGeoJSONBytes = 1 << 20
	MaxPolygons     = 100
	MaxVertices     = 10_000 // positions of all rings, closing ones included
)

// ErrInvalidPolygon is wrapped by every error of ParseGeoJSON.
var ErrInvalidPolygon = errors.New("geo: invalid polygon")

// invalid returns an error wrapping ErrInvalidPolygon.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPolygon}, args...)...)
}

// geometry is a GeoJSON geometry object, its coordinates decoded once the
// type is known.
type geometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// ParseGeoJSON decodes a GeoJSON geometry object (RFC 7946) of type "Polygon"
// or "MultiPolygon". Positions are [longitude, latitude] in degrees; further
// elements (altitude) are ignored, as are members other than "type" and
// "coordinates". A Feature is not unwrapped: send its geometry. The result
// satisfies the rules of MultiPolygon; an input that does not, or is longer
// than MaxGeoJSONBytes, gives an error wrapping ErrInvalidPolygon that says
// what is wrong and where, e.g. "polygon 0 ring 1: not closed".
func ParseGeoJSON(data []byte) (MultiPolygon, error) {
	if len(data) > MaxGeoJSONBytes {
		return nil, invalid("%d bytes, more than %d", len(data), MaxGeoJSONBytes)
	}
	var g geometry
	if err := json.Unmarshal(data, &g); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolygon, err)
	}
	// Numbers by pointer: encoding/json reads null into a float64 as 0,
	// which would put a vertex at [0, 0] without a word.
	var coords [][][][]*float64
	var err error
	switch g.Type {
	case "Polygon":
		var rings [][][]*float64
		err = json.Unmarshal(g.Coordinates, &rings)
		coords = [][][][]*float64{rings}
	case "MultiPolygon":
		err = json.Unmarshal(g.Coordinates, &coords)
	case "":
		return nil, invalid("no type")
	default:
		return nil, invalid("type %q, want a Polygon or MultiPolygon geometry", g.Type)
	}
	switch {
	case len(g.Coordinates) == 0:
		return nil, invalid("no coordinates")
	case err != nil:
		return nil, fmt.Errorf("%w: coordinates: %w", ErrInvalidPolygon, err)
	}
	m := make(MultiPolygon, len(coords))
	for i, rings := range coords {
		m[i].Rings = make([][]Point, len(rings))
		for j, ring := range rings {
			m[i].Rings[j] = make([]Point, len(ring))
			for k, pos := range ring {
				if len(pos) < 2 {
					return nil, invalid("polygon %d ring %d position %d: %d numbers, want [lon, lat]", i, j, k, len(pos))
				}
				if pos[0] == nil || pos[1] == nil {
					return nil, invalid("polygon %d ring %d position %d: null, want [lon, lat] numbers", i, j, k)
				}
				m[i].Rings[j][k] = Point{Lat: *pos[1], Lon: *pos[0]}
			}
		}
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// check reports the first rule of MultiPolygon that m breaks.
func (m MultiPolygon) check() error {
	switch {
	case len(m) == 0:
		return invalid("no polygons")
	case len(m) > MaxPolygons:
		return invalid("%d polygons, more than %d", len(m), MaxPolygons)
	}
	n := 0
	for i, p := range m {
		if len(p.Rings) == 0 {
			return invalid("polygon %d: no rings", i)
		}
		for j, ring := range p.Rings {
			if n += len(ring); n > MaxVertices {
				return invalid("more than %d positions", MaxVertices)
			}
			if len(ring) < 4 {
				return invalid("polygon %d ring %d: %d positions, want at least 4", i, j, len(ring))
			}
			for k, q := range ring {
				if !Valid(q.Lat, q.Lon) {
					return invalid("polygon %d ring %d position %d: [%v, %v] is not a valid [lon, lat]", i, j, k, q.Lon, q.Lat)
				}
				if k > 0 && math.Abs(q.Lon-ring[k-1].Lon) > 180 {
					return invalid("polygon %d ring %d: edge from [%v, %v] to [%v, %v] spans more than 180° of longitude; "+
						"split the shape at the antimeridian into a MultiPolygon (RFC 7946 §3.1.9)",
						i, j, ring[k-1].Lon, ring[k-1].Lat, q.Lon, q.Lat)
				}
			}
			if first, last := ring[0], ring[len(ring)-1]; first != last {
				return invalid("polygon %d ring %d: not closed: first position [%v, %v], last [%v, %v]",
					i, j, first.Lon, first.Lat, last.Lon, last.Lat)
			}
		}
	}
	return nil
}

// Contains reports whether the point lat, lon degrees is in m, its boundary
// included. An invalid point (see Valid) is in no MultiPolygon.
func (m MultiPolygon) Contains(lat, lon float64) bool {
	if !Valid(lat, lon) {
		return false
	}
	p := Point{Lat: lat, Lon: lon}
	for _, poly := range m {
		if poly.contains(p) {
			return true
		}
	}
	return false
}

// contains reports whether p is on a ring of poly or crosses its rings an odd
// number of times going east. An edge counts when p.Lat is in the half-open
// latitude range [low end, high end), so a ray through a vertex counts it
// once, or twice at a local extremum, and horizontal edges never. An edge
// whose latitudes do not reach p.Lat neither holds p nor counts.
func (poly Polygon) contains(p Point) bool {
	in := false
	for _, ring := range poly.Rings {
		if len(ring) == 0 {
			continue
		}
		a := ring[len(ring)-1] // an edge from the last position closes rings built by hand
		for _, b := range ring {
			// As in bandedPolygon.contains: the common cases inline.
			crosses := (a.Lat > p.Lat) != (b.Lat > p.Lat)
			switch {
			case p.Lon > max(a.Lon, b.Lon): // the edge is west of p
			case p.Lon < min(a.Lon, b.Lon):
				in = in != crosses
			case crosses || p.Lat >= min(a.Lat, b.Lat) && p.Lat <= max(a.Lat, b.Lat):
				on, flip := inEdgeBox(a, b, p, crosses)
				if on {
					return true
				}
				in = in != flip
			}
			a = b
		}
	}
	return in
}

// inEdgeBox tells, for p in the bounding box of the edge a→b, whether p is
// on it, and else whether it flips contains' count (crosses: the edge
// spans p's latitude as contains counts it).
func inEdgeBox(a, b, p Point, crosses bool) (on, flip bool) {
	o := orient(a, b, p)
	if o == 0 {
		return true, false
	}
	return false, crosses && (o > 0) == (b.Lat > a.Lat)
}

// orientErr bounds the relative error of the float64 determinant in orient:
// ccwerrboundA of J. R. Shewchuk, "Adaptive Precision Floating-Point
// Arithmetic and Fast Robust Geometric Predicates" (1997).
const orientErr = (3 + 16*0x1p-53) * 0x1p-53

// orient returns +1 if c is left of the directed line a→b in the lon/lat
// plane (lon as x, lat as y), -1 if right, 0 if on it. The sign is exact
// for coordinates within ±180: float64 arithmetic decides when its error
// bound allows, and exact arithmetic the rest (nearly collinear points, as
// on a diagonal edge).
func orient(a, b, c Point) int {
	dx1, dy1, dx2, dy2 := b.Lon-a.Lon, b.Lat-a.Lat, c.Lon-a.Lon, c.Lat-a.Lat
	// A difference is zero, and has its sign, exactly: so a product with a
	// zero factor is exactly zero, and the other product has the sign of its
	// factors. This keeps axis-aligned edges, and points level with
	// vertices, off the slow path.
	switch {
	case dy1 == 0 || dx2 == 0:
		return cmp.Compare(dx1, 0) * cmp.Compare(dy2, 0)
	case dx1 == 0 || dy2 == 0:
		return -cmp.Compare(dy1, 0) * cmp.Compare(dx2, 0)
	}
	l, r := dx1*dy2, dy1*dx2
	det := l - r
	// The absolute term covers products that underflow.
	bound := orientErr*(math.Abs(l)+math.Abs(r)) + 0x1p-1000
	switch {
	case det > bound:
		return 1
	case det < -bound:
		return -1
	}
	return orientExact(a, b, c)
}

// orientExact is orient in exact arithmetic: a difference of two float64
// degrees (below 2^8, above 2^-1075 unless 0) is exact in 1083 bits, and
// a product of two differences in twice that.
func orientExact(a, b, c Point) int {
	const prec = 2 * 1083
	var x [6]big.Float
	for i, v := range [6]float64{a.Lon, a.Lat, b.Lon, b.Lat, c.Lon, c.Lat} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0 // ParseGeoJSON rejects them; Contains rejects them in points
		}
		x[i].SetPrec(prec).SetFloat64(v)
	}
	var l, r big.Float
	l.SetPrec(prec).Mul(x[2].Sub(&x[2], &x[0]), x[5].Sub(&x[5], &x[1])) // (b.Lon-a.Lon)(c.Lat-a.Lat)
	r.SetPrec(prec).Mul(x[3].Sub(&x[3], &x[1]), x[4].Sub(&x[4], &x[0])) // (b.Lat-a.Lat)(c.Lon-a.Lon)
	return l.Cmp(&r)
}

// Bounds returns the smallest rectangle containing m. It never crosses the
// antimeridian (MinLon ≤ MaxLon). An empty MultiPolygon has bounds that
// contain no point (MinLat > MaxLat).
func (m MultiPolygon) Bounds() Rect {
	b := Rect{MinLat: math.Inf(1), MinLon: math.Inf(1), MaxLat: math.Inf(-1), MaxLon: math.Inf(-1)}
	for _, poly := range m {
		for _, ring := range poly.Rings {
			for _, p := range ring {
				b.MinLat, b.MaxLat = min(b.MinLat, p.Lat), max(b.MaxLat, p.Lat)
				b.MinLon, b.MaxLon = min(b.MinLon, p.Lon), max(b.MaxLon, p.Lon)
			}
		}
	}
	return b
}

// Relation is how a rectangle lies with respect to a MultiPolygon. The zero
// Relation is Partial, the answer that is never wrong.
type Relation int

// Relations of RelateRect.
const (
	Partial  Relation = iota // some points of the rectangle may be inside, some outside
	Disjoint                 // no point of the rectangle is inside
	Inside                   // every point of the rectangle is inside
)

// String returns the name of r.
func (r Relation) String() string {
	switch r {
	case Partial:
		return "Partial"
	case Disjoint:
		return "Disjoint"
	case Inside:
		return "Inside"
	}
	return fmt.Sprintf("Relation(%d)", int(r))
}

// RelateRect tells how the rectangle r, edges included, lies with respect to
// m, for pruning an index: Disjoint means Contains is false at every point of
// r, Inside that it is true at every point; both are decided exactly. The
// answer is Partial otherwise, and also, conservatively, when r is inside
// but only by the union of several polygons, when a ring touches r without
// entering it, and when r is invalid (see Rect.Valid). A rectangle crossing
// the antimeridian (MinLon > MaxLon) is related in its two parts. RelateRect
// reads every edge of m, checking each against r's bounds first; m's
// PolygonIndex reads fewer.
func (m MultiPolygon) RelateRect(r Rect) Relation {
	return relateRect(r, len(m), func(i int, r Rect) Relation { return m[i].relate(r) })
}

// relateRect is RelateRect for n polygons, relate telling how r, not
// crossing the antimeridian, lies with respect to polygon i.
func relateRect(r Rect, n int, relate func(i int, r Rect) Relation) Relation {
	if !r.Valid() {
		return Partial
	}
	all := func(r Rect) Relation {
		rel := Disjoint
		for i := range n {
			switch relate(i, r) {
			case Inside:
				return Inside
			case Partial:
				rel = Partial
			}
		}
		return rel
	}
	if r.MinLon > r.MaxLon {
		parts := r.Split()
		if a := all(parts[0]); a == all(parts[1]) {
			return a
		}
		return Partial
	}
	return all(r)
}

// relate is Partial if a ring of poly touches r. Otherwise r, being
// connected, lies in one face of the rings: all inside or all outside, as
// its corner is.
func (poly Polygon) relate(r Rect) Relation {
	for _, ring := range poly.Rings {
		if len(ring) == 0 {
			continue
		}
		a := ring[len(ring)-1]
		for _, b := range ring {
			if segmentMeetsRect(a, b, r) {
				return Partial
			}
			a = b
		}
	}
	if poly.contains(Point{Lat: r.MinLat, Lon: r.MinLon}) {
		return Inside
	}
	return Disjoint
}

// segmentMeetsRect reports whether the segment a–b has a point in r, edges
// included, exactly. By the separating axis theorem two convex sets are
// disjoint only if an axis separates them: here the lon axis, the lat axis
// or the normal of the segment, when r's corners are all strictly on one
// side of its line.
func segmentMeetsRect(a, b Point, r Rect) bool {
	if max(a.Lon, b.Lon) < r.MinLon || min(a.Lon, b.Lon) > r.MaxLon ||
		max(a.Lat, b.Lat) < r.MinLat || min(a.Lat, b.Lat) > r.MaxLat {
		return false
	}
	if r.Contains(a.Lat, a.Lon) || r.Contains(b.Lat, b.Lon) {
		return true
	}
	s := orient(a, b, Point{Lat: r.MinLat, Lon: r.MinLon})
	for _, c := range [3]Point{{r.MinLat, r.MaxLon}, {r.MaxLat, r.MinLon}, {r.MaxLat, r.MaxLon}} {
		if orient(a, b, c) != s {
			return true
		}
	}
	return s == 0
}

// MarshalJSON writes m as a GeoJSON MultiPolygon geometry that
// ParseGeoJSON reads back to m exactly (numbers in their shortest exact
// form, closing positions kept).
func (m MultiPolygon) MarshalJSON() ([]byte, error) {
	coords := make([][][][2]float64, len(m))
	for i, p := range m {
		coords[i] = make([][][2]float64, len(p.Rings))
		for j, ring := range p.Rings {
			coords[i][j] = make([][2]float64, len(ring))
			for k, pt := range ring {
				coords[i][j][k] = [2]float64{pt.Lon, pt.Lat}
			}
		}
	}
	return json.Marshal(struct {
		Type        string           `json:"type"`
		Coordinates [][][][2]float64 `json:"coordinates"`
	}{"MultiPolygon", coords})
}
