package nearby

import (
	"context"

	"github.com/nearby/nearby/textmatch"
)

// Cursor marks where a page of results ended: the next page starts
// strictly after it in the search's order: (DistanceM, ID), (Rating
// descending, DistanceM, ID) for SortRating, or ID for an area search by
// id. It is valid only for the index version it was issued on.
type Cursor struct {
	IndexVersion string
	Rating       Rating
	DistanceM    float64
	ID           int64
}

// SearchPage is one page of a search.
type SearchPage struct {
	Results      []SearchResult
	Next         *Cursor // nil on the last page
	IndexVersion string
	Partial      bool     // some regions could not be asked
	Missing      []string // the regions that could not be asked
	// Total counts every match (not only this page) when the query asked
	// for it; TotalCapped says it reached MaxTotal and there may be more.
	Total       int
	TotalCapped bool
}

// IndexStats describes the index a node serves.
type IndexStats struct {
	Version string
	Count   int           // businesses in every region, local or remote
	Regions []RegionStats // the regions this node holds
	// Remote are the regions other nodes of a cluster hold, as the
	// manifest describes them: name, version and count as of their seeds.
	Remote []RegionStats
}

// RegionStats describes one region's index.
type RegionStats struct {
	Name      string
	Version   uint64
	Count     int
	IndexSize int // bytes of the spatial index
	ColdSize  int // bytes of names and other data read only for results
	Live      int // businesses changed since the region's seed (live delta)
}

// SearchService answers nearby searches and business lookups.
type SearchService interface {
	// Nearby returns the page of q's results after the cursor (nil: the
	// first page). A cursor from another index version is an ECONFLICT error.
	Nearby(ctx context.Context, q SearchQuery, after *Cursor) (*SearchPage, error)
	// Area returns the page of q's results after the cursor.
	Area(ctx context.Context, q AreaQuery, after *Cursor) (*SearchPage, error)
	// Business returns the business with the id, or an ENOTFOUND error.
	Business(ctx context.Context, id int64) (*Business, error)
	// Stats describes the index being served; ok is false before one is loaded.
	Stats() (s IndexStats, ok bool)
}

// Validate checks q against the documented limits and returns an EINVALID
// error naming every bad parameter.
func (q SearchQuery) Validate() error {
	var bad []InvalidParam
	if !(q.Lat >= -90 && q.Lat <= 90) {
		bad = append(bad, InvalidParam{"lat", "must be a number in [-90, 90]"})
	}
	if !(q.Lon >= -180 && q.Lon <= 180) {
		bad = append(bad, InvalidParam{"lon", "must be a number in [-180, 180]"})
	}
	if !(q.RadiusM > 0 && q.RadiusM <= MaxRadiusM) {
		bad = append(bad, InvalidParam{"radius", "must be metres in (0, 50000]"})
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		bad = append(bad, InvalidParam{"limit", "must be an integer in [1, 100]"})
	}
	if q.Sort > SortRating {
		bad = append(bad, InvalidParam{"sort", "must be distance or rating"})
	}
	bad = q.Filters.check(bad)
	return InvalidParams(bad)
}

// Validate checks q and returns an EINVALID error naming every bad
// parameter.
func (q AreaQuery) Validate() error {
	var bad []InvalidParam
	if q.Shape == nil && !q.Box.Valid() {
		bad = append(bad, InvalidParam{"min_lat", "the box needs -90 ≤ min_lat ≤ max_lat ≤ 90 and longitudes in [-180, 180] (min_lon > max_lon crosses the antimeridian)"})
	}
	if q.Shape != nil && q.ByDistance {
		bad = append(bad, InvalidParam{"order", "a polygon search is ordered by id"})
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		bad = append(bad, InvalidParam{"limit", "must be an integer in [1, 100]"})
	}
	bad = q.Filters.check(bad)
	return InvalidParams(bad)
}

func (f Filters) check(bad []InvalidParam) []InvalidParam {
	if !f.MinRating.Valid() {
		bad = append(bad, InvalidParam{"min_rating", "must be 0 to 5 stars"})
	}
	if f.Name != "" {
		if _, err := textmatch.Compile(f.Name); err != nil {
			bad = append(bad, InvalidParam{"q", err.Error()})
		}
	}
	return bad
}

// ShardAnswer is one region's part of a nearby search, as one search node
// answers another in a cluster.
type ShardAnswer struct {
	Region  string
	Version uint64
	Results []SearchResult
	// Total and TotalCapped count the region's matches when the query
	// asked for a total.
	Total       int
	TotalCapped bool
	// Counts is the region's density grid (ShardDensity), row-major.
	Counts []int
}

// ShardService answers for the regions a node holds.
type ShardService interface {
	// Shard returns the region's best q.Limit results after the cursor
	// (whose IndexVersion is ignored).
	Shard(ctx context.Context, region string, q SearchQuery, after *Cursor) (*ShardAnswer, error)
	// ShardArea returns the region's best q.Limit matches of an area
	// search after the cursor (whose IndexVersion is ignored), and its
	// total.
	ShardArea(ctx context.Context, region string, q AreaQuery, after *Cursor) (*ShardAnswer, error)
	// LocalBusiness looks an id up in one region held by this node.
	LocalBusiness(ctx context.Context, region string, id int64) (*Business, error)
	// ShardDensity counts the region's businesses per cell of the grid, in
	// the answer's Counts.
	ShardDensity(ctx context.Context, region string, g DensityGrid) (*ShardAnswer, error)
}
