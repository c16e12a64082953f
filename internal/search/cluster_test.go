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
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/seeds"
)

// polarAreas split the world into four regions whose borders meet at the
// places searches find hardest: a cap from 60° N over the north pole, and
// below it three slices that share the south pole and two of which meet at
// the antimeridian.
var polarAreas = seeds.Partition{
	{Name: "arctic", MinLat: 60, MaxLat: 90, MinLon: -180, MaxLon: 180},
	{Name: "pacific", MinLat: -90, MaxLat: 60, MinLon: 150, MaxLon: 180},
	{Name: "americas", MinLat: -90, MaxLat: 60, MinLon: -180, MaxLon: -30},
	{Name: "eurasia", MinLat: -90, MaxLat: 60, MinLon: -30, MaxLon: 150},
}

// polarCentres lie on those borders: where three regions meet, at the
// antimeridian, at both poles (lat ±90: one place at every longitude).
var polarCentres = [][2]float64{{60, -30}, {60, 150}, {0, 150}, {-17, 180}, {-17, -180}, {89.999, 0}, {-89.999, 0}, {60, 179.999}, {59.999, -179.999}}

// polarPlace is a place near a centre, at a pole, or at one of a few
// exact places several businesses share (ties at any distance).
func polarPlace(r *rand.Rand) (lat, lon float64) {
	switch r.IntN(10) {
	case 0:
		return []float64{90, -90}[r.IntN(2)], float64(r.IntN(361) - 180)
	case 1:
		p := [][2]float64{{60, -30}, {-17, 180}, {-17, -180}, {0, 150}, {60.0001, 10}}[r.IntN(5)]
		return p[0], p[1]
	}
	c := polarCentres[r.IntN(len(polarCentres))]
	lat = max(-90, min(90, c[0]+r.NormFloat64()*0.01))
	lon = c[1] + r.NormFloat64()*0.01
	if lon > 180 {
		lon -= 360
	} else if lon < -180 {
		lon += 360
	}
	return quadtree.FromE7(quadtree.ToE7(lat)), quadtree.FromE7(quadtree.ToE7(lon))
}

// polarWrite makes a create, move, rename, re-rating or delete at polar
// places, with random attributes.
func (db *fakeDB) polarWrite(r *rand.Rand, attrs func(nearby.Business) nearby.Business) {
	var c nearby.Change
	var ids []int64
	for id, row := range db.rows {
		if !row.Deleted {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 || r.IntN(3) == 0 {
		c.ID = db.nextID
		db.nextID++
		c.Category = nearby.Category(r.IntN(4))
		c.Lat, c.Lon = polarPlace(r)
		c.Business = attrs(c.Business)
	} else {
		c = db.rows[ids[r.IntN(len(ids))]].Change
		switch r.IntN(4) {
		case 0, 1:
			c.Lat, c.Lon = polarPlace(r) // often into another region
		case 2:
			c.Business = attrs(c.Business)
		case 3:
			c.Deleted = true
		}
	}
	db.write(c, 0)
}

// polarCluster is the same data served by one node holding every region
// and by three nodes of a cluster: node 0 holds arctic and pacific, node 1
// americas and eurasia, node 2 eurasia only (asking the others for the
// rest); all follow the feed.
func polarCluster(t *testing.T, r *rand.Rand) (nodes []*Engine, sh shards, db *fakeDB) {
	t.Helper()
	hs := schedules(t)
	attrs := func(b nearby.Business) nearby.Business { return attributed(r, b, hs) }
	db = newFakeDB()
	for range 2000 {
		db.polarWrite(r, attrs)
		db.advance(10 * time.Millisecond)
	}
	regions, m := db.snapshot(t, polarAreas, 3)
	// Regions of different versions (as while one is rebuilt alone): the
	// version every node names the index by must still be the same.
	for i, reg := range regions {
		v := reg.Version + uint64(i%2)
		var err error
		if regions[i], err = NewRegion(reg.Name, v, reg.Tree, reg.Hours); err != nil {
			t.Fatal(err)
		}
		m.Regions[i].IndexVersion = v
	}
	for range 400 { // applied live: moves across borders, deletes, new shops
		db.polarWrite(r, attrs)
		db.advance(10 * time.Millisecond)
	}
	db.advance(2 * time.Second)

	sh = shards{}
	holds := [][]string{{"arctic", "pacific", "americas", "eurasia"}, {"arctic", "pacific"}, {"americas", "eurasia"}, {"eurasia"}}
	nodes = followingNodes(t, db, regions, m, holds, sh, func(n int) bool { return n == 1 || n == 2 })
	return nodes, sh, db
}

// followingNodes makes a node for each list of region names in holds,
// holding those regions and asking sh for the others, each following db's
// changes since m's seeds; the nodes serves says serve their regions in sh.
func followingNodes(t *testing.T, db *fakeDB, regions []*Region, m seeds.Manifest, holds [][]string, sh shards, serves func(n int) bool) []*Engine {
	t.Helper()
	var nodes []*Engine
	for n, names := range holds {
		var local []*Region
		var remote []RemoteRegion
		for i, a := range polarAreas {
			if slices.Contains(names, a.Name) {
				local = append(local, regions[i])
			} else {
				remote = append(remote, remoteOf(m, i))
			}
		}
		e := &Engine{Shards: sh}
		f := newTestFollower(e, db, time.Second, 1<<20)
		f.Install(NewClusterIndex(local, remote), m)
		if _, err := f.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if serves(n) {
			for _, name := range names {
				sh[name] = e
			}
		}
		nodes = append(nodes, e)
	}
	return nodes
}

// polarQueryPlace is a search's centre: near a border or at a pole.
func polarQueryPlace(r *rand.Rand) (lat, lon float64) {
	if r.IntN(8) == 0 {
		return []float64{90, -90}[r.IntN(2)], float64(r.IntN(361) - 180)
	}
	return polarPlace(r)
}

// TestClusterMatchesBruteForceAtBorders pages through random filtered
// nearby searches, in both orders and with totals, centred where regions
// meet (three at a point, at the antimeridian, at both poles), from a node
// holding everything and from each node of a cluster, over seeds plus live
// moves across borders, and with each page from any node (as behind a load
// balancer): every answer equals a brute-force scan.
func TestClusterMatchesBruteForceAtBorders(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	nodes, _, db := polarCluster(t, r)
	live := db.live()
	ctx := context.Background()
	nonEmpty := 0
	for range 300 {
		q := nearby.SearchQuery{Limit: 1 + r.IntN(12), RadiusM: []float64{5, 300, 2000, 20000, 50000}[r.IntN(5)] * (0.5 + r.Float64()/2), Total: r.IntN(2) == 0}
		q.Lat, q.Lon = polarQueryPlace(r)
		q.Categories, q.Filters = searchtest.RandFilters(r)
		if r.IntN(2) == 0 {
			q.Categories, q.Filters = 0, nearby.Filters{}
		}
		if r.IntN(2) == 0 {
			q.Sort = nearby.SortRating
		}
		want := searchtest.Nearby(live, q)
		for n, e := range nodes {
			got, first := searchtest.AllPages(t, func(q nearby.SearchQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
				return e.Nearby(ctx, q, after)
			}, q)
			if n == len(nodes)-1 { // behind a load balancer: each page from any node
				n = -1
				got, first = searchtest.AllPages(t, func(q nearby.SearchQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
					return nodes[r.IntN(len(nodes))].Nearby(ctx, q, after)
				}, q)
			}
			if first.Partial {
				t.Fatalf("node %d, search %+v: partial, missing %v", n, q, first.Missing)
			}
			if !sameResults(got, want) {
				t.Fatalf("node %d, search %+v:\n got %d %v\nwant %d %v", n, q, len(got), got, len(want), want)
			}
			if q.Total && (first.Total != len(want) || first.TotalCapped) {
				t.Fatalf("node %d, search %+v: total %d (capped %v), want %d", n, q, first.Total, first.TotalCapped, len(want))
			}
		}
		if len(want) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < 100 {
		t.Fatalf("only %d of 300 searches found anything: the test says little", nonEmpty)
	}
}

// TestClusterAreasMatchBruteForceAtBorders pages through random box
// searches (across the antimeridian, up to the poles; by id and by
// distance) and polygon searches, and counts density grids, from every
// node, against brute force.
func TestClusterAreasMatchBruteForceAtBorders(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	nodes, _, db := polarCluster(t, r)
	live := db.live()
	ctx := context.Background()
	nonEmpty := 0
	for trial := range 200 {
		q := nearby.AreaQuery{Limit: 1 + r.IntN(15)}
		if r.IntN(2) == 0 {
			q.Categories, q.Filters = searchtest.RandFilters(r)
		}
		lat, lon := polarQueryPlace(r)
		dLat, dLon := r.Float64()*0.05, r.Float64()*0.05
		if r.IntN(4) == 0 {
			dLon = 10 + r.Float64()*100
		}
		q.Box = geo.Rect{MinLat: max(-90, lat-dLat), MaxLat: min(90, lat+dLat), MinLon: lon - dLon, MaxLon: lon + dLon}
		if q.Box.MinLon < -180 {
			q.Box.MinLon += 360
		}
		if q.Box.MaxLon > 180 {
			q.Box.MaxLon -= 360
		}
		if trial%4 == 0 {
			w, s, e, n := max(-180, q.Box.MinLon), q.Box.MinLat, min(180, q.Box.MaxLon), q.Box.MaxLat
			if w >= e || s >= n || e-w >= 180 {
				continue
			}
			shape, err := geo.ParseGeoJSON(fmt.Appendf(nil, `{"type":"Polygon","coordinates":[[[%[1]v,%[2]v],[%[3]v,%[2]v],[%[3]v,%[4]v],[%[1]v,%[4]v],[%[1]v,%[2]v]]]}`, w, s, e, n))
			if err != nil {
				t.Fatal(err)
			}
			q.Shape = shape
		} else {
			q.ByDistance = r.IntN(2) == 0
		}
		want := searchtest.Area(live, q)
		for n, e := range nodes {
			got, first := searchtest.AllPages(t, func(q nearby.AreaQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
				return e.Area(ctx, q, after)
			}, q)
			if n == len(nodes)-1 { // behind a load balancer: each page from any node
				n = -1
				got, first = searchtest.AllPages(t, func(q nearby.AreaQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
					return nodes[r.IntN(len(nodes))].Area(ctx, q, after)
				}, q)
			}
			if first.Partial || !sameResults(got, want) || first.Total != len(want) {
				t.Fatalf("node %d, area %+v: partial %v, total %d,\n got %d %v\nwant %d %v", n, q, first.Partial, first.Total, len(got), got, len(want), want)
			}
		}
		if len(want) > 0 {
			nonEmpty++
		}
		if q.Shape == nil && q.Box.MinLat < q.Box.MaxLat && q.Box.MinLon != q.Box.MaxLon {
			cols, rows := 1+r.IntN(20), 1+r.IntN(20)
			// A business on a line between cells may fall either side of it
			// by rounding (Density's documentation): the cells are compared
			// with the node holding everything, the sum with brute force.
			wantCounts := bruteDensity(live, q.Box, cols, rows, q.Categories)
			var whole []int
			for n, e := range nodes {
				d, err := e.Density(ctx, nearby.DensityGrid{Box: q.Box, Cols: cols, Rows: rows, Categories: q.Categories})
				if n == 0 && err == nil {
					whole = d.Counts
				}
				if err != nil || len(d.Missing) > 0 || !slices.Equal(d.Counts, whole) || sum(d.Counts) != sum(wantCounts) {
					t.Fatalf("node %d, density %+v %d × %d: %v, missing %v,\n got %v\nwant %v", n, q.Box, cols, rows, err, d.Missing, d.Counts, wantCounts)
				}
			}
		}
	}
	if nonEmpty < 60 {
		t.Fatalf("only %d of 200 area searches found anything: the test says little", nonEmpty)
	}
}

func sum(ns []int) int {
	total := 0
	for _, n := range ns {
		total += n
	}
	return total
}

// lookups answers business lookups only: a region of hung replicas blocks
// until it is called off, the holder finds the business.
type lookups struct {
	Shards
	calledOff chan string // regions whose lookup was called off
}

func (l lookups) Business(ctx context.Context, region string, id int64) (*nearby.Business, error) {
	switch region {
	case "holder":
		return &nearby.Business{ID: id, Name: "found"}, nil
	case "hung":
		<-ctx.Done()
		l.calledOff <- region
		return nil, nearby.Errorf(nearby.EUNAVAILABLE, "region %s: %v", region, ctx.Err())
	}
	return nil, nearby.Errorf(nearby.ENOTFOUND, "business %d not found", id)
}

// TestBusinessAsksRemoteRegionsAtOnce: a lookup asks every remote region
// at once, so a region whose replicas hang (listed first) does not hold
// up the answer of the one that has the business, and is called off then.
func TestBusinessAsksRemoteRegionsAtOnce(t *testing.T) {
	l := lookups{calledOff: make(chan string, 3)}
	e := &Engine{Shards: l}
	e.Swap(NewClusterIndex(nil, []RemoteRegion{{Name: "hung"}, {Name: "empty"}, {Name: "holder"}}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // the hung region's deadline
	defer cancel()
	start := time.Now()
	b, err := e.Business(ctx, 42)
	if err != nil || b.ID != 42 || b.Name != "found" {
		t.Fatalf("lookup: %+v, %v", b, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the lookup waited %s, for the hung region's deadline", took)
	}
	select {
	case <-l.calledOff:
	case <-time.After(5 * time.Second):
		t.Error("the hung region's lookup was not called off")
	}
}
