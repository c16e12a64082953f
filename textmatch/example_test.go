package textmatch_test

import (
	"fmt"

	"github.com/nearby/nearby/textmatch"
)

func Example() {
	names := []string{"Le Petit Café", "Café de Flore", "McDonald's", "Boulangerie Saint-Étienne", "Petit Bateau"}
	folded := make([]string, len(names)) // once, when the index is built
	for i, n := range names {
		folded[i] = textmatch.Fold(n)
	}
	fmt.Printf("%q\n", folded)

	for _, q := range []string{"caf", "PET CAF", "afe", "mcdonalds", "st-eti", "☕"} {
		query, err := textmatch.Compile(q)
		if err != nil {
			fmt.Printf("%s: %v\n", q, err)
			continue
		}
		var hits []string
		for i, f := range folded {
			if query.Match(f) {
				hits = append(hits, names[i])
			}
		}
		fmt.Printf("%s: %q\n", q, hits)
	}
	// Output:
	// ["le petit cafe" "cafe de flore" "mcdonalds" "boulangerie saint etienne" "petit bateau"]
	// caf: ["Le Petit Café" "Café de Flore"]
	// PET CAF: ["Le Petit Café"]
	// afe: []
	// mcdonalds: ["McDonald's"]
	// st-eti: []
	// ☕: textmatch: empty query: "☕" has no letters or digits
}
