package dataset

import (
	"math/rand/v2"
	"slices"

	"github.com/nearby/nearby"
)

// Query is one search of a query workload: the Limit nearest businesses
// within RadiusM of a point, optionally only in some categories.
type Query struct {
	Lat, Lon   float64           // degrees, rounded to 1e-7
	RadiusM    float64           // metres, in (0, nearby.MaxRadiusM]
	Limit      int               // in [1, nearby.MaxLimit]
	Categories []nearby.Category // nil or empty = all; generated filters are sorted and distinct
}

// SearchQuery returns q as the domain's search query.
func (q Query) SearchQuery() nearby.SearchQuery {
	var set nearby.CategorySet
	for _, c := range q.Categories {
		set = set.Add(c)
	}
	return nearby.SearchQuery{Lat: q.Lat, Lon: q.Lon, RadiusM: q.RadiusM, Limit: q.Limit, Categories: set}
}

// The workload mix: radii and limits with their shares.
var (
	radiiM = []share[float64]{{500, 300}, {2000, 400}, {5000, 200}, {20000, 100}}
	limits = []share[int]{{20, 850}, {10, 50}, {50, 50}, {100, 50}}
)

// share is a value with its share of draws, in thousandths.
type share[V any] struct {
	v        V
	permille int
}

// drawShare picks a value from a table whose shares sum to 1000.
func drawShare[V any](r *rand.Rand, table []share[V]) V {
	p := r.IntN(1000)
	for _, e := range table {
		if p < e.permille {
			return e.v
		}
		p -= e.permille
	}
	return table[len(table)-1].v
}

const (
	filterShare = 0.3 // share of queries with a category filter
	// Of the filtered queries, 75% name one category, 20% two and 5% three.
	filterTwo, filterThree = 0.20, 0.05
)

// QueryGenerator streams a query workload. Query points are drawn exactly as
// business locations are (people search where the shops are), from a random
// stream independent of the businesses'. It is not safe for concurrent use.
type QueryGenerator struct {
	w *world
	r *rand.Rand
}

// NewQueryGenerator returns a generator of the query sequence for seed.
func NewQueryGenerator(seed uint64) *QueryGenerator {
	return &QueryGenerator{w: mustWorld(), r: rand.New(rand.NewPCG(seed, queryStream))}
}

// Next returns the next query: radius 500 m (30%), 2 km (40%), 5 km (20%) or
// 20 km (10%); limit 20 (85%), 10, 50 or 100 (5% each); a filter of one to
// three categories, drawn by business frequency, on 30% of queries.
func (g *QueryGenerator) Next() Query {
	var q Query
	q.Lat, q.Lon, _ = g.w.place(g.r)
	q.RadiusM = drawShare(g.r, radiiM)
	q.Limit = drawShare(g.r, limits)
	if g.r.Float64() < filterShare {
		k := 1
		switch u := g.r.Float64(); {
		case u < filterThree:
			k = 3
		case u < filterThree+filterTwo:
			k = 2
		}
		q.Categories = make([]nearby.Category, 0, k)
		for len(q.Categories) < k {
			c := nearby.Category(g.w.cats.draw(g.r))
			if !slices.Contains(q.Categories, c) {
				q.Categories = append(q.Categories, c)
			}
		}
		slices.Sort(q.Categories)
	}
	return q
}

// Queries returns n queries (none if n <= 0) for seed: the first n that
// NewQueryGenerator(seed) would give. It is safe for concurrent use.
func Queries(n int, seed uint64) []Query {
	g := NewQueryGenerator(seed)
	qs := make([]Query, max(n, 0))
	for i := range qs {
		qs[i] = g.Next()
	}
	return qs
}
