package geo_test

import (
	"fmt"

	"github.com/nearby/nearby/geo"
)

func ExampleDistance() {
	// Paris to London.
	d := geo.Distance(48.8566, 2.3522, 51.5074, -0.1278)
	fmt.Printf("%.0f km\n", d/1000)
	// Output: 344 km
}

func ExampleCircleBounds() {
	// A 50 km circle on the antimeridian near Fiji wraps around.
	r := geo.CircleBounds(-17, 180, 50000)
	fmt.Println(r.MinLon > r.MaxLon, len(r.Split()))
	// Output: true 2
}
