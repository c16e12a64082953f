package geo_test

import (
	"fmt"

	"github.com/nearby/nearby/geo"
)

func ExampleParseGeoJSON() {
	// A park with a pond, as POST /v1/search/within receives it: positions
	// are [lon, lat]; the second ring is a hole.
	park, err := geo.ParseGeoJSON([]byte(`{"type": "Polygon", "coordinates": [
		[[2.0, 48.0], [2.4, 48.0], [2.4, 48.4], [2.0, 48.4], [2.0, 48.0]],
		[[2.1, 48.1], [2.1, 48.3], [2.3, 48.3], [2.3, 48.1], [2.1, 48.1]]]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("lawn:", park.Contains(48.05, 2.2))
	fmt.Println("pond:", park.Contains(48.2, 2.2))
	fmt.Println("fence:", park.Contains(48.0, 2.2))
	fmt.Printf("bounds: %+v\n", park.Bounds())

	// An index skips cells that are Disjoint and takes whole cells that are
	// Inside without testing their points.
	fmt.Println(park.RelateRect(geo.Rect{MinLat: 48.15, MinLon: 2.15, MaxLat: 48.25, MaxLon: 2.25}))
	fmt.Println(park.RelateRect(geo.Rect{MinLat: 48.01, MinLon: 2.01, MaxLat: 48.09, MaxLon: 2.39}))
	fmt.Println(park.RelateRect(geo.Rect{MinLat: 47.9, MinLon: 2.2, MaxLat: 48.05, MaxLon: 2.3}))

	// A ring across the antimeridian must be split there.
	_, err = geo.ParseGeoJSON([]byte(`{"type": "Polygon", "coordinates": [[[179, -18], [-179, -18], [-179, -16], [179, -18]]]}`))
	fmt.Println(err)
	// Output:
	// lawn: true
	// pond: false
	// fence: true
	// bounds: {MinLat:48 MinLon:2 MaxLat:48.4 MaxLon:2.4}
	// Disjoint
	// Inside
	// Partial
	// geo: invalid polygon: polygon 0 ring 0: edge from [179, -18] to [-179, -18] spans more than 180° of longitude; split the shape at the antimeridian into a MultiPolygon (RFC 7946 §3.1.9)
}
