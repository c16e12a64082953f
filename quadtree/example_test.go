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

func ExampleTree_BestRated() {
	b := quadtree.NewBuilder(4)
	// Ratings are tenths of a star plus one: 46 is 4.5 stars.
	_ = b.AddWith(1, 48.8584, 2.2945, 0, "Tour Eiffel Café", quadtree.Attrs{Price: 3, Rating: 39})
	_ = b.AddWith(2, 48.8606, 2.3376, 0, "Louvre Bistro", quadtree.Attrs{Price: 2, Rating: 46})
	_ = b.AddWith(3, 48.8530, 2.3499, 0, "Notre-Dame Crêperie", quadtree.Attrs{Price: 1, Rating: 46})
	_ = b.AddWith(4, 48.8600, 2.3400, 0, "Unrated Corner", quadtree.Attrs{Price: 1})
	tree := b.Build()

	// The best rated places within 5 km of the Louvre costing $ or $$.
	hits, err := tree.BestRated(nil, 48.8606, 2.3376, 5000, 10, quadtree.Filter{Prices: 1<<1 | 1<<2})
	if err != nil {
		panic(err)
	}
	for _, h := range hits {
		stars := "unrated"
		if h.Rating > 0 {
			stars = fmt.Sprintf("%.1f stars", float64(h.Rating-1)/10)
		}
		fmt.Printf("%s: %s, %.0f m\n", tree.Name(h.Index), stars, h.DistanceM)
	}
	// Output:
	// Louvre Bistro: 4.5 stars, 0 m
	// Notre-Dame Crêperie: 4.5 stars, 1234 m
	// Unrated Corner: unrated, 188 m
}
