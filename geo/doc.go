// Package geo holds the great-circle geometry shared by every part of nearby:
// one distance function, circle bounding rectangles, cheap lower bounds and
// polygons.
//
// Rules:
//   - Coordinates are WGS84 degrees: latitude in [-90, 90], longitude in
//     [-180, 180]. Both ±180° name the antimeridian.
//   - Distances are metres on a sphere of radius EarthRadiusM (6371008.8 m),
//     computed with the haversine formula by Distance. Nothing else in the
//     project computes a distance, so an index and a brute-force scan agree bit
//     for bit.
//   - Rectangles crossing the antimeridian have MinLon > MaxLon; bounding
//     rectangles of circles that contain a pole span all longitudes.
//   - Lower bounds (HavLowerBound, RectHavLowerBound) are in haversine space
//     (a = sin²(d/2R)) and use no trigonometry; they are never above the true
//     value, so pruning with them never loses a point.
//   - Polygons (MultiPolygon, from GeoJSON by ParseGeoJSON) are planar in
//     lon/lat as RFC 7946 says, closed (edges inside), with holes by the
//     even-odd rule; rings must not cross the antimeridian (split them).
//     See MultiPolygon for the full rules.
//
// The package uses only the standard library; quadtree and geohash build on it.
package geo
