package search

import (
	"math"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/quadtree"
)

// MaxDensityCells bounds the cells of one density grid (cols × rows), so a
// request cannot make the server allocate without limit.
const MaxDensityCells = 4096

// Density counts the businesses of the current index's local regions (those
// whose trees this node holds) inside box, edges included, that have a
// category in cats (every category when cats is empty), per cell of a grid
// of cols × rows cells of equal size in degrees. It also returns the version
// of the index it counted.
//
// Counts are row-major: counts[row*cols+col], row 0 at the north edge
// (MaxLat), column 0 at the west edge (MinLon). A box with MinLon > MaxLon
// crosses the antimeridian; its columns run east from MinLon across ±180°.
// Every business in the box counts in exactly one cell. One on a line
// between two cells counts in the cell to its east or south (up to the
// rounding of the line's position in float64 degrees); one on the box's
// east or south edge counts in the last column or row. The box must have
// MinLat < MaxLat and MinLon ≠ MaxLon, and 1 ≤ cols·rows ≤ MaxDensityCells;
// otherwise the error is EINVALID.
//
// The cost is one InBox walk per region (and per live delta): proportional to the businesses in
// the box, not to the grid.
func (e *Engine) Density(box geo.Rect, cols, rows int, cats nearby.CategorySet) (counts []int, version string, err error) {
	if !box.Valid() || !(box.MinLat < box.MaxLat) || box.MinLon == box.MaxLon {
		return nil, "", nearby.Errorf(nearby.EINVALID, "density box %+v: need valid corners, MinLat < MaxLat and MinLon ≠ MaxLon", box)
	}
	if cols < 1 || rows < 1 || cols > MaxDensityCells || rows > MaxDensityCells || cols*rows > MaxDensityCells {
		return nil, "", nearby.Errorf(nearby.EINVALID, "density grid %d × %d: need 1 ≤ cols·rows ≤ %d", cols, rows, MaxDensityCells)
	}
	ix := e.cur.Load()
	if ix == nil {
		return nil, "", nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	g := newGrid(box, cols, rows)
	counts = make([]int, cols*rows)
	f := quadtree.Filter{Categories: uint32(cats)}
	for _, p := range ix.parts {
		t := p.region.Tree
		f.Skip = p.skip
		if _, err := t.InBox(box, f, func(i int) bool {
			lat, lon := t.Point(i)
			counts[g.cell(lat, lon)]++
			return true
		}); err != nil {
			return nil, "", nearby.Errorf(nearby.EINTERNAL, "density in region %s: %v", p.region.Name, err)
		}
	}
	return counts, ix.Version, nil
}

// grid maps points of a box to cells.
type grid struct {
	box        geo.Rect
	cols, rows int
	colsPerDeg float64 // columns per degree of longitude east of MinLon
	rowsPerDeg float64 // rows per degree of latitude south of MaxLat
}

func newGrid(box geo.Rect, cols, rows int) grid {
	width := box.MaxLon - box.MinLon
	if width <= 0 { // crosses the antimeridian
		width += 360
	}
	return grid{
		box: box, cols: cols, rows: rows,
		colsPerDeg: float64(cols) / width,
		rowsPerDeg: float64(rows) / (box.MaxLat - box.MinLat),
	}
}

// cell returns the index in the counts of the cell holding a point of the box.
func (g grid) cell(lat, lon float64) int {
	east := lon - g.box.MinLon
	if east < 0 { // east of the antimeridian in a box that crosses it
		east += 360
	}
	col := min(int(math.Floor(east*g.colsPerDeg)), g.cols-1)
	row := min(int(math.Floor((g.box.MaxLat-lat)*g.rowsPerDeg)), g.rows-1)
	return max(row, 0)*g.cols + max(col, 0)
}
