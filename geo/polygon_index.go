package geo

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// PolygonIndex answers Contains and RelateRect exactly as its MultiPolygon
// does, reading only the edges that can matter. Each polygon's edges are
// grouped in bands of latitude. In a band, the edges that end there are
// read in full; those that cross it from side to side are sorted by where
// they run in longitude there, so that a point counts the ones east of it
// with a binary search and tests only the few that run near it, and a
// rectangle tests only those that run across its longitudes. A point or a
// rectangle outside a polygon's latitudes reads none of its edges. An index
// search asks once per node and entry, so there a polygon of many edges
// costs about what one of a few does. A PolygonIndex is read-only and safe
// for concurrent use.
type PolygonIndex struct {
	polys  []bandedPolygon
	bounds Rect
}

// edge is a directed edge of a ring, as the ring runs.
type edge struct{ a, b Point }

// bandedPolygon is a polygon's edges in bands of latitude: band i holds
// every edge whose latitude range holds a latitude of band i, by bandOf.
type bandedPolygon struct {
	edges         []edge
	minLat, scale float64 // bandOf(lat) is ⌊(lat - minLat)·scale⌋, clamped
	maxLat        float64
	bands         []band
}

// band is the edges of one band: those with an end in it, and those
// crossing it, which every point of the band has strictly between their
// ends' latitudes.
type band struct {
	ends  []edge
	cross []crossing // by lo
	width float64    // bounds every crossing's hi - lo
}

// crossing is an edge crossing a band (its position in the polygon's
// edges), with bounds of its longitudes at the band's latitudes.
type crossing struct {
	lo, hi float64
	edge   int32
}

// Bands of a polygon: about one for every bandEdges edges, fewer if edges
// crossing many bands would make the bands hold more than maxCopies times
// the edges (24 bytes a copy).
const (
	bandEdges = 4
	maxCopies = 16
)

// Index returns m's PolygonIndex. It takes time and memory of the order of
// m's vertices (times their logarithm).
func (m MultiPolygon) Index() *PolygonIndex {
	ix := &PolygonIndex{polys: make([]bandedPolygon, len(m)), bounds: m.Bounds()}
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
	for ; n > 1 && bp.maxLat > bp.minLat; n /= 2 {
		bp.scale, bp.bands = float64(n)/(bp.maxLat-bp.minLat), make([]band, n)
		copies := 0
		for _, e := range bp.edges {
			lo, hi := bp.bandOf(min(e.a.Lat, e.b.Lat)), bp.bandOf(max(e.a.Lat, e.b.Lat))
			copies += hi - lo + 1
		}
		if copies <= maxCopies*len(bp.edges) {
			break
		}
	}
	if n <= 1 || !(bp.maxLat > bp.minLat) {
		bp.scale, bp.bands = 0, []band{{ends: bp.edges}}
		return
	}
	for k, e := range bp.edges {
		lo, hi := bp.bandOf(min(e.a.Lat, e.b.Lat)), bp.bandOf(max(e.a.Lat, e.b.Lat))
		bp.bands[lo].ends = append(bp.bands[lo].ends, e)
		if hi > lo {
			bp.bands[hi].ends = append(bp.bands[hi].ends, e)
		}
		for i := lo + 1; i < hi; i++ {
			bp.bands[i].cross = append(bp.bands[i].cross, bp.crossing(int32(k), i))
		}
	}
	for i := range bp.bands {
		b := &bp.bands[i]
		slices.SortFunc(b.cross, func(x, y crossing) int { return cmp.Compare(x.lo, y.lo) })
		for _, c := range b.cross {
			b.width = max(b.width, c.hi-c.lo+margin)
		}
	}
}

// margin widens bounds computed in float64 past their rounding errors,
// which are below 1e-12° for coordinates within ±180.
const margin = 1e-9

// crossing bounds the longitudes of e, which crosses band i, at the band's
// latitudes. A latitude whose bandOf is i is within margin of the band's
// limits below; e's longitude, linear in latitude, lies between its values
// at the limits, each computed within 1e-12° (a difference of two float64
// coordinates, and the quotient of two, are exact but for one rounding).
// They are interpolated by the fraction of e's latitude span, in [0, 1],
// not by its slope, which overflows for an edge spanning a tiny latitude
// range (near the equator, where coordinates reach 1e-308) and would give
// NaN bounds.
func (bp *bandedPolygon) crossing(k int32, i int) crossing {
	e := bp.edges[k]
	lowLat := max(bp.minLat+float64(i)/bp.scale-margin, min(e.a.Lat, e.b.Lat))
	highLat := min(bp.minLat+float64(i+1)/bp.scale+margin, max(e.a.Lat, e.b.Lat))
	dLat, dLon := e.b.Lat-e.a.Lat, e.b.Lon-e.a.Lon // e crosses a band: dLat ≠ 0
	x, y := e.a.Lon+(lowLat-e.a.Lat)/dLat*dLon, e.a.Lon+(highLat-e.a.Lat)/dLat*dLon
	return crossing{min(x, y) - margin, max(x, y) + margin, k}
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

// Bounds is MultiPolygon.Bounds.
func (ix *PolygonIndex) Bounds() Rect { return ix.bounds }

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
// not reach p's latitude, so they neither hold p nor count. A crossing edge
// spans p's latitude (it counts) and holds p only where it runs through
// p's longitude: one whose lo is east of p is east of it, one whose hi is
// west of p west of it, and only those between are tested.
func (bp *bandedPolygon) contains(p Point) bool {
	if p.Lat < bp.minLat || p.Lat > bp.maxLat {
		return false
	}
	b := &bp.bands[bp.bandOf(p.Lat)]
	in := false
	for _, e := range b.ends {
		a, b := e.a, e.b
		crosses := (a.Lat > p.Lat) != (b.Lat > p.Lat)
		switch { // as in Polygon.contains
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
	east := sort.Search(len(b.cross), func(j int) bool { return b.cross[j].lo > p.Lon })
	in = in != ((len(b.cross)-east)%2 == 1)
	for j := east - 1; j >= 0 && b.cross[j].lo >= p.Lon-b.width; j-- {
		if c := &b.cross[j]; c.hi >= p.Lon {
			e := &bp.edges[c.edge]
			on, flip := inEdgeBox(e.a, e.b, p, true)
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
// in that can reach r (a crossing edge only if it runs across r's
// longitudes), or over every edge if that is fewer.
func (bp *bandedPolygon) relate(r Rect) Relation {
	if r.MaxLat >= bp.minLat && r.MinLat <= bp.maxLat {
		lo, hi := bp.bandOf(max(r.MinLat, bp.minLat)), bp.bandOf(min(r.MaxLat, bp.maxLat))
		if bp.meets(r, lo, hi) {
			return Partial
		}
	}
	if bp.contains(Point{Lat: r.MinLat, Lon: r.MinLon}) {
		return Inside
	}
	return Disjoint
}

// meets reports whether an edge meets r, whose latitudes are in bands lo
// to hi.
func (bp *bandedPolygon) meets(r Rect, lo, hi int) bool {
	n := 0 // edges read in full; a band's crossings cost a search
	for i := lo; i <= hi && n <= len(bp.edges); i++ {
		n += len(bp.bands[i].ends) + 1
	}
	if n > len(bp.edges) {
		return slices.ContainsFunc(bp.edges, func(e edge) bool { return segmentMeetsRect(e.a, e.b, r) })
	}
	for i := lo; i <= hi; i++ {
		b := &bp.bands[i]
		if slices.ContainsFunc(b.ends, func(e edge) bool { return segmentMeetsRect(e.a, e.b, r) }) {
			return true
		}
		west := sort.Search(len(b.cross), func(j int) bool { return b.cross[j].lo > r.MaxLon })
		for j := west - 1; j >= 0 && b.cross[j].lo >= r.MinLon-b.width; j-- {
			if c := &b.cross[j]; c.hi >= r.MinLon {
				if e := &bp.edges[c.edge]; segmentMeetsRect(e.a, e.b, r) {
					return true
				}
			}
		}
	}
	return false
}
