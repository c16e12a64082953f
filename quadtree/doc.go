// Package quadtree is an immutable, in-memory point index for nearest-neighbour
// search on the sphere, built for business locations.
//
// Rules:
//   - Built once from a batch of entries (Builder or Build), then never
//     changed. Every method is safe for concurrent use without locks; a
//     service swaps a new tree in with atomic.Pointer.
//   - Entries are kept in flat, pointer-free columns in tree order: id
//     (a uint32 offset from the smallest id when the ids span less than
//     2^32, else int64), latitude and longitude as int32 degrees × 1e7
//     (about 1 cm), a category in [0, 32), and the Attrs a filter reads:
//     price and rating (a uint8 each) and a tag (uint32), 19 bytes an entry
//     (23 with whole ids). Names (a byte
//     blob and uint32 offsets) and review counts (uint32) live apart, out
//     of the hot path: 8 bytes an entry plus the names (12 in a tree from
//     Build, which maps tree order to the order of Add). IndexBytes and
//     ColdBytes count the two. Tree order is the Morton (Z-order) order of
//     a 2^32 × 2^32 grid over longitude × latitude, so every quadtree cell
//     is one contiguous run of entries.
//   - Cells split into four quadrants until a leaf holds at most LeafCap
//     entries. More than LeafCap entries with one coordinate stay in one leaf.
//     A cell whose entries all fall into one quadrant is not stored, so depth
//     stays small in dense downtowns; it is bounded by 33 in any case.
//   - Each node (36 bytes; about one per ten entries on clustered data)
//     keeps the tight bounding box of its entries, the set of their
//     categories, the set of their prices (bit 0 for "no price") and their
//     best rating, so a filter on categories, prices or a minimum rating
//     skips whole subtrees without reading their entries: a rare category
//     in a dense city does not scan the city. Filter.Accept, for what the
//     tree does not know, is asked last and only about entries in the
//     query's geometry.
//   - Queries are exact: Nearest, BestRated, Within, InBox and InPolygon
//     return what a brute-force scan measuring every entry with
//     geo.Distance (haversine on a sphere of 6371008.8 m), or testing it
//     with geo.Rect.Contains or geo.MultiPolygon.Contains, would, with ties
//     broken by id. Nearest orders by distance; BestRated by rating, best
//     first (unrated last), then distance; both page with Filter.After.
//     Within, InBox and InPolygon report entries in tree order. Subtrees
//     and entries are discarded only on true lower bounds of the
//     great-circle distance (geo.RectHavLowerBound), or on exact relations
//     of boxes, so nothing is lost at the antimeridian or the poles.
//     Longitudes -180 and 180 are distinct values in the index but the same
//     place on the globe: the distance between them is 0 but for
//     rounding (geo.Distance gives under 2e-9 m). Boxes and polygons compare
//     them as given (see geo.Rect).
//   - Counts are exact too and cheaper than visiting: CountWithin and
//     CountGrid take a subtree whose entries all pass the filter's
//     attribute tests as a whole (less its Skip bits) when it lies surely
//     inside the circle (an upper bound of the distance, with rounding
//     margins) or inside one cell of the grid.
//   - Bad input (NaN, out-of-range coordinates, radius ≤ 0, k ≤ 0, a price
//     above MaxPrice or a rating above MaxRating, a polygon without valid
//     vertices) gives an error wrapping one of the Err values; nothing
//     panics. An empty tree answers every query with no results.
//
// The package imports only the standard library and package geo.
package quadtree
