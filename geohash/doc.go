// Package geohash encodes points as geohash cells and covers search circles
// with them, so a store keyed by geohash (a Redis set, a database prefix
// index) can answer "what is within r metres of here" by reading a few cells.
// It builds on github.com/mmcloughlin/geohash for the encoding.
//
// Rules:
//   - Coordinates are WGS84 degrees, latitude in [-90, 90] and longitude in
//     [-180, 180] (geo.Valid); distances are metres as measured by
//     geo.Distance.
//   - A geohash is 1 to 12 characters of the lowercase alphabet
//     "0123456789bcdefghjkmnpqrstuvwxyz"; its length is the precision. A
//     precision-p cell is 180°/2^⌊5p/2⌋ high and 360°/2^⌈5p/2⌉ wide, from
//     about 5000 km (p = 1) to about 2 cm × 4 cm (p = 12) at the equator.
//   - Cells are half-open, [min, max), as the library encodes them, except
//     at the edges of the world: latitude 90 belongs to the northernmost row
//     and longitude 180 to the easternmost column (the library, left alone,
//     wraps both to the opposite side), longitude -180 to the westernmost.
//     A point on the antimeridian thus has two encodings, one per spelling.
//   - Cover is complete: for every point p with geo.Distance(centre, p) ≤
//     radiusM, Encode(p, precision) is in Cover(centre, radiusM, precision).
//     Cells are kept on a true lower bound of the distance from the centre
//     (geo.RectHavLowerBound against geo.HavBound), so nothing is lost at the
//     antimeridian or the poles; a few cells that only come near the circle
//     may be kept too. Cover returns at most MaxCells cells.
//   - Bad input (NaN or ±Inf, out-of-range coordinates, radius ≤ 0, precision
//     outside 1..12, a malformed geohash) gives an error wrapping one of the
//     Err values; nothing panics, whatever the input.
//   - Every function is pure and safe for concurrent use.
//
// The package imports only the standard library, the geohash library and
// package geo.
package geohash
