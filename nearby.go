// Package nearby holds the domain types of the nearby proximity search
// service: businesses, categories, search queries and results, and the
// domain error. It imports no driver; adapters in internal/ speak these types
// and cmd/ wires them together.
package nearby

// Business is a local business as searchers see it in results. Coordinates
// are WGS84 degrees as stored in the index (rounded to 1e-7°, about 1 cm).
type Business struct {
	ID       int64
	Name     string
	Category Category
	Lat, Lon float64
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
