package quadtree_test

import (
	"fmt"

	"github.com/nearby/nearby/quadtree"
)

func Example() {
	b := quadtree.NewBuilder(4)
	_ = b.Add(1, 48.8584, 2.2945, 0, "Tour Eiffel Café")
	_ = b.Add(2, 48.8606, 2.3376, 0, "Louvre Bistro")
	_ = b.Add(3, 48.8530, 2.3499, 1, "Notre-Dame Bakery")
	_ = b.Add(4, 51.5007, -0.1246, 0, "Westminster Grill")
	tree := b.Build()

	// The two nearest category-0 businesses within 5 km of the Louvre.
	hits, err := tree.Nearest(nil, 48.8606, 2.3376, 5000, 2, quadtree.Filter{Categories: 1 << 0})
	if err != nil {
		panic(err)
	}
	for _, h := range hits {
		fmt.Printf("%d %s %.0f m\n", h.ID, tree.Name(h.Index), h.DistanceM)
	}
	// Output:
	// 2 Louvre Bistro 0 m
	// 1 Tour Eiffel Café 3163 m
}
