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
//   - Every business has attributes: a price level by category (gas
//     stations and laundries mostly 1–2, hotels and restaurants spread over
//     1–4, banks and dentists mostly none; about 10% without one); a rating
//     of about Normal(4.1, 0.5) stars clipped to 1–5, one decimal, with a
//     log-normal review count (median 40, heavy tail), except 8% unrated
//     with no reviews; and opening hours from a few templates per category
//     (cafés 07:00–19:00, bars until 02:00, restaurants lunch and dinner,
//     gas stations and some pharmacies 24 hours, shops often closed on
//     Sunday; 10% unknown) in the time zone of the city. A city's zone comes
//     from its country, by longitude and latitude bands for countries with
//     several (zoneOf), else the Etc/GMT±N zone nearest its longitude. The
//     package embeds the tz database (time/tzdata), so zones load anywhere.
//   - Each distinct schedule (template and zone) is built once per process
//     and shared: businesses with the same hours point to the same
//     *hours.Schedule, which is never modified. Reading CSV shares them too.
//   - Output is a pure function of (n, seed) and the version of this
//     package: the first k businesses of Generate(n, seed) are
//     Generate(k, seed). Attributes are drawn from a random stream of their
//     own, so places, categories and names do not depend on them. Tuning the generator may change the output between
//     versions; floating-point differences between CPU architectures may move
//     a rare coordinate by 1e-7°.
//   - Coordinates are WGS84 degrees rounded to 1e-7° (about 1 cm), latitude
//     in [-90, 90], longitude in [-180, 180]; points pushed past a pole are
//     folded back, longitudes wrap across the antimeridian.
//   - IDs are 1..n in generation order.
//   - Cities, Generate and Queries are safe for concurrent use; a Generator
//     or QueryGenerator is not (use one per goroutine, with its own seed).
//   - The embedded table is parsed on first use (about 0.1 s) and shared by
//     every generator alive; once none is, the garbage collector takes it
//     back (a later generator parses it again), so a process that generates
//     once, like searchd's demo, does not keep 12 MB of small objects for
//     the collector to trace. The generators panic if the table does not
//     parse: that is a broken build, which the package's tests rule out,
//     not a condition a caller could handle.
//   - Reading CSV never panics: every bad row is a nearby.EINVALID error that
//     names its line.
package dataset
