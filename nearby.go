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
