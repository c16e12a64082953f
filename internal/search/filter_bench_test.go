package search_test

import (
	"context"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	. "github.com/nearby/nearby/internal/search"
)

// BenchmarkFilters times realistic searches (k as drawn, mostly 20) over
// 1M realistic businesses with one filter or order at a time, each against
// the same searches unfiltered, alternating query by query (and which goes
// first) so both see the same machine; it reports both means and their
// ratio. The workload's own category filters are dropped, so "unfiltered"
// is every category.
func BenchmarkFilters(b *testing.B) {
	region, err := BuildRegion("world", 1, dataset.Generate(1_000_000, 1))
	if err != nil {
		b.Fatal(err)
	}
	e := &Engine{}
	e.Swap(NewIndex(region))
	wednesday := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC) // afternoon in Europe, morning in the Americas, night in Asia
	for _, tc := range []struct {
		name  string
		apply func(*nearby.SearchQuery)
	}{
		{"rare-category=museum", func(q *nearby.SearchQuery) { q.Categories = nearby.CategorySet(0).Add(nearby.Museum) }},
		{"open_now", func(q *nearby.SearchQuery) { q.OpenAt = wednesday }},
		{"min_rating=4.5", func(q *nearby.SearchQuery) { q.MinRating = nearby.RatingOf(45) }},
		{"price=4", func(q *nearby.SearchQuery) { q.Prices = nearby.PriceSet(1 << 4) }},
		{"q=caf", func(q *nearby.SearchQuery) { q.Name = "caf" }},
		{"sort=rating", func(q *nearby.SearchQuery) { q.Sort = nearby.SortRating }},
		{"total", func(q *nearby.SearchQuery) { q.Total = true }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			qs := dataset.Queries(4096, 3)
			ctx := context.Background()
			var took [2]time.Duration
			var found [2]int
			for i := range b.N {
				base := qs[i%len(qs)].SearchQuery()
				base.Categories = 0
				filtered := base
				tc.apply(&filtered)
				for j := range 2 {
					k := (i + j) % 2
					q := [2]nearby.SearchQuery{base, filtered}[k]
					t0 := time.Now()
					page, err := e.Nearby(ctx, q, nil)
					if err != nil {
						b.Fatal(err)
					}
					took[k] += time.Since(t0)
					found[k] += len(page.Results)
				}
			}
			perOp := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / 1000 }
			b.ReportMetric(perOp(took[0]), "unfiltered-µs")
			b.ReportMetric(perOp(took[1]), "filtered-µs")
			b.ReportMetric(float64(took[1])/float64(took[0]), "filtered/unfiltered-x")
			b.ReportMetric(float64(found[1])/float64(b.N), "results/query")
		})
	}
}
