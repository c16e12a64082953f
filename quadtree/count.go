package quadtree

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/nearby/nearby/geo"
)

// Grid is a grid of Cols × Rows cells of equal size in degrees over Box, to
// count entries per cell (Tree.CountGrid). Cells are numbered row-major,
// row 0 at the north edge (Box.MaxLat), column 0 at the west edge
// (Box.MinLon). A box with MinLon > MaxLon crosses the antimeridian: its
// columns run east from MinLon across ±180°. A point on a line between two
// cells is in the cell to its east or south (up to the rounding of the
// line's position in float64 degrees); one on the box's east or south edge
// is in the last column or row.
type Grid struct {
	Box        geo.Rect
	Cols, Rows int
}

// check reports whether g is a grid CountGrid can count on.
func (g Grid) check() error {
	b := g.Box
	// Cols × Rows must not overflow: wrapped, it could match len(counts)
	// while cell numbers run past it.
	if !b.Valid() || !(b.MinLat < b.MaxLat) || b.Width() == 0 || g.Cols < 1 || g.Rows < 1 || g.Rows > math.MaxInt/g.Cols {
		return fmt.Errorf("%w: grid %d × %d over %+v", ErrInvalidRect, g.Cols, g.Rows, b)
	}
	return nil
}

// Cell returns the number of the cell holding lat, lon degrees, a point of
// the box.
func (g Grid) Cell(lat, lon float64) int {
	m := g.cells()
	return m.cell(lat, lon)
}

// cells maps the points of a grid's box to its cells.
type cells struct {
	minLon, maxLat float64
	crosses        bool    // the box crosses the antimeridian
	colsPerDeg     float64 // columns per degree of longitude east of minLon
	rowsPerDeg     float64 // rows per degree of latitude south of maxLat
	cols, rows     int
}

func (g Grid) cells() cells {
	width := g.Box.Width() // not 0: check refuses grids of no width
	return cells{
		minLon: g.Box.MinLon, maxLat: g.Box.MaxLat, crosses: g.Box.MinLon > g.Box.MaxLon,
		colsPerDeg: float64(g.Cols) / width, rowsPerDeg: float64(g.Rows) / (g.Box.MaxLat - g.Box.MinLat),
		cols: g.Cols, rows: g.Rows,
	}
}

// cell is monotonic in the latitude and in the longitude east of minLon,
// so every point of a rectangle inside the box whose corners are in one
// cell is in that cell.
func (m *cells) cell(lat, lon float64) int {
	east := lon - m.minLon
	if east < 0 && m.crosses { // east of the antimeridian
		east += 360
	}
	col := max(min(int(math.Floor(east*m.colsPerDeg)), m.cols-1), 0)
	row := max(min(int(math.Floor((m.maxLat-lat)*m.rowsPerDeg)), m.rows-1), 0)
	return row*m.cols + col
}

// CountGrid adds to counts, which has Cols × Rows elements, one for every
// entry in g.Box (edges included) that passes f, in the entry's cell. f.After
// is ignored. A subtree inside the box whose bounding box lies in one cell,
// and whose entries all pass f's attribute tests, is counted whole (less its
// Skip bits) without reading its entries, unless f.Accept is set: the cost
// is about the number of cells' worth of nodes rather than the number of
// entries in the box.
func (t *Tree) CountGrid(g Grid, f Filter, counts []int) error {
	if err := g.check(); err != nil {
		return err
	}
	if len(counts) != g.Cols*g.Rows {
		return fmt.Errorf("%w: %d counts for a %d × %d grid", ErrInvalidRect, len(counts), g.Cols, g.Rows)
	}
	if len(t.nodes) == 0 {
		return nil
	}
	c := f.prepare()
	m := g.cells()
	s := searchers.Get().(*searcher)
	defer searchers.Put(s)
	for _, part := range g.Box.Split() {
		// Nodes are pruned on a box one E7 unit wider than part, as InBox
		// does, so rounding cannot prune a node holding a counted entry.
		minLat, maxLat := ToE7(part.MinLat)-1, ToE7(part.MaxLat)+1
		minLon, maxLon := ToE7(part.MinLon)-1, ToE7(part.MaxLon)+1
		s.stack = append(s.stack[:0], 0)
		for len(s.stack) > 0 {
			i := s.stack[len(s.stack)-1]
			s.stack = s.stack[:len(s.stack)-1]
			n := &t.nodes[i]
			if !c.node(n) || n.maxLat < minLat || n.minLat > maxLat || n.maxLon < minLon || n.minLon > maxLon {
				continue
			}
			south, west := FromE7(n.minLat), FromE7(n.minLon)
			north, east := FromE7(n.maxLat), FromE7(n.maxLon)
			inside := part.Contains(south, west) && part.Contains(north, east)
			if inside && c.accept == nil && c.passesAll(n) {
				if cell := m.cell(north, west); cell == m.cell(south, east) {
					counts[cell] += c.unskipped(n)
					continue
				}
			}
			if n.child != 0 {
				s.stack = t.pushChildren(s.stack, n)
				continue
			}
			for e := n.lo; e < n.hi; e++ {
				if c.test && t.drops(&c, e) {
					continue
				}
				lat, lon := FromE7(t.pts[e].lat), FromE7(t.pts[e].lon)
				if !inside && !part.Contains(lat, lon) || c.accept != nil && !c.accept(int(e)) {
					continue
				}
				counts[m.cell(lat, lon)]++
			}
		}
	}
	return nil
}

// passesAll reports whether every entry below n passes c's attribute tests
// (not Skip): all its categories are wanted and no price or rating is asked.
func (c *cut) passesAll(n *node) bool {
	return n.cats&^c.cats == 0 && c.prices == math.MaxUint8 && c.minRating == 0
}

// unskipped returns the number of n's entries that Skip does not hide.
func (c *cut) unskipped(n *node) int { return int(n.hi-n.lo) - skipped(c.skip, n.lo, n.hi) }

// skipped returns the number of entries in [lo, hi) that skip hides.
func skipped(skip []uint64, lo, hi uint32) int {
	if hi <= lo {
		return 0
	}
	n := 0
	for w := int(lo >> 6); w < len(skip) && w <= int((hi-1)>>6); w++ {
		word := skip[w]
		if w == int(lo>>6) {
			word &= ^uint64(0) << (lo & 63)
		}
		if w == int((hi-1)>>6) {
			word &= ^uint64(0) >> (63 - (hi-1)&63)
		}
		n += bits.OnesCount64(word)
	}
	return n
}

// CountWithin returns the number of entries within radiusM metres of lat,
// lon degrees (distance ≤ radiusM) that pass f, as Within would report
// them, counting no further than limit (it returns limit then). f.After is
// ignored. A subtree sure to lie within the radius (RectHavUpperBound
// against HavInner), whose entries all pass f's attribute tests, is counted
// whole (less its Skip bits) without measuring its entries, unless
// f.Accept is set. Bad arguments give the errors of Within.
func (t *Tree) CountWithin(lat, lon, radiusM float64, f Filter, limit int) (int, error) {
	if err := checkCircle(lat, lon, radiusM); err != nil {
		return 0, err
	}
	if len(t.nodes) == 0 || limit <= 0 {
		return 0, nil
	}
	o := geo.NewOrigin(lat, lon)
	outer, inner := geo.HavBound(radiusM), geo.HavInner(radiusM)
	c := f.prepare()
	s := searchers.Get().(*searcher)
	defer searchers.Put(s)
	count := 0
	s.stack = append(s.stack[:0], 0)
	for len(s.stack) > 0 && count < limit {
		i := s.stack[len(s.stack)-1]
		s.stack = s.stack[:len(s.stack)-1]
		n := &t.nodes[i]
		if !c.node(n) || t.nodeBound(&o, i) > outer {
			continue
		}
		if c.accept == nil && c.passesAll(n) &&
			o.RectHavUpperBound(FromE7(n.minLat), FromE7(n.minLon), FromE7(n.maxLat), FromE7(n.maxLon)) <= inner {
			count += c.unskipped(n)
			continue
		}
		if n.child != 0 {
			s.stack = t.pushChildren(s.stack, n)
			continue
		}
		for e := n.lo; e < n.hi; e++ {
			if c.test && t.drops(&c, e) {
				continue
			}
			lat, lon := FromE7(t.pts[e].lat), FromE7(t.pts[e].lon)
			if o.HavLowerBound(lat, lon) > outer || o.Distance(lat, lon) > radiusM || c.accept != nil && !c.accept(int(e)) {
				continue
			}
			count++
		}
	}
	return min(count, limit), nil
}
