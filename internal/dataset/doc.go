// Package dataset makes realistic, reproducible test and benchmark data for
// nearby: businesses placed around real cities, the searches people make
// around them, and the CSV files both travel in.
//
// Rules:
//   - Cities come from an embedded, reduced copy of the GeoNames cities1000
//     extract (CC BY 4.0; see ATTRIBUTION.md and internal/mkcities, which
//     derives it). Programs that embed this package must keep the credit
//     "Contains data from GeoNames (geonames.org), CC BY 4.0".
//   - Businesses and query points are drawn around a city chosen with
//     probability proportional to its population, at a distance whose scale
//     grows with the square root of the population (about 5 km for Shanghai,
//     200 m for a town of 10,000), with a heavy tail into the countryside
//     (capped at 300 km). Dense downtowns, sparse countryside, empty oceans:
//     the clustered shape a spatial index must cope with.
//   - About 1% of businesses share the exact coordinates of an earlier one
//     (malls, office towers), so indexes see duplicate points.
//   - Output is a pure function of (n, seed) and the version of this
//     package: the first k businesses of Generate(n, seed) are
//     Generate(k, seed). Tuning the generator may change the output between
//     versions; floating-point differences between CPU architectures may move
//     a rare coordinate by 1e-7°.
//   - Coordinates are WGS84 degrees rounded to 1e-7° (about 1 cm), latitude
//     in [-90, 90], longitude in [-180, 180]; points pushed past a pole are
//     folded back, longitudes wrap across the antimeridian.
//   - IDs are 1..n in generation order.
//   - Cities, Generate and Queries are safe for concurrent use; a Generator
//     or QueryGenerator is not (use one per goroutine, with its own seed).
//   - The embedded table is parsed once, on first use (about 0.1 s). The
//     generators panic if it does not parse: that is a broken build, which
//     the package's tests rule out, not a condition a caller could handle.
//   - Reading CSV never panics: every bad row is a nearby.EINVALID error that
//     names its line.
package dataset
