package geo_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/nearby/nearby/geo"
)

// closedRing builds a closed ring from lon, lat pairs, GeoJSON order.
func closedRing(lonLat ...float64) []geo.Point {
	var r []geo.Point
	for i := 0; i+1 < len(lonLat); i += 2 {
		r = append(r, geo.Point{Lat: lonLat[i+1], Lon: lonLat[i]})
	}
	return append(r, r[0])
}

// square is the closed ring of the square [lon0, lon1] × [lat0, lat1].
func square(lon0, lat0, lon1, lat1 float64) []geo.Point {
	return closedRing(lon0, lat0, lon1, lat0, lon1, lat1, lon0, lat1)
}

// encodeGeoJSON writes m as a GeoJSON MultiPolygon.
func encodeGeoJSON(t testing.TB, m geo.MultiPolygon) []byte {
	t.Helper()
	coords := make([][][][]float64, len(m))
	for i, p := range m {
		coords[i] = make([][][]float64, len(p.Rings))
		for j, r := range p.Rings {
			for _, q := range r {
				coords[i][j] = append(coords[i][j], []float64{q.Lon, q.Lat})
			}
		}
	}
	b, err := json.Marshal(map[string]any{"type": "MultiPolygon", "coordinates": coords})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The oracle decides containment exactly, in rational arithmetic, and
// differently from Contains: by the crossings of a ray going north (an edge
// counts when the point's longitude is in [low end, high end)), at the
// latitude where the edge meets the point's meridian.

// exact is v as a rational number.
func exact(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }

// onSegment reports whether p is on the segment a–b.
func onSegment(a, b, p geo.Point) bool {
	if p.Lon < min(a.Lon, b.Lon) || p.Lon > max(a.Lon, b.Lon) || p.Lat < min(a.Lat, b.Lat) || p.Lat > max(a.Lat, b.Lat) {
		return false
	}
	l := new(big.Rat).Mul(new(big.Rat).Sub(exact(b.Lon), exact(a.Lon)), new(big.Rat).Sub(exact(p.Lat), exact(a.Lat)))
	r := new(big.Rat).Mul(new(big.Rat).Sub(exact(b.Lat), exact(a.Lat)), new(big.Rat).Sub(exact(p.Lon), exact(a.Lon)))
	return l.Cmp(r) == 0
}

// oracleContains reports whether p is in m: on a ring of a polygon, or inside
// an odd number of its rings.
func oracleContains(m geo.MultiPolygon, p geo.Point) bool {
	for _, poly := range m {
		odd := false
		for _, r := range poly.Rings {
			for k := 1; k < len(r); k++ {
				a, b := r[k-1], r[k]
				if onSegment(a, b, p) {
					return true
				}
				if (a.Lon <= p.Lon) == (b.Lon <= p.Lon) {
					continue
				}
				// lat = a.Lat + (p.Lon-a.Lon)(b.Lat-a.Lat)/(b.Lon-a.Lon)
				lat := new(big.Rat).Sub(exact(p.Lon), exact(a.Lon))
				lat.Mul(lat, new(big.Rat).Sub(exact(b.Lat), exact(a.Lat)))
				lat.Quo(lat, new(big.Rat).Sub(exact(b.Lon), exact(a.Lon)))
				lat.Add(lat, exact(a.Lat))
				if lat.Cmp(exact(p.Lat)) > 0 {
					odd = !odd
				}
			}
		}
		if odd {
			return true
		}
	}
	return false
}

func onBoundary(m geo.MultiPolygon, p geo.Point) bool {
	for _, poly := range m {
		for _, r := range poly.Rings {
			for k := 1; k < len(r); k++ {
				if onSegment(r[k-1], r[k], p) {
					return true
				}
			}
		}
	}
	return false
}

// shape is the random region a test draws a MultiPolygon in.
type shape struct {
	lat, lon, size float64 // centre and radius in degrees
	grid           float64 // if not 0, every coordinate is a multiple of it
}

func randShape(r *rand.Rand) shape {
	s := shape{size: math.Pow(10, -5+6.7*r.Float64())} // 10 µ° to 50°
	s.lat, s.lon = randPoint(r)
	if r.IntN(2) == 0 {
		// A power of two, so that midpoints of edges are exact.
		s.grid = math.Ldexp(1, int(math.Floor(math.Log2(s.size)))-r.IntN(4))
	}
	return s
}

// point returns the point at offset (dlat, dlon) radii from the centre,
// snapped to the grid, clamped to valid coordinates.
func (s shape) point(dlat, dlon float64) geo.Point {
	lat, lon := s.lat+dlat*s.size, s.lon+dlon*s.size
	if s.grid != 0 {
		lat, lon = math.Round(lat/s.grid)*s.grid, math.Round(lon/s.grid)*s.grid
	}
	return geo.Point{Lat: max(-90, min(90, lat)), Lon: max(-180, min(180, lon))}
}

// ring returns a closed ring around offset (clat, clon) of radius rad: a
// star-shaped (often concave) ring, or sometimes a self-intersecting one.
func (s shape) ring(r *rand.Rand, clat, clon, rad float64) []geo.Point {
	n := 3 + r.IntN(12)
	var ps []geo.Point
	if r.IntN(5) == 0 {
		for range n {
			ps = append(ps, s.point(clat+rad*(2*r.Float64()-1), clon+rad*(2*r.Float64()-1)))
		}
	} else {
		for i := range n {
			theta := 2 * math.Pi * (float64(i) + 0.8*r.Float64()) / float64(n)
			d := rad * (0.3 + 0.7*r.Float64())
			ps = append(ps, s.point(clat+d*math.Sin(theta), clon+d*math.Cos(theta)))
		}
	}
	return append(ps, ps[0])
}

// randMultiPolygon returns 1–3 polygons of 0–2 holes each in s.
func randMultiPolygon(r *rand.Rand, s shape) geo.MultiPolygon {
	m := make(geo.MultiPolygon, 1+r.IntN(3))
	for i := range m {
		clat, clon := 2*r.Float64()-1, 2*r.Float64()-1
		rad := 0.3 + 0.7*r.Float64()
		m[i].Rings = append(m[i].Rings, s.ring(r, clat, clon, rad))
		for range r.IntN(3) {
			// Usually inside the outer ring's inner radius, sometimes anywhere.
			hr := rad * 0.25 * r.Float64()
			hlat, hlon := clat+0.05*rad*(2*r.Float64()-1), clon+0.05*rad*(2*r.Float64()-1)
			if r.IntN(4) == 0 {
				hlat, hlon = 2*r.Float64()-1, 2*r.Float64()-1
			}
			m[i].Rings = append(m[i].Rings, s.ring(r, hlat, hlon, hr))
		}
	}
	return m
}

// probes returns points to test m with: random ones around it, its vertices,
// points on and near its edges, and points level with its vertices.
func probes(r *rand.Rand, s shape, m geo.MultiPolygon) []geo.Point {
	var ps []geo.Point
	for range 50 {
		ps = append(ps, s.point(2.5*r.Float64()-1.25, 2.5*r.Float64()-1.25))
	}
	for _, poly := range m {
		for _, rg := range poly.Rings {
			for k := 1; k < len(rg); k++ {
				a, b := rg[k-1], rg[k]
				t := r.Float64()
				ps = append(ps, a,
					geo.Point{Lat: (a.Lat + b.Lat) / 2, Lon: (a.Lon + b.Lon) / 2},
					geo.Point{Lat: a.Lat + t*(b.Lat-a.Lat), Lon: a.Lon + t*(b.Lon-a.Lon)},
					geo.Point{Lat: a.Lat, Lon: s.point(0, 2.5*r.Float64()-1.25).Lon},
					geo.Point{Lat: s.point(2.5*r.Float64()-1.25, 0).Lat, Lon: a.Lon},
					geo.Point{Lat: math.Nextafter(a.Lat, 91), Lon: a.Lon})
			}
		}
	}
	return ps
}

func TestContainsTable(t *testing.T) {
	donut := geo.MultiPolygon{{Rings: [][]geo.Point{square(0, 0, 4, 4), square(1, 1, 3, 3)}}}
	// A U: concave, open to the north between lon 1 and 2.
	u := geo.MultiPolygon{{Rings: [][]geo.Point{closedRing(0, 0, 3, 0, 3, 3, 2, 3, 2, 1, 1, 1, 1, 3, 0, 3)}}}
	// Fiji-like: a shape across the antimeridian, split there.
	split := geo.MultiPolygon{
		{Rings: [][]geo.Point{square(179, -18, 180, -16)}},
		{Rings: [][]geo.Point{square(-180, -18, -179, -16)}},
	}
	// A bow tie: self-intersecting, decided by the even-odd rule.
	bowtie := geo.MultiPolygon{{Rings: [][]geo.Point{closedRing(0, 0, 2, 2, 2, 0, 0, 2)}}}
	tests := []struct {
		name     string
		m        geo.MultiPolygon
		lat, lon float64
		want     bool
	}{
		{"donut ring", donut, 0.5, 0.5, true},
		{"donut hole", donut, 2, 2, false},
		{"donut outside", donut, 5, 2, false},
		{"donut outer edge", donut, 0, 2, true},
		{"donut outer vertex", donut, 4, 4, true},
		{"donut hole edge", donut, 2, 1, true},
		{"donut hole vertex", donut, 3, 3, true},
		{"donut just inside hole", donut, 2, math.Nextafter(1, 2), false},
		{"donut just outside", donut, math.Nextafter(4, 5), 2, false},
		{"donut level with vertices", donut, 1, 0.5, true},
		{"donut level with hole vertices, in hole", donut, 1.5, 2, false},
		{"U notch", u, 2, 1.5, false},
		{"U arm", u, 2, 0.5, true},
		{"U base", u, 0.5, 1.5, true},
		{"U notch floor", u, 1, 1.5, true},
		{"U level with notch floor", u, 1, 2.5, true},
		{"U above", u, 3.5, 0.5, false},
		{"split east", split, -17, 179.5, true},
		{"split west", split, -17, -179.5, true},
		{"split on 180", split, -17, 180, true},
		{"split on -180", split, -17, -180, true},
		{"split between", split, -17, 0, false},
		{"bowtie left wing", bowtie, 1, 0.5, true},
		{"bowtie top", bowtie, 1.5, 1, false},
		{"bowtie crossing", bowtie, 1, 1, true},
		{"invalid NaN", donut, math.NaN(), 1, false},
		{"invalid lat", donut, 91, 1, false},
		{"empty", nil, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Contains(tt.lat, tt.lon); got != tt.want {
				t.Errorf("Contains(%v, %v) = %v, want %v", tt.lat, tt.lon, got, tt.want)
			}
			if p := (geo.Point{Lat: tt.lat, Lon: tt.lon}); geo.Valid(tt.lat, tt.lon) && oracleContains(tt.m, p) != tt.want {
				t.Errorf("oracle disagrees with the table at %v", p)
			}
		})
	}
}

// TestContainsSliver checks points computed on a diagonal edge, which are
// off it by rounding: Contains must decide them exactly, as the oracle does.
func TestContainsSliver(t *testing.T) {
	r := newRand(t)
	a, b, c := geo.Point{Lat: 0.1, Lon: 0.1}, geo.Point{Lat: 0.3, Lon: 0.7}, geo.Point{Lat: 0.7, Lon: 0.2}
	m := geo.MultiPolygon{{Rings: [][]geo.Point{{a, b, c, a}}}}
	var in, on int
	for range 20000 {
		f := r.Float64()
		p := geo.Point{Lat: a.Lat + f*(b.Lat-a.Lat), Lon: a.Lon + f*(b.Lon-a.Lon)}
		got, want := m.Contains(p.Lat, p.Lon), oracleContains(m, p)
		if got != want {
			t.Fatalf("Contains(%v, %v) = %v, oracle %v", p.Lat, p.Lon, got, want)
		}
		if got {
			in++
		}
		if onBoundary(m, p) {
			on++
		}
	}
	if in == 0 || in == 20000 {
		t.Errorf("%d of 20000 points inside: rounding should put some on each side", in)
	}
	t.Logf("%d inside, %d exactly on the edge", in, on)
}

func TestContainsOracle(t *testing.T) {
	r := newRand(t)
	var n, in, on int
	for range 300 {
		s := randShape(r)
		m := randMultiPolygon(r, s)
		ix := m.Index()
		for _, p := range probes(r, s, m) {
			got, want := m.Contains(p.Lat, p.Lon), oracleContains(m, p)
			if got != want {
				t.Fatalf("shape %+v, %v: Contains(%v, %v) = %v, oracle %v", s, m, p.Lat, p.Lon, got, want)
			}
			if ix.Contains(p.Lat, p.Lon) != got {
				t.Fatalf("shape %+v, %v: the index's Contains(%v, %v) = %v, not %v", s, m, p.Lat, p.Lon, !got, got)
			}
			if got && !m.Bounds().Contains(p.Lat, p.Lon) {
				t.Fatalf("%v: Contains(%v, %v), but Bounds %+v does not", m, p.Lat, p.Lon, m.Bounds())
			}
			n++
			if got {
				in++
			}
			if onBoundary(m, p) {
				on++
			}
		}
	}
	t.Logf("%d points: %d inside, %d on a boundary", n, in, on)
	if in < n/10 || in > n*9/10 || on < n/10 {
		t.Errorf("%d points: %d inside, %d on a boundary: too few of a kind", n, in, on)
	}
}

// rectSamples returns a grid of points over r, edges and corners included,
// across the antimeridian if r crosses it.
func rectSamples(r geo.Rect) []geo.Point {
	const k = 8
	width := r.MaxLon - r.MinLon
	if width < 0 {
		width += 360
	}
	var ps []geo.Point
	for i := 0; i <= k; i++ {
		lat := r.MinLat + (r.MaxLat-r.MinLat)*float64(i)/k
		if i == k {
			lat = r.MaxLat
		}
		for j := 0; j <= k; j++ {
			lon := r.MinLon + width*float64(j)/k
			if j == k {
				lon = r.MaxLon
			}
			if lon > 180 {
				lon -= 360
			}
			ps = append(ps, geo.Point{Lat: max(r.MinLat, min(r.MaxLat, lat)), Lon: lon})
		}
	}
	return ps
}

// randRectNear returns a rectangle in s with a corner at a: small or large,
// sometimes a point or a segment, sometimes on the grid, sometimes across the
// antimeridian.
func randRectNear(r *rand.Rand, s shape, a geo.Point) geo.Rect {
	b := s.point(2.4*r.Float64()-1.2, 2.4*r.Float64()-1.2)
	if r.IntN(2) == 0 { // small
		h := s.size * math.Pow(10, -3*r.Float64()) * r.Float64() * 0.3
		b = s.point((a.Lat-s.lat)/s.size+h/s.size, (a.Lon-s.lon)/s.size+h/s.size)
	}
	switch r.IntN(8) {
	case 0:
		b = a
	case 1:
		b.Lat = a.Lat
	}
	rect := geo.Rect{MinLat: min(a.Lat, b.Lat), MinLon: min(a.Lon, b.Lon), MaxLat: max(a.Lat, b.Lat), MaxLon: max(a.Lon, b.Lon)}
	if r.IntN(6) == 0 && rect.MaxLon-rect.MinLon > 0 { // the complement in longitude crosses ±180
		rect.MinLon, rect.MaxLon = rect.MaxLon, rect.MinLon
	}
	return rect
}

func TestRelateRect(t *testing.T) {
	r := newRand(t)
	count := map[geo.Relation]int{}
	for range 3000 {
		s := randShape(r)
		if r.IntN(4) == 0 { // against the antimeridian
			s.lon = 180 - s.size*r.Float64()
			if r.IntN(2) == 0 {
				s.lon = -s.lon
			}
		}
		m := randMultiPolygon(r, s)
		var inside []geo.Point
		for _, p := range probes(r, s, m) {
			if m.Contains(p.Lat, p.Lon) {
				inside = append(inside, p)
			}
		}
		for range 10 {
			a := s.point(2.4*r.Float64()-1.2, 2.4*r.Float64()-1.2)
			if len(inside) > 0 && r.IntN(2) == 0 {
				a = inside[r.IntN(len(inside))]
			}
			rect := randRectNear(r, s, a)
			rel := m.RelateRect(rect)
			if got := m.Index().RelateRect(rect); got != rel {
				t.Fatalf("%v\nthe index's RelateRect(%+v) = %v, not %v", m, rect, got, rel)
			}
			count[rel]++
			samples := rectSamples(rect)
			for _, poly := range m {
				for _, rg := range poly.Rings {
					for _, p := range rg {
						if rect.Contains(p.Lat, p.Lon) {
							samples = append(samples, p) // on the boundary, so inside
						}
					}
				}
			}
			for _, p := range samples {
				if in := m.Contains(p.Lat, p.Lon); in && rel == geo.Disjoint || !in && rel == geo.Inside {
					t.Fatalf("%v\nRelateRect(%+v) = %v, but Contains(%v, %v) = %v", m, rect, rel, p.Lat, p.Lon, in)
				}
			}
		}
	}
	t.Logf("relations: %v", count)
	for _, rel := range []geo.Relation{geo.Disjoint, geo.Inside, geo.Partial} {
		if count[rel] < 1000 {
			t.Errorf("only %d %v answers of %d", count[rel], rel, 30000)
		}
	}
}

func TestRelateRectTable(t *testing.T) {
	donut := geo.MultiPolygon{{Rings: [][]geo.Point{square(0, 0, 4, 4), square(1, 1, 3, 3)}}}
	split := geo.MultiPolygon{
		{Rings: [][]geo.Point{square(179, -18, 180, -16)}},
		{Rings: [][]geo.Point{square(-180, -18, -179, -16)}},
	}
	rect := func(minLon, minLat, maxLon, maxLat float64) geo.Rect {
		return geo.Rect{MinLat: minLat, MinLon: minLon, MaxLat: maxLat, MaxLon: maxLon}
	}
	tests := []struct {
		name string
		m    geo.MultiPolygon
		r    geo.Rect
		want geo.Relation
	}{
		{"in the ring", donut, rect(0.2, 0.2, 0.8, 3.8), geo.Inside},
		{"in the hole", donut, rect(1.5, 1.5, 2.5, 2.5), geo.Disjoint},
		{"hole exactly", donut, rect(1, 1, 3, 3), geo.Partial},
		{"just inside the hole", donut, rect(math.Nextafter(1, 2), 1.5, 2.5, 2.5), geo.Disjoint},
		{"across the outer edge", donut, rect(3.5, 3.5, 4.5, 4.5), geo.Partial},
		{"touching a corner", donut, rect(4, 4, 5, 5), geo.Partial},
		{"just past a corner", donut, rect(math.Nextafter(4, 5), 4, 5, 5), geo.Disjoint},
		{"far away", donut, rect(10, 10, 11, 11), geo.Disjoint},
		{"around everything", donut, rect(-1, -1, 5, 5), geo.Partial},
		{"point inside", donut, rect(0.5, 0.5, 0.5, 0.5), geo.Inside},
		{"point on the hole edge", donut, rect(1, 2, 1, 2), geo.Partial},
		// Both parts are inside, but touch the edges along ±180.
		{"across the antimeridian, inside", split, rect(179.5, -17.5, -179.5, -16.5), geo.Partial},
		{"east of the antimeridian, inside", split, rect(179.5, -17.5, 179.9, -16.5), geo.Inside},
		{"across the antimeridian, partly", split, rect(179.5, -17.5, -178, -16.5), geo.Partial},
		{"across the antimeridian, outside", split, rect(170, 0, -170, 10), geo.Disjoint},
		{"invalid", donut, rect(0.5, 3, 0.6, 2), geo.Partial},
		{"empty shape", nil, rect(0, 0, 1, 1), geo.Disjoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.RelateRect(tt.r); got != tt.want {
				t.Errorf("RelateRect(%+v) = %v, want %v", tt.r, got, tt.want)
			}
		})
	}
}

func TestBounds(t *testing.T) {
	m := geo.MultiPolygon{
		{Rings: [][]geo.Point{square(179, -18, 180, -16)}},
		{Rings: [][]geo.Point{square(-180, -18, -179, -16), square(-179.8, -17.5, -179.2, -15)}},
	}
	want := geo.Rect{MinLat: -18, MinLon: -180, MaxLat: -15, MaxLon: 180}
	if got := m.Bounds(); got != want {
		t.Errorf("Bounds() = %+v, want %+v", got, want)
	}
	if b := (geo.MultiPolygon{}).Bounds(); b.Contains(0, 0) || b.MinLat <= b.MaxLat {
		t.Errorf("empty Bounds() = %+v, want no point", b)
	}
}

func TestParseGeoJSON(t *testing.T) {
	tests := []struct {
		name, in string
		want     geo.MultiPolygon
	}{
		{"polygon", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`,
			geo.MultiPolygon{{Rings: [][]geo.Point{square(0, 0, 1, 1)}}}},
		{"clockwise, with a hole, altitude, bbox", `{"type": "Polygon", "bbox": [0, 0, 4, 4], "coordinates": [
			[[0,0,10],[0,4,10],[4,4,10],[4,0,10],[0,0,10]],
			[[1,1],[3,1],[3,3],[1,3],[1,1]]]}`,
			geo.MultiPolygon{{Rings: [][]geo.Point{closedRing(0, 0, 0, 4, 4, 4, 4, 0), square(1, 1, 3, 3)}}}},
		{"multipolygon split at the antimeridian", `{"type":"MultiPolygon","coordinates":[
			[[[179,-18],[180,-18],[180,-16],[179,-16],[179,-18]]],
			[[[-180,-18],[-179,-18],[-179,-16],[-180,-16],[-180,-18]]]]}`,
			geo.MultiPolygon{{Rings: [][]geo.Point{square(179, -18, 180, -16)}}, {Rings: [][]geo.Point{square(-180, -18, -179, -16)}}}},
		{"the whole world", `{"type":"Polygon","coordinates":[[[-180,-90],[0,-90],[180,-90],[180,90],[0,90],[-180,90],[-180,-90]]]}`,
			geo.MultiPolygon{{Rings: [][]geo.Point{closedRing(-180, -90, 0, -90, 180, -90, 180, 90, 0, 90, -180, 90)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := geo.ParseGeoJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseGeoJSON = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseGeoJSONErrors(t *testing.T) {
	many := func(n int, poly string) string {
		return `{"type":"MultiPolygon","coordinates":[` + strings.Repeat(poly+",", n-1) + poly + `]}`
	}
	bigRing := func(n int) string { // a closed ring of n positions
		var b strings.Builder
		b.WriteString(`{"type":"Polygon","coordinates":[[[0,0]`)
		for i := 1; i < n-1; i++ {
			fmt.Fprintf(&b, ",[%g,%g]", math.Cos(float64(i)), math.Sin(float64(i)))
		}
		b.WriteString(`,[0,0]]]}`)
		return b.String()
	}
	sq := `[[[0,0],[1,0],[1,1],[0,0]]]`
	tests := []struct {
		name, in, want string
	}{
		{"not JSON", `{"type":`, "unexpected end of JSON input"},
		{"not an object", `[1,2]`, "cannot unmarshal array"},
		{"no type", `{"coordinates":[]}`, "no type"},
		{"point", `{"type":"Point","coordinates":[0,0]}`, `type "Point", want a Polygon or MultiPolygon geometry`},
		{"feature", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":` + sq + `}}`, `type "Feature"`},
		{"lower-case type", `{"type":"polygon","coordinates":` + sq + `}`, `type "polygon"`},
		{"no coordinates", `{"type":"Polygon"}`, "no coordinates"},
		{"null coordinates", `{"type":"Polygon","coordinates":null}`, "polygon 0: no rings"},
		{"no polygons", `{"type":"MultiPolygon","coordinates":[]}`, "no polygons"},
		{"polygon without rings", `{"type":"MultiPolygon","coordinates":[[]]}`, "polygon 0: no rings"},
		{"string coordinate", `{"type":"Polygon","coordinates":[[["0",0]]]}`, "coordinates: json: cannot unmarshal string"},
		{"polygon given multipolygon coordinates", `{"type":"Polygon","coordinates":[` + sq + `]}`, "coordinates: json: cannot unmarshal array"},
		{"number too large", `{"type":"Polygon","coordinates":[[[1e400,0]]]}`, "coordinates: json: cannot unmarshal number 1e400"},
		{"null number", `{"type":"Polygon","coordinates":[[[null,null],[1,0],[1,1],[null,null]]]}`, "polygon 0 ring 0 position 0: null, want [lon, lat] numbers"},
		{"null latitude", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,null],[0,0]]]}`, "polygon 0 ring 0 position 2: null, want [lon, lat] numbers"},
		{"one number", `{"type":"Polygon","coordinates":[[[0,0],[1],[1,1],[0,0]]]}`, "polygon 0 ring 0 position 1: 1 numbers, want [lon, lat]"},
		{"three positions", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, "polygon 0 ring 0: 3 positions, want at least 4"},
		{"not closed", `{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,2],[0,0]],[[0.5,0.5],[1,0.5],[1,1],[0.5,1]]]}`,
			"polygon 0 ring 1: not closed: first position [0.5, 0.5], last [0.5, 1]"},
		{"latitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,91],[0,0]]]}`,
			"polygon 0 ring 0 position 2: [1, 91] is not a valid [lon, lat]"},
		{"longitude out of range", `{"type":"MultiPolygon","coordinates":[` + sq + `,[[[0,0],[181,0],[1,1],[0,0]]]]}`,
			"polygon 1 ring 0 position 1: [181, 0] is not a valid [lon, lat]"},
		{"across the antimeridian", `{"type":"Polygon","coordinates":[[[170,-10],[-170,-10],[-170,10],[170,10],[170,-10]]]}`,
			"polygon 0 ring 0: edge from [170, -10] to [-170, -10] spans more than 180° of longitude; " +
				"split the shape at the antimeridian into a MultiPolygon (RFC 7946 §3.1.9)"},
		{"too many polygons", many(geo.MaxPolygons+1, sq), "101 polygons, more than 100"},
		{"too many positions", bigRing(geo.MaxVertices + 1), "more than 10000 positions"},
		{"too many bytes", `{"type":"Polygon","coordinates":` + sq + strings.Repeat(" ", geo.MaxGeoJSONBytes) + `}`, "bytes, more than 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := geo.ParseGeoJSON([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParseGeoJSON = %v, want an error", m)
			}
			if !errors.Is(err, geo.ErrInvalidPolygon) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want ErrInvalidPolygon and %q", err, tt.want)
			}
		})
	}
	// The limits themselves are allowed.
	for _, in := range []string{many(geo.MaxPolygons, sq), bigRing(geo.MaxVertices)} {
		if _, err := geo.ParseGeoJSON([]byte(in)); err != nil {
			t.Errorf("at the limit: %v", err)
		}
	}
}

// TestParseGeoJSONRoundTrip encodes random MultiPolygons and parses them back.
func TestParseGeoJSONRoundTrip(t *testing.T) {
	r := newRand(t)
	for range 500 {
		m := randMultiPolygon(r, randShape(r))
		got, err := geo.ParseGeoJSON(encodeGeoJSON(t, m))
		if err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip: got %v, want %v", got, m)
		}
	}
}

// FuzzParseGeoJSON checks that ParseGeoJSON never panics, fails only with
// ErrInvalidPolygon, and returns shapes that round-trip, contain their
// vertices and are not disjoint from their bounds.
func FuzzParseGeoJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0,5],[0,4],[4,4],[4,0],[0,0]],[[1,1],[3,1],[3,3],[1,3],[1,1]]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[179,-18],[180,-18],[180,-16],[179,-18]]],[[[-180,-18],[-179,-18],[-179,-16],[-180,-18]]]]}`,
		`{"type":"Polygon","coordinates":[[[170,0],[-170,0],[-170,10],[170,0]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,2],[0,0]]]}`,
		`{"type":"Polygon","coordinates":[[[1e-300,0],[1,1e-300],[5e-324,1],[1e-300,0]]]}`,
		`{"type":"Polygon","coordinates":[[[0.1,0.1],[0.7,0.3],[0.2,0.7],[0.1,0.1]]]}`,
		// A polar cap (split in edges of at most 180°) with a hole at the
		// pole, and a band along the antimeridian from pole to pole.
		`{"type":"Polygon","coordinates":[[[-180,80],[0,80],[180,80],[180,90],[0,90],[-180,90],[-180,80]],[[-90,89],[0,89],[90,89],[180,89],[90,90],[-90,89]]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[180,-90],[180,90],[179.9999999,90],[179.9999999,-90],[180,-90]]],[[[-180,-90],[-180,90],[-179.9999999,0],[-180,-90]]]]}`,
		`{"type":"Feature","geometry":null}`, `{"type":"Polygon","coordinates":[[[0,0]]]}`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := geo.ParseGeoJSON(data)
		if err != nil {
			if !errors.Is(err, geo.ErrInvalidPolygon) {
				t.Fatalf("error %v does not wrap ErrInvalidPolygon", err)
			}
			return
		}
		again, err := geo.ParseGeoJSON(encodeGeoJSON(t, m))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip of %v: %v, %v", m, again, err)
		}
		b := m.Bounds()
		if !b.Valid() || b.MinLon > b.MaxLon || m.RelateRect(b) == geo.Disjoint {
			t.Fatalf("%v: Bounds() = %+v, RelateRect(Bounds()) = %v", m, b, m.RelateRect(b))
		}
		// The index answers as the polygons: at vertices, midpoints of
		// edges, points level with vertices, and rectangles between them.
		ix := m.Index()
		var pts []geo.Point
		for _, poly := range m {
			for _, rg := range poly.Rings {
				for k := 1; k < len(rg) && len(pts) < 300; k++ {
					a, c := rg[k-1], rg[k]
					pts = append(pts, a, geo.Point{Lat: (a.Lat + c.Lat) / 2, Lon: (a.Lon + c.Lon) / 2}, geo.Point{Lat: a.Lat, Lon: c.Lon})
				}
			}
		}
		for i, p := range pts {
			if got, want := ix.Contains(p.Lat, p.Lon), m.Contains(p.Lat, p.Lon); got != want {
				t.Fatalf("%v: the index's Contains(%v, %v) = %v, not %v", m, p.Lat, p.Lon, got, want)
			}
			q := pts[(i*7+3)%len(pts)]
			r := geo.Rect{MinLat: min(p.Lat, q.Lat), MinLon: min(p.Lon, q.Lon), MaxLat: max(p.Lat, q.Lat), MaxLon: max(p.Lon, q.Lon)}
			if got, want := ix.RelateRect(r), m.RelateRect(r); got != want {
				t.Fatalf("%v: the index's RelateRect(%+v) = %v, not %v", m, r, got, want)
			}
		}
		checked := 0
		for _, poly := range m {
			for _, rg := range poly.Rings {
				for _, p := range rg {
					if checked++; checked > 20 {
						return
					}
					if !m.Contains(p.Lat, p.Lon) || m.RelateRect(geo.Rect{MinLat: p.Lat, MinLon: p.Lon, MaxLat: p.Lat, MaxLon: p.Lon}) != geo.Partial {
						t.Fatalf("%v: vertex %v not on the boundary", m, p)
					}
					if !b.Contains(p.Lat, p.Lon) {
						t.Fatalf("%v: Bounds() = %+v misses vertex %v", m, b, p)
					}
				}
			}
		}
	})
}

// TestPolygonIndex: the index answers as the polygons do, for polygons of
// many vertices (so many bands): star-shaped rings, combs whose long teeth
// span most bands, rings with horizontal runs; points at vertices, on edges,
// level with vertices and anywhere; rectangles of every size.
func TestPolygonIndex(t *testing.T) {
	r := newRand(t)
	for range 60 {
		s := randShape(r)
		n := 20 + r.IntN(800)
		var ring []geo.Point
		switch r.IntN(3) {
		case 0: // a star
			for i := range n {
				theta := 2 * math.Pi * (float64(i) + 0.8*r.Float64()) / float64(n)
				d := 0.2 + 0.8*r.Float64()
				ring = append(ring, s.point(d*math.Sin(theta), d*math.Cos(theta)))
			}
		case 1: // a comb: teeth from the bottom edge, up to random heights
			ring = append(ring, s.point(-1, -1))
			for i := range n / 2 {
				x := -1 + 2*(float64(i)+0.5)/float64(n/2)
				ring = append(ring, s.point(1-2*r.Float64()*r.Float64(), x), s.point(-0.9, x+1/float64(n)))
			}
			ring = append(ring, s.point(-1, 1))
		default: // a staircase with horizontal runs
			for i := range n / 2 {
				x := -1 + 2*float64(i)/float64(n/2)
				ring = append(ring, s.point(x, x), s.point(x, x+2/float64(n)))
			}
			ring = append(ring, s.point(1, -1))
		}
		ring = append(ring, ring[0])
		m := geo.MultiPolygon{{Rings: [][]geo.Point{ring}}}
		if r.IntN(2) == 0 { // a hole, and a second polygon
			m[0].Rings = append(m[0].Rings, s.ring(r, 0, 0, 0.2))
			m = append(m, randMultiPolygon(r, s)[0])
		}
		ix := m.Index()
		ps := probes(r, s, m)
		for range 500 { // level with each other: the bands' edges fall anywhere
			ps = append(ps, s.point(2.2*r.Float64()-1.1, 2.2*r.Float64()-1.1))
		}
		for _, p := range ps {
			if got, want := ix.Contains(p.Lat, p.Lon), m.Contains(p.Lat, p.Lon); got != want {
				t.Fatalf("shape %+v, %d vertices: the index's Contains(%v, %v) = %v, not %v", s, n, p.Lat, p.Lon, got, want)
			}
		}
		for range 300 {
			rect := randRectNear(r, s, ps[r.IntN(len(ps))])
			if got, want := ix.RelateRect(rect), m.RelateRect(rect); got != want {
				t.Fatalf("shape %+v, %d vertices: the index's RelateRect(%+v) = %v, not %v", s, n, rect, got, want)
			}
		}
	}
}

// TestPolygonIndexTinyLatitudes: a comb whose teeth span a latitude range
// so small (near the equator, where floats reach 1e-308) that an edge's
// longitude per degree of latitude overflows float64. The index must still
// answer as the polygon does.
func TestPolygonIndexTinyLatitudes(t *testing.T) {
	for _, scale := range []float64{1e-300, 1e-308, 5e-309, 1e-310, 1e-320} {
		t.Run(fmt.Sprint(scale), func(t *testing.T) {
			ring := []geo.Point{{Lat: 0, Lon: 0}}
			for i := range 8 {
				x := 20 * float64(i)
				ring = append(ring, geo.Point{Lat: 8 * scale, Lon: x + 10}, geo.Point{Lat: scale, Lon: x + 20})
			}
			ring = append(ring, geo.Point{Lat: 0, Lon: 160}, geo.Point{Lat: 0, Lon: 0})
			m := geo.MultiPolygon{{Rings: [][]geo.Point{ring}}}
			ix := m.Index()
			for i := range 41 {
				for j := range 41 {
					lat, lon := float64(i)/4*scale, 4*float64(j)-1
					if got, want := ix.Contains(lat, lon), m.Contains(lat, lon); got != want {
						t.Fatalf("the index's Contains(%v, %v) = %v, not %v", lat, lon, got, want)
					}
					rect := geo.Rect{MinLat: lat, MinLon: lon, MaxLat: lat + scale/40, MaxLon: lon + 0.1}
					if got, want := ix.RelateRect(rect), m.RelateRect(rect); got != want {
						t.Fatalf("the index's RelateRect(%+v) = %v, not %v", rect, got, want)
					}
				}
			}
		})
	}
}

// benchShape is a star-shaped ring of n vertices around Paris, with a hole.
func benchShape(n int) geo.MultiPolygon {
	r := rand.New(rand.NewPCG(1, 2))
	s := shape{lat: 48.85, lon: 2.35, size: 0.1}
	var outer []geo.Point
	for i := range n {
		theta := 2 * math.Pi * float64(i) / float64(n)
		d := 0.5 + 0.5*r.Float64()
		outer = append(outer, s.point(d*math.Sin(theta), d*math.Cos(theta)))
	}
	outer = append(outer, outer[0])
	return geo.MultiPolygon{{Rings: [][]geo.Point{outer, square(2.33, 48.83, 2.37, 48.87)}}}
}

func BenchmarkContains(b *testing.B) {
	for _, n := range []int{10, 1000} {
		for _, indexed := range []bool{false, true} {
			b.Run(fmt.Sprintf("vertices=%d/indexed=%v", n, indexed), func(b *testing.B) {
				m := benchShape(n)
				r := rand.New(rand.NewPCG(3, 4))
				ps := make([]geo.Point, 1024)
				for i := range ps {
					ps[i] = geo.Point{Lat: 48.75 + 0.2*r.Float64(), Lon: 2.25 + 0.2*r.Float64()}
				}
				contains := m.Contains
				if indexed {
					contains = m.Index().Contains
				}
				b.ReportAllocs()
				in, i := 0, 0
				for b.Loop() {
					p := ps[i%len(ps)]
					if contains(p.Lat, p.Lon) {
						in++
					}
					i++
				}
				if in == 0 {
					b.Fatal("no point inside")
				}
			})
		}
	}
}

func BenchmarkRelateRect(b *testing.B) {
	for _, n := range []int{10, 1000} {
		for _, indexed := range []bool{false, true} {
			b.Run(fmt.Sprintf("vertices=%d/rect=1km/indexed=%v", n, indexed), func(b *testing.B) {
				m := benchShape(n)
				r := rand.New(rand.NewPCG(3, 4))
				rects := make([]geo.Rect, 1024)
				for i := range rects {
					lat, lon := 48.75+0.2*r.Float64(), 2.25+0.2*r.Float64()
					rects[i] = geo.Rect{MinLat: lat, MinLon: lon, MaxLat: lat + 0.009, MaxLon: lon + 0.0135}
				}
				relate := m.RelateRect
				if indexed {
					relate = m.Index().RelateRect
				}
				b.ReportAllocs()
				count := map[geo.Relation]int{}
				i := 0
				for b.Loop() {
					count[relate(rects[i%len(rects)])]++
					i++
				}
				if len(count) != 3 {
					b.Fatalf("relations %v", count)
				}
			})
		}
	}
}

func TestMultiPolygonJSONRoundTrip(t *testing.T) {
	in := `{"type":"Polygon","coordinates":[[[2.25,48.81],[2.42,48.81],[2.42,48.9],[2.25,48.9],[2.25,48.81]],[[2.33,48.85],[2.36,48.85],[2.36,48.87],[2.33,48.87],[2.33,48.85]]]}`
	m, err := geo.ParseGeoJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := geo.ParseGeoJSON(data)
	if err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("%s read back as %v, %v; want %v", data, back, err, m)
	}
}
