package cluster

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/search"
	"github.com/nearby/nearby/internal/search/searchtest"
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/seeds"
)

var layoutSeed = flag.Uint64("layout.seed", 0, "random seed of TestRandomLayoutsMatchBruteForce (0: a few fixed ones)")

// layout is a random cluster: a partition of the world into regions
// (a region may be several boxes, as a catch-all across the antimeridian
// is), the nodes holding each region, and how each node behaves.
type layout struct {
	areas   seeds.Partition // boxes, first match wins; names repeat for regions of several boxes
	regions []string        // distinct region names
	holders map[string][]string
	faults  map[string]string // node → fault ("" for a healthy node)
	cuts    []float64         // longitudes and latitudes of borders, where places cluster
	caps    []float64
}

// faultModes are the ways a peer fails: refusing connections, answering
// 5xx, 4xx, a 404 without the shard routes, or a 200 that is not a region's
// answer. "slow" answers correctly, late (hedged around when it can be).
var faultModes = []string{"refused", "503", "500", "400", "404", "garbage", "wrong-region", "slow"}

func randomLayout(r *rand.Rand) *layout {
	l := &layout{holders: map[string][]string{}, faults: map[string]string{}}
	var strips []seeds.Area
	// Longitude cuts: 0 (ties mirror exactly across it) and others.
	cuts := []float64{}
	for _, c := range []float64{-170, -95, -30, 0, 60, 150, 179.9} {
		if r.IntN(2) == 0 {
			cuts = append(cuts, c)
		}
	}
	l.cuts = cuts
	bounds := append(append([]float64{-180}, cuts...), 180)
	for i := range len(bounds) - 1 {
		strips = append(strips, seeds.Area{Name: fmt.Sprintf("s%d", i), MinLat: -90, MaxLat: 90, MinLon: bounds[i], MaxLon: bounds[i+1]})
	}
	// The first and last slices are sometimes one region across ±180°.
	if len(strips) > 2 && r.IntN(2) == 0 {
		strips[len(strips)-1].Name = strips[0].Name
	}
	var caps []seeds.Area
	if r.IntN(2) == 0 {
		lat := []float64{60, 80, 89.9}[r.IntN(3)]
		caps = append(caps, seeds.Area{Name: "north", MinLat: lat, MaxLat: 90, MinLon: -180, MaxLon: 180})
		l.caps = append(l.caps, lat)
	}
	if r.IntN(2) == 0 {
		lat := []float64{-60, -89.9}[r.IntN(2)]
		caps = append(caps, seeds.Area{Name: "south", MinLat: -90, MaxLat: lat, MinLon: -180, MaxLon: 180})
		l.caps = append(l.caps, lat)
	}
	l.areas = append(caps, strips...)
	for _, a := range l.areas {
		if !slices.Contains(l.regions, a.Name) {
			l.regions = append(l.regions, a.Name)
		}
	}
	nodes := 2 + r.IntN(4)
	for n := range nodes {
		name := fmt.Sprintf("n%d", n)
		l.faults[name] = ""
		if n > 0 && r.IntN(3) == 0 { // n0 stays healthy: someone asks
			l.faults[name] = faultModes[r.IntN(len(faultModes))]
		}
	}
	for _, reg := range l.regions {
		perm := r.Perm(nodes)[:1+r.IntN(min(3, nodes))]
		for _, n := range perm {
			l.holders[reg] = append(l.holders[reg], fmt.Sprintf("n%d", n))
		}
	}
	return l
}

func (l *layout) regionOf(lat, lon float64) string { return l.areas[l.areas.Of(lat, lon)].Name }

// alive reports whether some node answers for region.
func (l *layout) alive(region string) bool {
	for _, n := range l.holders[region] {
		if f := l.faults[n]; f == "" || f == "slow" {
			return true
		}
	}
	return false
}

// place is a place on or near a border, at a pole, on the antimeridian or
// at one of a few shared spots, in E7 degrees as the index stores them.
func (l *layout) place(r *rand.Rand) (lat, lon float64) {
	spots := [][2]float64{{90, 0}, {-90, 45}, {10, 0}, {10, 0.001}, {10, -0.001}, {-17, 180}, {-17, -180}, {0, 150}, {60, -30}}
	switch k := r.IntN(10); {
	case k == 0:
		p := spots[r.IntN(len(spots))]
		return p[0], p[1]
	case k < 5 && len(l.cuts) > 0:
		lat = r.Float64()*170 - 85
		if r.IntN(3) == 0 {
			lat = []float64{10, -17, 0, 60}[r.IntN(4)]
		}
		lon = l.cuts[r.IntN(len(l.cuts))] + r.NormFloat64()*0.02
	case k < 7 && len(l.caps) > 0:
		lat = l.caps[r.IntN(len(l.caps))] + r.NormFloat64()*0.02
		lon = r.Float64()*360 - 180
	case k < 8:
		lat, lon = []float64{90, -90}[r.IntN(2)]-[]float64{1, -1}[r.IntN(2)]*r.Float64()*0.02, r.Float64()*360-180
	default:
		lat, lon = r.Float64()*170-85, 180-r.Float64()*0.04
	}
	lat = max(-90, min(90, lat))
	if lon > 180 {
		lon -= 360
	} else if lon < -180 {
		lon += 360
	}
	return quadtree.FromE7(quadtree.ToE7(lat)), quadtree.FromE7(quadtree.ToE7(lon))
}

// queryPlace is a search's centre: a business's place, a border, a pole.
func (l *layout) queryPlace(r *rand.Rand, bs []nearby.Business) (lat, lon float64) {
	if r.IntN(4) == 0 {
		b := bs[r.IntN(len(bs))]
		return b.Lat, b.Lon
	}
	return l.place(r)
}

// faulty answers as a failing peer does.
func faulty(mode string, healthy http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch mode {
		case "503", "500", "400":
			var code int
			fmt.Sscan(mode, &code)
			http.Error(w, "failing", code)
		case "404":
			http.NotFound(w, req)
		case "garbage":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"region":`))
		case "wrong-region":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"region":"elsewhere","version":"1","results":[],"total":0,"total_capped":false}`))
		case "slow":
			select {
			case <-req.Context().Done():
				return
			case <-time.After(60 * time.Millisecond):
			}
			healthy.ServeHTTP(w, req)
		default:
			healthy.ServeHTTP(w, req)
		}
	})
}

// serve starts the layout's nodes over HTTP on loopback, each holding its
// regions of bs and asking the others through a Client. It returns the
// engines of the nodes that answer (healthy or slow), by name.
func (l *layout) serve(t *testing.T, r *rand.Rand, bs []nearby.Business) map[string]*search.Engine {
	t.Helper()
	per := map[string][]nearby.Business{}
	for _, b := range bs {
		reg := l.regionOf(b.Lat, b.Lon)
		per[reg] = append(per[reg], b)
	}
	built := map[string]*search.Region{}
	var remote []search.RemoteRegion
	for _, name := range l.regions {
		v := uint64(7 + r.IntN(2)) // regions of different builds now and then
		reg, err := search.BuildRegion(name, v, per[name])
		if err != nil {
			t.Fatal(err)
		}
		built[name] = reg
		bounds, _ := reg.Tree.Bounds()
		remote = append(remote, search.RemoteRegion{Name: name, Version: v, Count: reg.Tree.Len(), Bounds: bounds})
	}
	m := &Map{Nodes: map[string]string{}, Regions: l.holders}
	engines := map[string]*search.Engine{}
	for node, fault := range l.faults {
		if fault == "refused" {
			srv := httptest.NewServer(http.NotFoundHandler())
			m.Nodes[node] = srv.URL
			srv.Close() // nothing listens there any more
			continue
		}
		var local []*search.Region
		var rem []search.RemoteRegion
		for i, name := range l.regions {
			if slices.Contains(l.holders[name], node) {
				local = append(local, built[name])
			} else {
				rem = append(rem, remote[i])
			}
		}
		e, _, _ := serveNode(t, m, node, local, rem, func(h http.Handler) http.Handler { return faulty(fault, h) })
		if fault == "" || fault == "slow" {
			engines[node] = e
		}
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return engines
}

// checkMissing checks a partial answer's missing regions: each is a
// region no node answers for, and every such region with a business
// within reach (radiusM of the centre, or in the box) is named.
func (l *layout) checkMissing(bs []nearby.Business, missing []string, partial bool, reaches func(b nearby.Business) bool) error {
	if partial != (len(missing) > 0) {
		return fmt.Errorf("partial %v with missing %v", partial, missing)
	}
	for _, reg := range missing {
		if l.alive(reg) {
			return fmt.Errorf("region %s named missing, but a replica answers for it", reg)
		}
	}
	for _, b := range bs {
		if reg := l.regionOf(b.Lat, b.Lon); !l.alive(reg) && reaches(b) && !slices.Contains(missing, reg) {
			return fmt.Errorf("region %s holds business %d within reach, answers nothing and is not named missing", reg, b.ID)
		}
	}
	return nil
}

// without returns the businesses of bs outside the regions named.
func (l *layout) without(bs []nearby.Business, missing []string) []nearby.Business {
	if len(missing) == 0 {
		return bs
	}
	var out []nearby.Business
	for _, b := range bs {
		if !slices.Contains(missing, l.regionOf(b.Lat, b.Lon)) {
			out = append(out, b)
		}
	}
	return out
}

// TestRandomLayoutsMatchBruteForce builds random clusters over HTTP on
// loopback: random regions (longitude slices, polar caps, a region across
// the antimeridian), two to five nodes, each region on one to three of
// them, some nodes failing (refusing connections, 5xx, 4xx, no shard
// routes, malformed or foreign answers) or slow. Random data piles up on
// borders, poles, the antimeridian and shared spots (ties at equal
// distance across regions). Random nearby searches (filters, both orders,
// totals), box searches and density grids, each page from any answering
// node as behind a load balancer, and business lookups: every answer
// equals a brute-force scan of the regions it does not name missing, a
// region is named missing only when none of its replicas answers and
// always when it holds something within reach, and nothing is ever an
// error but a lookup that a silent region may hold (503).
func TestRandomLayoutsMatchBruteForce(t *testing.T) {
	searchtest.Seeded(t, *layoutSeed, "layout.seed", testRandomLayout)
}

func testRandomLayout(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 81))
	l := randomLayout(r)
	bs := businesses(t, r, 1500+r.IntN(1500))
	for i := range bs {
		bs[i].Lat, bs[i].Lon = l.place(r)
	}
	engines := l.serve(t, r, bs)
	var asking []string
	for n := range engines {
		asking = append(asking, n)
	}
	slices.Sort(asking)
	t.Logf("regions %v, holders %v, faults %v", l.areas, l.holders, l.faults)
	any := func() *search.Engine { return engines[asking[r.IntN(len(asking))]] }
	ctx := context.Background()

	nonEmpty := 0
	for range 120 {
		q := nearby.SearchQuery{Limit: 1 + r.IntN(12), RadiusM: []float64{1, 300, 2000, 20000, 50000}[r.IntN(5)] * (0.5 + r.Float64()/2), Total: r.IntN(2) == 0}
		q.Lat, q.Lon = l.queryPlace(r, bs)
		if r.IntN(2) == 0 {
			q.Categories, q.Filters = searchtest.RandFilters(r)
		}
		if r.IntN(3) == 0 {
			q.Sort = nearby.SortRating
		}
		got, first := searchtest.AllPages(t, func(q nearby.SearchQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
			return any().Nearby(ctx, q, after)
		}, q)
		if err := l.checkMissing(bs, first.Missing, first.Partial, func(b nearby.Business) bool {
			return geo.Distance(q.Lat, q.Lon, b.Lat, b.Lon) <= q.RadiusM
		}); err != nil {
			t.Fatalf("search %+v: %v", q, err)
		}
		want := searchtest.Nearby(l.without(bs, first.Missing), q)
		if !same(got, want) || q.Total && (first.Total != len(want) || first.TotalCapped) {
			t.Fatalf("search %+v (missing %v): total %d,\n got %d %v\nwant %d %v", q, first.Missing, first.Total, len(got), got, len(want), want)
		}
		if len(want) > 0 {
			nonEmpty++
		}
	}
	// Few when the silent regions hold most places, never none.
	if nonEmpty < 10 {
		t.Fatalf("only %d of 120 searches found anything: the test says little", nonEmpty)
	}

	for range 40 {
		q := nearby.AreaQuery{Limit: 1 + r.IntN(15), ByDistance: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			q.Categories, q.Filters = searchtest.RandFilters(r)
		}
		lat, lon := l.queryPlace(r, bs)
		dLat, dLon := r.Float64()*0.1, r.Float64()*0.1
		q.Box = geo.Rect{MinLat: max(-90, lat-dLat), MaxLat: min(90, lat+dLat), MinLon: lon - dLon, MaxLon: lon + dLon}
		if q.Box.MinLon < -180 {
			q.Box.MinLon += 360
		}
		if q.Box.MaxLon > 180 {
			q.Box.MaxLon -= 360
		}
		got, first := searchtest.AllPages(t, func(q nearby.AreaQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
			return any().Area(ctx, q, after)
		}, q)
		if err := l.checkMissing(bs, first.Missing, first.Partial, func(b nearby.Business) bool { return q.Box.Contains(b.Lat, b.Lon) }); err != nil {
			t.Fatalf("area %+v: %v", q, err)
		}
		want := searchtest.Area(l.without(bs, first.Missing), q)
		if !same(got, want) || first.Total != len(want) {
			t.Fatalf("area %+v (missing %v): total %d,\n got %d %v\nwant %d %v", q, first.Missing, first.Total, len(got), got, len(want), want)
		}
		if q.Box.MinLat < q.Box.MaxLat && q.Box.MinLon != q.Box.MaxLon {
			g := nearby.DensityGrid{Box: q.Box, Cols: 1, Rows: 1, Categories: q.Categories}
			d, err := any().Density(ctx, g)
			if err != nil {
				t.Fatalf("density %+v: %v", g, err)
			}
			if err := l.checkMissing(bs, d.Missing, len(d.Missing) > 0, func(b nearby.Business) bool { return q.Box.Contains(b.Lat, b.Lon) }); err != nil {
				t.Fatalf("density %+v: %v", g, err)
			}
			n := 0
			for _, b := range l.without(bs, d.Missing) {
				if q.Box.Contains(b.Lat, b.Lon) && (q.Categories == 0 || q.Categories.Has(b.Category)) {
					n++
				}
			}
			if d.Counts[0] != n {
				t.Fatalf("density %+v (missing %v): %d, want %d", g, d.Missing, d.Counts[0], n)
			}
		}
	}

	for range 40 {
		node := asking[r.IntN(len(asking))]
		id := int64(len(bs) + 1 + r.IntN(100)) // unknown now and then
		if r.IntN(4) > 0 {
			id = bs[r.IntN(len(bs))].ID
		}
		got, err := engines[node].Business(ctx, id)
		var want *nearby.Business
		for i := range bs {
			if bs[i].ID == id {
				want = &bs[i]
			}
		}
		silent := false // some region this node asks of others answers nothing
		for _, reg := range l.regions {
			silent = silent || !slices.Contains(l.holders[reg], node) && !l.alive(reg)
		}
		switch {
		case want != nil && l.alive(l.regionOf(want.Lat, want.Lon)):
			if err != nil || !same([]nearby.SearchResult{{Business: *got}}, []nearby.SearchResult{{Business: *want}}) {
				t.Fatalf("node %s, business %d: %v, %+v, want %+v", node, id, err, got, want)
			}
		case silent:
			if nearby.ErrorCode(err) != nearby.EUNAVAILABLE {
				t.Fatalf("node %s, business %d, a silent region may hold it: %v, want unavailable", node, id, err)
			}
		default:
			if nearby.ErrorCode(err) != nearby.ENOTFOUND {
				t.Fatalf("node %s, business %d held nowhere: %v, want not found", node, id, err)
			}
		}
	}
}
