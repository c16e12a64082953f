// Package nearby holds the domain types of the nearby proximity search
// service: businesses, categories, search queries and results, and the
// domain error. It imports no driver; adapters in internal/ speak these types
// and cmd/ wires them together.
package nearby

import "github.com/nearby/nearby/hours"

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
}

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
