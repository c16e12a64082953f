package textmatch_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nearby/nearby/textmatch"
)

// benchNames returns n business names made of common words, folded.
func benchNames(n int) []string {
	words := strings.Fields(`Le La El The Zum Petit Grand Café Coffee Bäckerei Boulangerie Pizzeria Trattoria
		Sushi Ramen Tapas Bar Bistro Brasserie Kebab Döner Gasthaus Löwen Rincón Taquería Müller Schmidt
		García O'Brien's McDonald's Starbucks Saint-Étienne São Paulo Kraków Wok House Garden Express
		Noodle Deli Market Pharmacy Apotheke Friseur Salon Bakery Burger Grill Pub Crêperie 北京烤鸭 寿司`)
	r := rand.New(rand.NewPCG(1, 2))
	names := make([]string, n)
	for i := range names {
		w := make([]string, 2+r.IntN(3))
		for j := range w {
			w[j] = words[r.IntN(len(words))]
		}
		names[i] = textmatch.Fold(strings.Join(w, " "))
	}
	return names
}

var sink int

func BenchmarkMatch(b *testing.B) {
	names := benchNames(10000)
	for _, q := range []string{"caf", "pet caf", "mcdonalds", "saint eti", "zzz", "le le"} {
		b.Run("names=10k/q="+q, func(b *testing.B) {
			query, err := textmatch.Compile(q)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			hits := 0
			for b.Loop() {
				for _, f := range names {
					if query.Match(f) {
						hits++
					}
				}
			}
			sink = hits
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(names)), "ns/name")
		})
	}
}

func BenchmarkFold(b *testing.B) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += len(textmatch.Fold("Boulangerie Pâtisserie Saint-Étienne"))
	}
	sink = n
}
