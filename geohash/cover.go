package geohash

import (
	"fmt"
	"math"
	"slices"
	"strings"

	gh "github.com/mmcloughlin/geohash"

	"github.com/nearby/nearby/geo"
)

// MaxCells is the most cells Cover looks at: it fails with ErrTooManyCells
// when the bounding rectangle of the circle spans more cells of the precision
// asked for, before looking at any. The cover itself is then smaller still.
const MaxCells = 4096

// pad widens a cell, in degrees, before it is compared with the circle:
// the library's encoder rounds, so a point it puts in a cell may lie a
// rounding error (about 1e-13°) outside the cell's exact bounds.
const pad = 1e-9

// Cover returns the sorted, de-duplicated geohashes of precision characters
// (1..12) of the cells that together hold every point within radiusM metres
// of lat, lon degrees: for each such point p, Encode(p, precision) is in the
// result. Cells are found on the grid inside geo.CircleBounds (split at the
// antimeridian; all longitudes when the circle holds a pole) and kept unless
// their distance from the centre, bounded below, exceeds radiusM. Use
// PrecisionForRadius for a small cover. Near a pole cells are narrow and a
// circle holding the pole meets every column, so a precision that suits the
// radius elsewhere may give ErrTooManyCells there: retry with a smaller one.
//
// Cover fails with ErrInvalidPoint, ErrInvalidRadius (≤ 0, NaN or ±Inf),
// ErrPrecision, or ErrTooManyCells if the bounding rectangle spans more than
// MaxCells cells. The strings of one result share memory.
func Cover(lat, lon, radiusM float64, precision uint) ([]string, error) {
	switch {
	case !geo.Valid(lat, lon):
		return nil, fmt.Errorf("cover (%v, %v): %w", lat, lon, ErrInvalidPoint)
	case !(radiusM > 0) || math.IsInf(radiusM, 1):
		return nil, fmt.Errorf("cover radius %v m: %w", radiusM, ErrInvalidRadius)
	case precision < 1 || precision > MaxPrecision:
		return nil, fmt.Errorf("cover precision %d: %w", precision, ErrPrecision)
	}
	g := newGrid(precision)

	var spans [2]span
	parts := geo.CircleBounds(lat, lon, radiusM).Split()
	var n uint64
	for i, r := range parts {
		spans[i] = g.span(r)
		n += spans[i].cells()
	}
	if n > MaxCells {
		return nil, fmt.Errorf("cover radius %v m at precision %d: %d cells, want at most %d: %w",
			radiusM, precision, n, MaxCells, ErrTooManyCells)
	}

	o := geo.NewOrigin(lat, lon)
	limit := geo.HavBound(radiusM)
	var buf [64]uint64
	hashes := buf[:0]
	for _, s := range spans[:len(parts)] {
		for row := s.row0; row <= s.row1; row++ {
			minLat := -90 + float64(row)*g.dLat
			maxLat := minLat + g.dLat
			for col := s.col0; col <= s.col1; col++ {
				minLon := -180 + float64(col)*g.dLon
				maxLon := minLon + g.dLon
				// Within the globe: a pad past ±180 would read as a gap
				// from the other side of the antimeridian.
				if o.RectHavLowerBound(max(minLat-pad, -90), max(minLon-pad, -180), min(maxLat+pad, 90), min(maxLon+pad, 180)) > limit {
					continue
				}
				hashes = append(hashes, g.hash(row, col))
			}
		}
	}
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)

	// One allocation for all the strings, one for the slice.
	var sb strings.Builder
	sb.Grow(len(hashes) * int(precision))
	var chars [MaxPrecision]byte
	for _, h := range hashes {
		for i := int(precision) - 1; i >= 0; i-- {
			chars[i] = alphabet[h&31]
			h >>= 5
		}
		sb.Write(chars[:precision])
	}
	all := sb.String()
	out := make([]string, len(hashes))
	for i := range out {
		out[i] = all[i*int(precision) : (i+1)*int(precision)]
	}
	return out, nil
}

// grid is the lattice of cells of one precision: 2^latBits rows of dLat
// degrees from -90, 2^lonBits columns of dLon degrees from -180. Cell edges
// are exact in float64.
type grid struct {
	bits, latBits, lonBits uint
	dLat, dLon             float64
}

func newGrid(precision uint) grid {
	bits := 5 * precision
	latBits := bits / 2
	lonBits := bits - latBits
	return grid{
		bits: bits, latBits: latBits, lonBits: lonBits,
		dLat: math.Ldexp(180, -int(latBits)),
		dLon: math.Ldexp(360, -int(lonBits)),
	}
}

// index returns the row and column of the cell the library encodes the valid
// point lat, lon into. The encoder is monotonic in each coordinate, so the
// cells of all points of a rectangle lie between the cells of its corners,
// even where rounding puts a point on an edge into either neighbour.
func (g grid) index(lat, lon float64) (row, col uint32) {
	lat, lon = clamp(lat, lon)
	h := gh.EncodeInt(lat, lon) // latitude in the even bits, longitude in the odd
	return squash(h) >> (32 - g.latBits), squash(h>>1) >> (32 - g.lonBits)
}

// hash returns the integer geohash of the cell at row, col.
func (g grid) hash(row, col uint32) uint64 {
	h := spread(row<<(32-g.latBits)) | spread(col<<(32-g.lonBits))<<1
	return h >> (64 - g.bits)
}

// span is a block of cells, rows row0..row1 and columns col0..col1.
type span struct{ row0, row1, col0, col1 uint32 }

// span returns the cells the library encodes the points of r into; r must not
// cross the antimeridian.
func (g grid) span(r geo.Rect) span {
	row0, col0 := g.index(r.MinLat, r.MinLon)
	row1, col1 := g.index(r.MaxLat, r.MaxLon)
	return span{row0: row0, row1: row1, col0: col0, col1: col1}
}

func (s span) cells() uint64 {
	return uint64(s.row1-s.row0+1) * uint64(s.col1-s.col0+1)
}

// spread moves the 32 bits of x to the even bit positions of the result.
func spread(x uint32) uint64 {
	v := uint64(x)
	v = (v | v<<16) & 0x0000ffff0000ffff
	v = (v | v<<8) & 0x00ff00ff00ff00ff
	v = (v | v<<4) & 0x0f0f0f0f0f0f0f0f
	v = (v | v<<2) & 0x3333333333333333
	v = (v | v<<1) & 0x5555555555555555
	return v
}

// squash gathers the even bits of v into 32 bits; it undoes spread.
func squash(v uint64) uint32 {
	v &= 0x5555555555555555
	v = (v | v>>1) & 0x3333333333333333
	v = (v | v>>2) & 0x0f0f0f0f0f0f0f0f
	v = (v | v>>4) & 0x00ff00ff00ff00ff
	v = (v | v>>8) & 0x0000ffff0000ffff
	v = (v | v>>16) & 0x00000000ffffffff
	return uint32(v)
}
