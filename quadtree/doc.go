// Package quadtree is an immutable, in-memory point index for nearest-neighbour
// search on the sphere, built for business locations.
//
// Rules:
//   - Built once from a batch of entries (Builder or Build), then never
//     changed. Every method is safe for concurrent use without locks; a
//     service swaps a new tree in with atomic.Pointer.
//   - Entries are kept in flat, pointer-free columns in tree order: id
//     (int64), latitude and longitude as int32 degrees × 1e7 (about 1 cm),
//     and a category in [0, 32). Names live in a separate byte blob, out of
//     the hot path. Tree order is the Morton (Z-order) order of a 2^32 × 2^32
//     grid over longitude × latitude, so every quadtree cell is one
//     contiguous run of entries.
//   - Cells split into four quadrants until a leaf holds at most LeafCap
//     entries. More than LeafCap entries with one coordinate stay in one leaf.
//     A cell whose entries all fall into one quadrant is not stored, so depth
//     stays small in dense downtowns; it is bounded by 33 in any case.
//   - Each node keeps the tight bounding box of its entries and the set of
//     their categories, so a category filter prunes whole subtrees.
//   - Queries are exact: Nearest, Within and InBox return what a brute-force
//     scan measuring every entry with geo.Distance (haversine on a sphere of
//     6371008.8 m) would, with ties broken by id. Subtrees and entries are
//     discarded only on true lower bounds of the great-circle distance
//     (geo.RectHavLowerBound), so nothing is lost at the antimeridian or the
//     poles. Longitudes -180 and 180 are distinct values in the index but
//     the same place on the globe: the distance between them is 0.
//   - Bad input (NaN, out-of-range coordinates, radius ≤ 0, k ≤ 0) gives an
//     error wrapping one of the Err values; nothing panics. An empty tree
//     answers every query with no results.
//
// The package imports only the standard library and package geo.
package quadtree
