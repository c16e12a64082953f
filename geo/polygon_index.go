package geo

import "math"

// PolygonIndex answers Contains and RelateRect exactly as its MultiPolygon
// does, reading only the edges that can matter: each polygon's edges are
// grouped in bands of latitude, and a point reads the band of its latitude,
// a rectangle those of its latitudes (or every edge, when that is fewer).
// A point or rectangle outside a polygon's latitudes reads none of its
// edges. An index search asks once per node and entry, so there a polygon
// of many short edges costs about what one of a few does; one whose edges
// each span most of its latitudes (a comb) gains little. A PolygonIndex is
// read-only and safe for concurrent use.
type PolygonIndex struct {
	polys []bandedPolygon
}

// edge is a directed edge of a ring, as the ring runs.
type edge struct{ a, b Point }

// bandedPolygon is a polygon's edges in bands of latitude: band i holds
// every edge whose latitude range holds a latitude of band i, by bandOf.
type bandedPolygon struct {
	edges         []edge
	minLat, scale float64 // bandOf(lat) is ⌊(lat - minLat)·scale⌋, clamped
	maxLat        float64
	bands         [][]edge
}

// Bands of a polygon: about one for every bandEdges edges, fewer if edges
// spanning many bands would make the bands hold more than maxCopies
// times the edges.
const (
	bandEdges = 4
	maxCopies = 4
)

// Index returns m's PolygonIndex. It takes time and memory of the order of
// m's vertices.
func (m MultiPolygon) Index() *PolygonIndex {
	ix := &PolygonIndex{polys: make([]bandedPolygon, len(m))}
	for i, poly := range m {
		bp := &ix.polys[i]
		bp.minLat, bp.maxLat = math.Inf(1), math.Inf(-1)
		for _, ring := range poly.Rings {
			if len(ring) == 0 {
				continue
			}
			a := ring[len(ring)-1]
			for _, b := range ring {
				bp.edges = append(bp.edges, edge{a, b})
				bp.minLat, bp.maxLat = min(bp.minLat, b.Lat), max(bp.maxLat, b.Lat)
				a = b
			}
		}
		bp.band()
	}
	return ix
}

// band sorts the edges into bands.
func (bp *bandedPolygon) band() {
	n := len(bp.edges) / bandEdges
	if !(bp.maxLat > bp.minLat) || n < 2 {
		bp.scale, bp.bands = 0, [][]edge{bp.edges}
		return
	}
	for ; n > 1; n /= 2 {
		bp.scale = float64(n) / (bp.maxLat - bp.minLat)
		bp.bands = make([][]edge, n)
		copies := 0
		for _, e := range bp.edges {
			lo, hi := bp.bandOf(min(e.a.Lat, e.b.Lat)), bp.bandOf(max(e.a.Lat, e.b.Lat))
			copies += hi - lo + 1
		}
		if copies <= maxCopies*len(bp.edges) {
			break
		}
	}
	if n <= 1 {
		bp.scale, bp.bands = 0, [][]edge{bp.edges}
		return
	}
	for _, e := range bp.edges {
		lo, hi := bp.bandOf(min(e.a.Lat, e.b.Lat)), bp.bandOf(max(e.a.Lat, e.b.Lat))
		for i := lo; i <= hi; i++ {
			bp.bands[i] = append(bp.bands[i], e)
		}
	}
}

// bandOf returns the band of latitude lat. It is monotonic in lat (a
// rounded difference and product are), so an edge whose latitude range
// holds lat is in the bands from its lower end's to its upper end's, which
// include lat's.
func (bp *bandedPolygon) bandOf(lat float64) int {
	f := (lat - bp.minLat) * bp.scale
	switch {
	case !(f > 0):
		return 0
	case f >= float64(len(bp.bands)):
		return len(bp.bands) - 1
	}
	return int(f)
}

// Contains is MultiPolygon.Contains.
func (ix *PolygonIndex) Contains(lat, lon float64) bool {
	if !Valid(lat, lon) {
		return false
	}
	p := Point{Lat: lat, Lon: lon}
	for i := range ix.polys {
		if ix.polys[i].contains(p) {
			return true
		}
	}
	return false
}

// contains is Polygon.contains over the edges of p's band: the others do
// not reach p's latitude, so they neither hold p nor count.
func (bp *bandedPolygon) contains(p Point) bool {
	if p.Lat < bp.minLat || p.Lat > bp.maxLat {
		return false
	}
	in := false
	for _, e := range bp.bands[bp.bandOf(p.Lat)] {
		a, b := e.a, e.b
		crosses := (a.Lat > p.Lat) != (b.Lat > p.Lat)
		switch {
		case p.Lon > max(a.Lon, b.Lon):
		case p.Lon < min(a.Lon, b.Lon):
			in = in != crosses
		case crosses || p.Lat >= min(a.Lat, b.Lat) && p.Lat <= max(a.Lat, b.Lat):
			on, flip := inEdgeBox(a, b, p, crosses)
			if on {
				return true
			}
			in = in != flip
		}
	}
	return in
}

// RelateRect is MultiPolygon.RelateRect.
func (ix *PolygonIndex) RelateRect(r Rect) Relation {
	return relateRect(r, len(ix.polys), func(i int, r Rect) Relation { return ix.polys[i].relate(r) })
}

// relate is Polygon.relate over the edges of the bands r's latitudes fall
// in, or over every edge if the bands hold more.
func (bp *bandedPolygon) relate(r Rect) Relation {
	if r.MaxLat >= bp.minLat && r.MinLat <= bp.maxLat {
		lo, hi := bp.bandOf(max(r.MinLat, bp.minLat)), bp.bandOf(min(r.MaxLat, bp.maxLat))
		n := 0
		for i := lo; i <= hi && n <= len(bp.edges); i++ {
			n += len(bp.bands[i])
		}
		meets := func(edges []edge) bool {
			for _, e := range edges {
				if segmentMeetsRect(e.a, e.b, r) {
					return true
				}
			}
			return false
		}
		if n > len(bp.edges) {
			if meets(bp.edges) {
				return Partial
			}
		} else {
			for i := lo; i <= hi; i++ {
				if meets(bp.bands[i]) {
					return Partial
				}
			}
		}
	}
	if bp.contains(Point{Lat: r.MinLat, Lon: r.MinLon}) {
		return Inside
	}
	return Disjoint
}
