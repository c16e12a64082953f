package geohash_test

import (
	"fmt"

	"github.com/nearby/nearby/geohash"
)

func Example() {
	// Cells to read for businesses within 2 km of the Eiffel Tower.
	lat, lon, radiusM := 48.8584, 2.2945, 2000.0
	p := geohash.PrecisionForRadius(radiusM)
	cells, err := geohash.Cover(lat, lon, radiusM, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("precision", p, "cell", geohash.Encode(lat, lon, p))
	fmt.Println(cells)

	// Bad input is an error, never a panic.
	_, _, err = geohash.Decode("eiffel")
	fmt.Println(err)
	// Output:
	// precision 5 cell u09tu
	// [u09tg u09tu u09w5 u09wh]
	// decode: geohash: invalid hash: "eiffel": character 'i' at 1
}
