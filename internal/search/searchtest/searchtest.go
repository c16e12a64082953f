// Package searchtest holds what tests of searches compare the engine with,
// in package search and across nodes: brute-force scans written from the
// definitions (geo.Distance, geo.Rect.Contains, geo.MultiPolygon.Contains
// and each filter's meaning), random filters, and paging to the end.
package searchtest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/textmatch"
)

// Passes reports whether b passes the categories and filters, from their
// definitions.
func Passes(b nearby.Business, cats nearby.CategorySet, f nearby.Filters) bool {
	if cats != 0 && !cats.Has(b.Category) {
		return false
	}
	if f.Prices != 0 && !f.Prices.Has(b.Price) {
		return false
	}
	if f.MinRating != nearby.Unrated && (!b.Rating.Rated() || b.Rating.Tenths() < f.MinRating.Tenths()) {
		return false
	}
	if !f.OpenAt.IsZero() && (b.Hours == nil || !b.Hours.OpenAt(f.OpenAt)) {
		return false
	}
	if f.Name != "" {
		q, err := textmatch.Compile(f.Name)
		if err != nil || !q.MatchName(b.Name) {
			return false
		}
	}
	return true
}

// RandFilters returns random categories and filters, each often absent;
// instants fall around the 2026 DST changes.
func RandFilters(r *rand.Rand) (nearby.CategorySet, nearby.Filters) {
	var cats nearby.CategorySet
	var f nearby.Filters
	if r.IntN(3) == 0 {
		cats = nearby.CategorySet(1 + r.IntN(15))
	}
	if r.IntN(3) == 0 {
		f.Prices = nearby.PriceSet(r.IntN(16) << 1)
	}
	if r.IntN(3) == 0 {
		f.MinRating = nearby.RatingOf(r.IntN(51))
	}
	if r.IntN(3) == 0 {
		base := []time.Time{
			time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC), time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC),
			time.Date(2026, 4, 5, 13, 0, 0, 0, time.UTC), time.Date(2026, 9, 27, 14, 0, 0, 0, time.UTC),
		}[r.IntN(4)]
		f.OpenAt = base.Add(time.Duration(r.IntN(72*60)) * time.Minute)
	}
	if r.IntN(4) == 0 {
		f.Name = []string{"caf", "CAFE", "blue", "müll", "muller", "strasse", "etienne bar", "pizza joe", "zz"}[r.IntN(9)]
	}
	return cats, f
}

// Nearby is a brute-force nearby search of bs: every business within the
// radius that passes the filters, in the query's order (rating, best
// first, then distance; or distance), ties by id. Limit and Total are not
// looked at.
func Nearby(bs []nearby.Business, q nearby.SearchQuery) []nearby.SearchResult {
	var want []nearby.SearchResult
	for _, b := range bs {
		if d := geo.Distance(q.Lat, q.Lon, b.Lat, b.Lon); d <= q.RadiusM && Passes(b, q.Categories, q.Filters) {
			want = append(want, nearby.SearchResult{Business: b, DistanceM: d})
		}
	}
	slices.SortFunc(want, func(a, b nearby.SearchResult) int {
		if q.Sort == nearby.SortRating {
			if c := cmp.Compare(b.Rating, a.Rating); c != 0 {
				return c
			}
		}
		return cmp.Or(cmp.Compare(a.DistanceM, b.DistanceM), cmp.Compare(a.ID, b.ID))
	})
	return want
}

// Area is a brute-force area search of bs: every business in the shape
// (or the box) that passes the filters, by id, or by distance from the
// box's centre (then id) when q.ByDistance.
func Area(bs []nearby.Business, q nearby.AreaQuery) []nearby.SearchResult {
	cLat, cLon := q.Box.Centre()
	var want []nearby.SearchResult
	for _, b := range bs {
		in := q.Box.Contains(b.Lat, b.Lon)
		if q.Shape != nil {
			in = q.Shape.Contains(b.Lat, b.Lon)
		}
		if in && Passes(b, q.Categories, q.Filters) {
			res := nearby.SearchResult{Business: b}
			if q.ByDistance {
				res.DistanceM = geo.Distance(cLat, cLon, b.Lat, b.Lon)
			}
			want = append(want, res)
		}
	}
	slices.SortFunc(want, func(a, b nearby.SearchResult) int {
		return cmp.Or(cmp.Compare(a.DistanceM, b.DistanceM), cmp.Compare(a.ID, b.ID))
	})
	return want
}

// AllPages pages through search from the start, and returns every result
// and the first page.
func AllPages[Q any](t testing.TB, search func(Q, *nearby.Cursor) (*nearby.SearchPage, error), q Q) ([]nearby.SearchResult, *nearby.SearchPage) {
	t.Helper()
	var got []nearby.SearchResult
	var after *nearby.Cursor
	var first *nearby.SearchPage
	for range 10000 {
		page, err := search(q, after)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if first == nil {
			first = page
		}
		got = append(got, page.Results...)
		if page.Next == nil {
			return got, first
		}
		after = page.Next
	}
	t.Fatal("paging does not end")
	return nil, nil
}

// Seeded runs test once per random seed, 1 to 6, as subtests, or only for
// seed when it is not 0 (a flag of the caller's, named flagName, so that a
// failing seed is rerun alone: each subtest says how).
func Seeded(t *testing.T, seed uint64, flagName string, test func(t *testing.T, seed uint64)) {
	seeds := []uint64{1, 2, 3, 4, 5, 6}
	if seed != 0 {
		seeds = []uint64{seed}
	}
	for _, s := range seeds {
		t.Run(fmt.Sprint("seed=", s), func(t *testing.T) {
			t.Logf("rerun with -%s=%d", flagName, s)
			test(t, s)
		})
	}
}
