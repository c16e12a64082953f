package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/search/searchtest"
)

// tieSpots are exact places many businesses share, on region borders, at
// both poles and either side of the antimeridian, so that distances and
// ratings tie within and across regions and live deltas.
var tieSpots = [][2]float64{
	{90, 0}, {90, 180}, {90, -180}, {90, -30}, {-90, 0}, {-90, -180}, {-90, 150},
	{-17, 180}, {-17, -180}, {-17, 179.9999999}, {0, 150}, {0, 149.9999999},
	{60, -30}, {60, 150}, {59.9999999, 150}, {60, 10}, {10, 10}, {10, 10.0000001},
}

// tiePlace is one of tieSpots.
func tiePlace(r *rand.Rand) (float64, float64) {
	p := tieSpots[r.IntN(len(tieSpots))]
	return p[0], p[1]
}

// tieWrite makes a create, move, re-rating or delete at tieSpots, with
// few distinct ratings, prices and categories.
func (db *fakeDB) tieWrite(r *rand.Rand) {
	var c nearby.Change
	var ids []int64
	for id, row := range db.rows {
		if !row.Deleted {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	attrs := func(b nearby.Business) nearby.Business {
		b.Name = fmt.Sprint("shop ", b.ID)
		b.Rating = nearby.Rating(r.IntN(3) * 20)
		b.Price = nearby.Price(r.IntN(3))
		b.Category = nearby.Category(r.IntN(3))
		return b
	}
	if len(ids) == 0 || r.IntN(3) == 0 {
		c.ID = db.nextID
		db.nextID++
		c.Lat, c.Lon = tiePlace(r)
		c.Business = attrs(c.Business)
	} else {
		c = db.rows[ids[r.IntN(len(ids))]].Change
		switch r.IntN(4) {
		case 0, 1:
			c.Lat, c.Lon = tiePlace(r)
		case 2:
			c.Business = attrs(c.Business)
		case 3:
			c.Deleted = true
		}
	}
	db.write(c, 0)
}

// TestTiesAcrossRegionsAndDeltas pages nearby (both orders, with totals)
// and box searches, and counts density grids, over businesses piled on a
// few exact places across four regions with live moves and deletes, from a
// node holding everything and from each node of a cluster, with limits
// from 1 to past the data: every answer equals brute force, and lookups
// find every live business and no deleted one.
func TestTiesAcrossRegionsAndDeltas(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	for round := range 6 {
		db := newFakeDB()
		for range 300 + r.IntN(600) {
			db.tieWrite(r)
			db.advance(10 * time.Millisecond)
		}
		regions, m := db.snapshot(t, polarAreas, 3)
		for range r.IntN(300) {
			db.tieWrite(r)
			db.advance(10 * time.Millisecond)
		}
		db.advance(2 * time.Second)
		sh := shards{}
		holds := [][]string{{"arctic", "pacific", "americas", "eurasia"}, {"arctic", "pacific"}, {"americas", "eurasia"}}
		nodes := followingNodes(t, db, regions, m, holds, sh, func(n int) bool { return n > 0 })
		live := db.live()
		ctx := context.Background()
		for range 150 {
			q := nearby.SearchQuery{Limit: []int{1, 2, 3, 63, 64, 100}[r.IntN(6)], RadiusM: []float64{1e-9, 0.01, 1, 1000, 50000}[r.IntN(5)], Total: true}
			q.Lat, q.Lon = tiePlace(r)
			if r.IntN(2) == 0 {
				q.Categories, q.Filters = searchtest.RandFilters(r)
				q.Filters.OpenAt, q.Filters.Name = time.Time{}, ""
			}
			if r.IntN(2) == 0 {
				q.Sort = nearby.SortRating
			}
			want := searchtest.Nearby(live, q)
			everyNodeAnswers(t, nodes, (*Engine).Nearby, q, want)
			aq := nearby.AreaQuery{Limit: []int{1, 2, 3, 64, 100}[r.IntN(5)], ByDistance: r.IntN(2) == 0, Categories: q.Categories}
			aq.Filters = q.Filters
			lat, lon := tiePlace(r)
			d := []float64{0, 1e-7, 1, 20}[r.IntN(4)]
			aq.Box = geo.Rect{MinLat: max(-90, lat-d), MaxLat: min(90, lat+d), MinLon: lon - d, MaxLon: lon + d}
			if aq.Box.MinLon < -180 {
				aq.Box.MinLon += 360
			}
			if aq.Box.MaxLon > 180 {
				aq.Box.MaxLon -= 360
			}
			wantA := searchtest.Area(live, aq)
			everyNodeAnswers(t, nodes, (*Engine).Area, aq, wantA)
			if aq.Box.MinLat < aq.Box.MaxLat && aq.Box.MinLon != aq.Box.MaxLon {
				cols, rows := 1+r.IntN(5), 1+r.IntN(5)
				wantD := bruteDensity(live, aq.Box, cols, rows, aq.Categories)
				for n, e := range nodes {
					dc, err := e.Density(ctx, nearby.DensityGrid{Box: aq.Box, Cols: cols, Rows: rows, Categories: aq.Categories})
					if err != nil || len(dc.Missing) > 0 || sum(dc.Counts) != sum(wantD) {
						t.Fatalf("round %d node %d density %+v: %v %v, want %v", round, n, aq.Box, err, dc, wantD)
					}
				}
			}
		}
		for n, e := range nodes {
			for id, row := range db.rows {
				b, err := e.Business(ctx, id)
				switch {
				case row.visible.Deleted:
					if nearby.ErrorCode(err) != nearby.ENOTFOUND {
						t.Fatalf("node %d: deleted %d: %+v, %v", n, id, b, err)
					}
				case err != nil || *b != row.visible.Business:
					t.Fatalf("node %d: lookup %d: %+v, %v; want %+v", n, id, b, err, row.visible.Business)
				}
			}
		}
	}
}

// ids shows results compactly: id@distance/rating.
// everyNodeAnswers pages q on each node with search and fails unless
// every answer is want, whole (not partial), with want's total.
func everyNodeAnswers[Q any](t *testing.T, nodes []*Engine, search func(*Engine, context.Context, Q, *nearby.Cursor) (*nearby.SearchPage, error), q Q, want []nearby.SearchResult) {
	t.Helper()
	for n, e := range nodes {
		got, first := searchtest.AllPages(t, func(q Q, after *nearby.Cursor) (*nearby.SearchPage, error) {
			return search(e, context.Background(), q, after)
		}, q)
		if !sameResults(got, want) || first.Partial || first.Total != len(want) {
			t.Fatalf("node %d, %+v: total %d partial %v\n got %d %v\nwant %d %v", n, q, first.Total, first.Partial, len(got), ids(got), len(want), ids(want))
		}
	}
}

func ids(rs []nearby.SearchResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%d@%v/r%d", r.ID, r.DistanceM, r.Rating))
	}
	return out
}
