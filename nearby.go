// Package nearby holds the domain types of the nearby proximity search
// service: businesses, categories, search queries and results, and the
// domain error. It imports no driver; adapters in internal/ speak these types
// and cmd/ wires them together.
package nearby

import (
	"time"

	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/hours"
)

// Business is a local business as searchers see it in results. Coordinates
// are WGS84 degrees as stored in the index (rounded to 1e-7°, about 1 cm).
// The attributes after the place are optional: their zero values mean "not
// known".
type Business struct {
	ID       int64
	Name     string
	Category Category
	Lat, Lon float64

	Price       Price
	Rating      Rating
	ReviewCount uint32
	// Hours are the opening hours in the business's own time zone; nil
	// when unknown. Schedules are shared between businesses and never
	// modified.
	Hours *hours.Schedule
}

// Equal reports whether b and o are the same business with the same data,
// comparing opening hours by value.
func (b Business) Equal(o Business) bool {
	bh, oh := b.Hours, o.Hours
	b.Hours, o.Hours = nil, nil
	return b == o && (bh == oh || bh != nil && oh != nil && bh.Equal(oh))
}

// SearchQuery is a nearby search: the businesses closest to a point.
type SearchQuery struct {
	Lat, Lon   float64     // degrees
	RadiusM    float64     // metres, in (0, MaxRadiusM]
	Limit      int         // in [1, MaxLimit]
	Categories CategorySet // empty = all
	Filters
	Sort  Sort // SortDistance (the zero value) or SortRating
	Total bool // count every match within the radius, up to MaxTotal
}

// Filters narrow a search to the businesses that pass every one set; the
// zero value passes all. They apply before the limit.
type Filters struct {
	Prices    PriceSet  // empty = any (businesses without a price too)
	MinRating Rating    // Unrated = any; otherwise unrated businesses fail
	OpenAt    time.Time // zero = any; otherwise open at that instant in their own time zone (unknown hours fail)
	Name      string    // words each of which starts a word of the name, ignoring case and accents (textmatch); "" = any
}

// Sort orders nearby results.
type Sort uint8

const (
	// SortDistance orders by distance, then id.
	SortDistance Sort = iota
	// SortRating orders by rating (highest first, unrated last), then
	// distance, then id.
	SortRating
)

// AreaQuery is a search of the businesses inside a box or a polygon.
type AreaQuery struct {
	// Box is the area when Shape is nil: edges included; MinLon > MaxLon
	// crosses the antimeridian.
	Box        geo.Rect
	Shape      geo.MultiPolygon
	Limit      int         // in [1, MaxLimit]
	Categories CategorySet // empty = all
	Filters
	// ByDistance orders by distance from the box's centre, then id
	// (boxes only); otherwise results are ordered by id.
	ByDistance bool
}

// DensityGrid asks how many businesses lie in each cell of a grid of Cols
// × Rows cells of equal size in degrees over Box (MinLon > MaxLon crosses
// the antimeridian), counting those with a category in Categories (all
// when empty).
type DensityGrid struct {
	Box        geo.Rect
	Cols, Rows int
	Categories CategorySet
}

// MaxDensityCells bounds the cells of one density grid (Cols × Rows), so a
// request cannot make a server allocate without limit.
const MaxDensityCells = 4096

// Validate checks the grid: valid corners, MinLat < MaxLat, a width
// (MinLon ≠ MaxLon, and not 180 to -180, one meridian) and 1 ≤ Cols·Rows ≤
// MaxDensityCells. The error is EINVALID.
func (g DensityGrid) Validate() error {
	b := g.Box
	if !b.Valid() || !(b.MinLat < b.MaxLat) || b.Width() == 0 {
		return Errorf(EINVALID, "density box %+v: need valid corners, MinLat < MaxLat and a width (MinLon ≠ MaxLon, not 180 to -180)", b)
	}
	if g.Cols < 1 || g.Rows < 1 || g.Cols > MaxDensityCells || g.Rows > MaxDensityCells || g.Cols*g.Rows > MaxDensityCells {
		return Errorf(EINVALID, "density grid %d × %d: need 1 ≤ cols·rows ≤ %d", g.Cols, g.Rows, MaxDensityCells)
	}
	return nil
}

// DensityCounts answers a DensityGrid: Counts[row*Cols+col], row 0 at the
// north edge, column 0 at the west edge. In a cluster, the businesses of
// the Missing regions (no replica answered) are not counted.
type DensityCounts struct {
	Counts       []int
	IndexVersion string
	Missing      []string
}

// MaxTotal caps the count of matches a nearby search reports: beyond it
// the total says "at least MaxTotal".
const MaxTotal = 10000

// Limits of a nearby search.
const (
	MaxRadiusM     = 50000
	DefaultRadiusM = 5000
	MaxLimit       = 100
	DefaultLimit   = 20
)

// SearchResult is one business in a search answer with its great-circle
// distance from the query point in metres.
type SearchResult struct {
	Business
	DistanceM float64
}
