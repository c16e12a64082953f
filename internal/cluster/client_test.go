package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/httpapi"
	"github.com/nearby/nearby/internal/promtest"
	"github.com/nearby/nearby/internal/search"
	"github.com/nearby/nearby/internal/search/searchtest"
	"github.com/nearby/nearby/internal/syncbuf"
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/seeds"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// areas meet at three-region points, the antimeridian and both poles.
var areas = seeds.Partition{
	{Name: "arctic", MinLat: 60, MaxLat: 90, MinLon: -180, MaxLon: 180},
	{Name: "pacific", MinLat: -90, MaxLat: 60, MinLon: 150, MaxLon: 180},
	{Name: "americas", MinLat: -90, MaxLat: 60, MinLon: -180, MaxLon: -30},
	{Name: "eurasia", MinLat: -90, MaxLat: 60, MinLon: -30, MaxLon: 150},
}

var centres = [][2]float64{{60, -30}, {60, 150}, {0, 150}, {-17, 180}, {-17, -180}, {89.999, 0}, {-89.999, 0}, {60, 179.999}}

func place(r *rand.Rand) (lat, lon float64) {
	switch r.IntN(10) {
	case 0:
		return []float64{90, -90}[r.IntN(2)], float64(r.IntN(361) - 180)
	case 1:
		p := [][2]float64{{60, -30}, {-17, 180}, {-17, -180}, {0, 150}}[r.IntN(4)]
		return p[0], p[1]
	}
	c := centres[r.IntN(len(centres))]
	lat = max(-90, min(90, c[0]+r.NormFloat64()*0.01))
	lon = c[1] + r.NormFloat64()*0.01
	if lon > 180 {
		lon -= 360
	} else if lon < -180 {
		lon += 360
	}
	return quadtree.FromE7(quadtree.ToE7(lat)), quadtree.FromE7(quadtree.ToE7(lon))
}

var names = []string{"Café de Flore", "Blue Bottle Coffee", "Bäckerei Müller", "Joe's Pizza", "Straße 9"}

func businesses(t *testing.T, r *rand.Rand, n int) []nearby.Business {
	t.Helper()
	var hs []*hours.Schedule
	for _, z := range []string{"Pacific/Auckland", "America/New_York", "UTC"} {
		var week [7][]hours.Span
		for d := range 5 {
			week[d+1] = []hours.Span{{Open: 9 * 60, Close: 17 * 60}}
		}
		h, err := hours.New(z, week)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, &h)
	}
	bs := make([]nearby.Business, n)
	for i := range bs {
		b := nearby.Business{ID: int64(i + 1), Category: nearby.Category(r.IntN(4))}
		b.Lat, b.Lon = place(r)
		b.Name = names[r.IntN(len(names))] + fmt.Sprint(" ", b.ID)
		if r.IntN(5) > 0 {
			b.Price = nearby.Price(1 + r.IntN(4))
		}
		if r.IntN(5) > 0 {
			b.Rating = nearby.RatingOf(r.IntN(51))
			b.ReviewCount = uint32(r.IntN(100))
		}
		if r.IntN(5) > 0 {
			b.Hours = hs[r.IntN(len(hs))]
		}
		bs[i] = b
	}
	return bs
}

// testCluster serves bs on two nodes over HTTP, "a" holding arctic and
// pacific, "b" americas and eurasia, each asking the other through a
// Client; it returns their engines, servers and clients.
func testCluster(t *testing.T, bs []nearby.Business) ([]*search.Engine, []*httptest.Server, []*Client) {
	t.Helper()
	per := make([][]nearby.Business, len(areas))
	for _, b := range bs {
		a := areas.Of(b.Lat, b.Lon)
		per[a] = append(per[a], b)
	}
	regions := make([]*search.Region, len(areas))
	remote := make([]search.RemoteRegion, len(areas))
	for i, a := range areas {
		reg, err := search.BuildRegion(a.Name, 1, per[i])
		if err != nil {
			t.Fatal(err)
		}
		regions[i] = reg
		bounds, _ := reg.Tree.Bounds()
		remote[i] = search.RemoteRegion{Name: a.Name, Version: 1, Count: reg.Tree.Len(), Bounds: bounds}
	}
	m := &Map{Nodes: map[string]string{}, Regions: map[string][]string{
		"arctic": {"a"}, "pacific": {"a"}, "americas": {"b"}, "eurasia": {"b"},
	}}
	var engines []*search.Engine
	var servers []*httptest.Server
	var clients []*Client
	for n, name := range []string{"a", "b"} {
		held := []int{0, 1}
		if n == 1 {
			held = []int{2, 3}
		}
		var local []*search.Region
		var rem []search.RemoteRegion
		for i := range areas {
			if slices.Contains(held, i) {
				local = append(local, regions[i])
			} else {
				rem = append(rem, remote[i])
			}
		}
		e, srv, c := serveNode(t, m, name, local, rem, nil)
		engines, servers, clients = append(engines, e), append(servers, srv), append(clients, c)
	}
	return engines, servers, clients
}

// serveNode starts node name of the cluster m over HTTP, holding the
// regions local and asking other nodes for rem, its handler wrapped by
// wrap if not nil, and sets its URL in m.
func serveNode(t *testing.T, m *Map, name string, local []*search.Region, rem []search.RemoteRegion,
	wrap func(http.Handler) http.Handler) (*search.Engine, *httptest.Server, *Client) {
	t.Helper()
	c := NewClient(m, name, discard, prometheus.NewRegistry())
	c.ShardTimeout = 5 * time.Second // a loaded test machine is not a failure
	e := &search.Engine{Shards: c}
	e.Swap(search.NewClusterIndex(local, rem))
	reg := prometheus.NewRegistry()
	var h http.Handler = httpapi.NewServer(e, discard, reg, reg, nil)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	m.Nodes[name] = srv.URL
	return e, srv, c
}

// same compares results as the wire carries them: without opening hours.
func same(got, want []nearby.SearchResult) bool {
	return slices.EqualFunc(got, want, func(a, b nearby.SearchResult) bool {
		a.Hours, b.Hours = nil, nil
		return a == b
	})
}

// TestClusterOverHTTPMatchesBruteForce pages through random filtered
// nearby searches (both orders, totals) and box and polygon searches
// centred where regions meet, from both nodes of a cluster talking over
// HTTP: the wire carries every filter and cursor, and answers equal a
// brute-force scan bit for bit.
func TestClusterOverHTTPMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	bs := businesses(t, r, 3000)
	engines, _, _ := testCluster(t, bs)
	ctx := context.Background()
	nonEmpty := 0
	for range 150 {
		q := nearby.SearchQuery{Limit: 1 + r.IntN(12), RadiusM: []float64{5, 300, 2000, 20000, 50000}[r.IntN(5)] * (0.5 + r.Float64()/2), Total: r.IntN(2) == 0}
		q.Lat, q.Lon = place(r)
		q.Categories, q.Filters = searchtest.RandFilters(r)
		if r.IntN(2) == 0 {
			q.Sort = nearby.SortRating
		}
		want := searchtest.Nearby(bs, q)
		for n, e := range engines {
			got, first := searchtest.AllPages(t, func(q nearby.SearchQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
				return e.Nearby(ctx, q, after)
			}, q)
			if first.Partial || !same(got, want) || q.Total && first.Total != len(want) {
				t.Fatalf("node %d, search %+v: partial %v, total %d,\n got %d %v\nwant %d %v", n, q, first.Partial, first.Total, len(got), got, len(want), want)
			}
		}
		if len(want) > 0 {
			nonEmpty++
		}
	}
	for trial := range 100 {
		q := nearby.AreaQuery{Limit: 1 + r.IntN(15)}
		q.Categories, q.Filters = searchtest.RandFilters(r)
		lat, lon := place(r)
		dLat, dLon := r.Float64()*0.05, r.Float64()*0.05
		q.Box = geo.Rect{MinLat: max(-90, lat-dLat), MaxLat: min(90, lat+dLat), MinLon: lon - dLon, MaxLon: lon + dLon}
		if q.Box.MinLon < -180 {
			q.Box.MinLon += 360
		}
		if q.Box.MaxLon > 180 {
			q.Box.MaxLon -= 360
		}
		if w, e := q.Box.MinLon, q.Box.MaxLon; trial%3 == 0 && w < e {
			shape, err := geo.ParseGeoJSON(fmt.Appendf(nil, `{"type":"Polygon","coordinates":[[[%[1]v,%[2]v],[%[3]v,%[2]v],[%[3]v,%[4]v],[%[1]v,%[4]v],[%[1]v,%[2]v]]]}`,
				w, q.Box.MinLat, e, q.Box.MaxLat))
			if err != nil {
				t.Fatal(err)
			}
			q.Shape = shape
		} else {
			q.ByDistance = r.IntN(2) == 0
		}
		want := searchtest.Area(bs, q)
		for n, e := range engines {
			got, first := searchtest.AllPages(t, func(q nearby.AreaQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
				return e.Area(ctx, q, after)
			}, q)
			if first.Partial || !same(got, want) || first.Total != len(want) {
				t.Fatalf("node %d, area %+v: partial %v, total %d,\n got %d %v\nwant %d %v", n, q, first.Partial, first.Total, len(got), got, len(want), want)
			}
		}
	}
	if nonEmpty < 50 {
		t.Fatalf("only %d of 150 searches found anything: the test says little", nonEmpty)
	}
}

// TestClusterFailures serves "americas" and "eurasia" from node b through
// two replicas in front of it, one of them slow, failing or gone, and asks
// from node a: a slow replica is hedged around, a failing one skipped, and
// with none answering the region is named missing while the rest stays
// exact; no goroutine outlives its search.
func TestClusterFailures(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 74))
	bs := businesses(t, r, 2000)
	engines, servers, clients := testCluster(t, bs)
	a, c := engines[0], clients[0]
	c.ShardTimeout, c.HedgeAfter = time.Second, 20*time.Millisecond // slow is 2 s
	b := servers[1]

	var mode atomic.Value // of the front replica: "ok", "slow", "fail", "gone"
	mode.Store("ok")
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch mode.Load() {
		case "slow":
			select {
			case <-req.Context().Done():
				return
			case <-time.After(2 * time.Second):
			}
		case "fail":
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		case "gone": // no shard routes: an older release, a wrong address
			http.NotFound(w, req)
			return
		}
		b.Config.Handler.ServeHTTP(w, req)
	}))
	defer front.Close()
	m := c.cluster.Load()
	m2 := &Map{Nodes: maps.Clone(m.Nodes), Regions: maps.Clone(m.Regions)}
	m2.Nodes["front"] = front.URL
	m2.Regions["americas"] = []string{"front", "b"}
	m2.Regions["eurasia"] = []string{"front", "b"}
	c.SetMap(m2)

	q := nearby.SearchQuery{Lat: -17, Lon: 180, RadiusM: 5000, Limit: 60, Total: true} // pacific (a) and americas
	var want []nearby.SearchResult
	for _, x := range bs {
		if d := geo.Distance(q.Lat, q.Lon, x.Lat, x.Lon); d <= q.RadiusM {
			want = append(want, nearby.SearchResult{Business: x, DistanceM: d})
		}
	}
	slices.SortFunc(want, func(a, b nearby.SearchResult) int {
		return cmp.Or(cmp.Compare(a.DistanceM, b.DistanceM), cmp.Compare(a.ID, b.ID))
	})
	ctx := context.Background()
	base := runtime.NumGoroutine()
	var inAmericas int64
	for _, x := range bs {
		if areas[areas.Of(x.Lat, x.Lon)].Name == "americas" {
			inAmericas = x.ID
			break
		}
	}
	for _, md := range []string{"ok", "slow", "fail", "gone"} {
		mode.Store(md)
		for range 6 { // the first replica asked rotates
			c.mu.Lock()
			clear(c.up)
			c.mu.Unlock()
			// A lookup first, while front is not yet known to be down.
			if x, err := a.Business(ctx, inAmericas); err != nil || x.ID != inAmericas {
				t.Fatalf("front %s: business %d: %v", md, inAmericas, err)
			}
			if _, err := a.Business(ctx, 1<<50); nearby.ErrorCode(err) != nearby.ENOTFOUND {
				t.Fatalf("front %s: a business nobody holds: %v, want not found", md, err)
			}
			got, first := searchtest.AllPages(t, func(q nearby.SearchQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
				return a.Nearby(ctx, q, after)
			}, q)
			if first.Partial || !same(got, want) || first.Total != len(want) {
				t.Fatalf("front %s: partial %v (missing %v), total %d, %d results, want %d", md, first.Partial, first.Missing, first.Total, len(got), len(want))
			}
		}
	}

	// Nobody answers for americas: pacific's part only, named partial.
	mode.Store("slow")
	b.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	})
	var pacific []nearby.SearchResult
	for _, w := range want {
		if areas[areas.Of(w.Lat, w.Lon)].Name == "pacific" {
			pacific = append(pacific, w)
		}
	}
	start := time.Now()
	page, err := a.Nearby(ctx, nearby.SearchQuery{Lat: q.Lat, Lon: q.Lon, RadiusM: q.RadiusM, Limit: 100}, nil)
	pacific = pacific[:min(100, len(pacific))]
	// (eurasia, whose entries reach the south pole, may be named too: the
	// bound of its box is weak there.)
	if err != nil || !page.Partial || !slices.Contains(page.Missing, "americas") || !same(page.Results, pacific) {
		t.Fatalf("americas down: %v, partial %v, missing %v, %d results, want %d", err, page != nil && page.Partial, page.Missing, len(page.Results), len(pacific))
	}
	if took := time.Since(start); took > c.ShardTimeout+time.Second {
		t.Errorf("a search with a region down took %v, the shard timeout is %v", took, c.ShardTimeout)
	}
	// A caller that gives up ends the requests it started.
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	mode.Store("slow")
	b.Config.Handler = front.Config.Handler
	if _, err := a.Nearby(cctx, q, nil); err != nil {
		t.Fatal(err)
	}
	c.http.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+4 {
		t.Errorf("%d goroutines after the searches, %d before", n, base)
	}
}

// TestClusterCursorAcrossRemoteReload: a remote node that loads a new seed
// of its region between two pages makes the next page a conflict, as a
// reload on one node does; pages from an unchanged cluster go on.
func TestClusterCursorAcrossRemoteReload(t *testing.T) {
	r := rand.New(rand.NewPCG(75, 76))
	bs := businesses(t, r, 1000)
	engines, _, _ := testCluster(t, bs)
	a, b := engines[0], engines[1]
	ctx := context.Background()
	q := nearby.SearchQuery{Lat: -17, Lon: 180, RadiusM: 5000, Limit: 3}
	page, err := a.Nearby(ctx, q, nil)
	if err != nil || page.Next == nil {
		t.Fatalf("first page: %v, %+v", err, page)
	}
	if _, err := a.Nearby(ctx, q, page.Next); err != nil {
		t.Fatalf("second page, nothing reloaded: %v", err)
	}
	ix := b.Current()
	regions := make([]*search.Region, len(ix.Regions))
	for i, reg := range ix.Regions {
		if regions[i], err = search.NewRegion(reg.Name, reg.Version+1, reg.Tree, reg.Hours); err != nil {
			t.Fatal(err)
		}
	}
	b.Swap(search.NewClusterIndex(regions, ix.Remote))
	if _, err := a.Nearby(ctx, q, page.Next); nearby.ErrorCode(err) != nearby.ECONFLICT {
		t.Fatalf("second page after the remote region's reload: %v, want a conflict", err)
	}
}

// TestNodeURLWithSlash: a cluster map may give a node's base URL with a
// trailing slash; requests still reach its routes (not "//internal/…",
// which no route serves: every region of the node was missing and its
// businesses "not found").
func TestNodeURLWithSlash(t *testing.T) {
	r := rand.New(rand.NewPCG(77, 78))
	bs := businesses(t, r, 1000)
	engines, servers, clients := testCluster(t, bs)
	m := clients[0].cluster.Load()
	m2 := &Map{Nodes: maps.Clone(m.Nodes), Regions: m.Regions}
	m2.Nodes["b"] = servers[1].URL + "/"
	if err := m2.Validate(); err != nil {
		t.Fatal(err)
	}
	clients[0].SetMap(m2)
	ctx := context.Background()
	page, err := engines[0].Nearby(ctx, nearby.SearchQuery{Lat: -17, Lon: 180, RadiusM: 5000, Limit: 3}, nil)
	if err != nil || page.Partial {
		t.Fatalf("search: %v, missing %v", err, page.Missing)
	}
	for _, x := range bs {
		if areas[areas.Of(x.Lat, x.Lon)].Name != "americas" {
			continue
		}
		if b, err := engines[0].Business(ctx, x.ID); err != nil || b.ID != x.ID {
			t.Fatalf("business %d of americas: %v", x.ID, err)
		}
		break
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go clients[0].Probe(pctx, 50*time.Millisecond)
	var up, known bool
	for deadline := time.Now().Add(5 * time.Second); !(known && up) && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		clients[0].mu.Lock()
		up, known = clients[0].up["b"]
		clients[0].mu.Unlock()
	}
	if !known || !up {
		t.Fatalf("probe of node b: up %v (known %v)", up, known)
	}
}

// TestCallerGivesUp: a search whose caller goes away (the client hung up)
// while a region's replica is slow is not a region outage: the region is
// not counted unavailable nor logged as such, and the request ends at once.
func TestCallerGivesUp(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	var log syncbuf.Buffer
	m := &Map{Nodes: map[string]string{"a": "http://127.0.0.1:1", "b": slow.URL}, Regions: map[string][]string{"europe": {"b"}}}
	c := NewClient(m, "a", slog.New(slog.NewTextHandler(&log, nil)), prometheus.NewRegistry())
	c.ShardTimeout = 5 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Shard(ctx, "europe", nearby.SearchQuery{Lat: 48.85, Lon: 2.35, RadiusM: 1000, Limit: 10}, nil)
	if err == nil {
		t.Fatal("an answer from a replica that never answers")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the search went on for %v after its caller left", took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want the caller's cancellation (a 499, not a 503)", err)
	}
	if n := testutil.ToFloat64(c.unavailable.WithLabelValues("europe")); n != 0 || strings.Contains(log.String(), "region unavailable") {
		t.Errorf("a caller that gave up counted the region unavailable %v times; log:\n%s", n, log.String())
	}
	// Nor did the node time out: the request was called off.
	if got := [2]float64{testutil.ToFloat64(c.requests.WithLabelValues("b", "cancelled")), testutil.ToFloat64(c.requests.WithLabelValues("b", "timeout"))}; got != [2]float64{1, 0} {
		t.Errorf("requests to b cancelled and timed out: %v, want [1 0]", got)
	}
}

// TestConnectionsReused: shard requests reuse their connections to a peer,
// full pages (about 15 KB) and refusals included,
// instead of opening a new one each time (a TCP, maybe TLS, handshake on
// every border-crossing search, and sockets piling up in TIME_WAIT).
func TestConnectionsReused(t *testing.T) {
	var results []string
	for i := range nearby.MaxLimit + 1 {
		results = append(results, fmt.Sprintf(`{"id":"%d","name":"%s %d","category":"cafe","lat":48.8566,"lon":2.3522,"distance_m":%d.25,"price":2,"rating":4.5,"review_count":12}`,
			i+1, "Boulangerie du Marché", i+1, i))
	}
	big := `{"region":"europe","version":"1","results":[` + strings.Join(results, ",") + `],"total":0,"total_capped":false}` + "\n"
	var fail atomic.Bool
	var conns atomic.Int64
	peer := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if fail.Load() {
			http.Error(w, strings.Repeat("busy ", 10000), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(big))
	}))
	peer.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	peer.Start()
	defer peer.Close()
	m := &Map{Nodes: map[string]string{"a": "http://127.0.0.1:1", "b": peer.URL}, Regions: map[string][]string{"europe": {"b"}}}
	c := NewClient(m, "a", discard, prometheus.NewRegistry())
	c.ShardTimeout = 5 * time.Second
	q := nearby.SearchQuery{Lat: 48.85, Lon: 2.35, RadiusM: 1000, Limit: nearby.MaxLimit + 1}
	for i := range 20 {
		fail.Store(i%2 == 1)
		a, err := c.Shard(context.Background(), "europe", q, nil)
		if (err == nil) == fail.Load() || err == nil && len(a.Results) != nearby.MaxLimit+1 {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := conns.Load(); n > 1 {
		t.Errorf("%d connections for 20 sequential shard requests, want 1", n)
	}
}

// TestFailoverCountedAsHedge: a second replica asked because the first
// failed counts in nearby_cluster_hedged_requests_total, as one asked
// because the first was slow does ("slow or failed").
func TestFailoverCountedAsHedge(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"region":"europe","version":"1","results":[],"total":0,"total_capped":false}`))
	}))
	defer good.Close()
	m := &Map{Nodes: map[string]string{"a": "http://127.0.0.1:1", "f": failing.URL, "g": good.URL}, Regions: map[string][]string{"europe": {"f", "g"}}}
	c := NewClient(m, "a", discard, prometheus.NewRegistry())
	c.ShardTimeout, c.HedgeAfter = 5*time.Second, time.Hour // no hedge for slowness
	q := nearby.SearchQuery{Lat: 48.85, Lon: 2.35, RadiusM: 1000, Limit: 10}
	asked := 0.0
	for range 4 { // the first replica asked rotates
		c.mu.Lock()
		clear(c.up) // both untried: f may come first
		c.mu.Unlock()
		before := testutil.ToFloat64(c.requests.WithLabelValues("f", "error"))
		if _, err := c.Shard(context.Background(), "europe", q, nil); err != nil {
			t.Fatal(err)
		}
		asked += testutil.ToFloat64(c.requests.WithLabelValues("f", "error")) - before
	}
	if asked == 0 {
		t.Fatal("the failing replica was never asked first")
	}
	if n := testutil.ToFloat64(c.hedges); n != asked {
		t.Errorf("%v second replicas asked after a failure, %v counted as hedged", asked, n)
	}
}

// TestSetMapForgetsRemovedNodes: a node a reloaded map no longer names
// leaves the health table and nearby_cluster_node_up (which would go on
// saying it is up), and a late probe of it does not bring it back.
func TestSetMapForgetsRemovedNodes(t *testing.T) {
	m := &Map{Nodes: map[string]string{"n1": "http://127.0.0.1:1", "n2": "http://127.0.0.1:2", "n3": "http://127.0.0.1:3"},
		Regions: map[string][]string{"rest": {"n2", "n3"}}}
	reg := prometheus.NewRegistry()
	c := NewClient(m, "n1", slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	c.setUp("n2", true)
	c.setUp("n3", true)
	c.SetMap(&Map{Nodes: map[string]string{"n1": "http://127.0.0.1:1", "n3": "http://127.0.0.1:3"},
		Regions: map[string][]string{"rest": {"n3"}}})
	c.setUp("n2", true) // a probe begun under the old map
	if nodes := promtest.LabelValues(t, reg, "nearby_cluster_node_up", "node"); !slices.Equal(nodes, []string{"n3"}) {
		t.Errorf("nearby_cluster_node_up for %v, want [n3]", nodes)
	}
	if _, ok := c.up["n2"]; ok {
		t.Error("n2's health is still kept")
	}
}

// TestPeerRedirectNotFollowed: a peer that answers with a redirect is a
// failing peer, not a pointer to follow: the shard request never reaches
// the address it names (a peer is whatever the operator's map says, and
// nothing else), and its regions count as missing.
func TestPeerRedirectNotFollowed(t *testing.T) {
	r := rand.New(rand.NewPCG(75, 76))
	bs := businesses(t, r, 500)
	engines, servers, clients := testCluster(t, bs)
	var trapped atomic.Int64
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		trapped.Add(1)
		servers[1].Config.Handler.ServeHTTP(w, req) // would answer as b does
	}))
	defer trap.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, trap.URL+req.URL.RequestURI(), http.StatusFound)
	}))
	defer redirect.Close()
	c := clients[0]
	m := c.cluster.Load()
	m2 := &Map{Nodes: maps.Clone(m.Nodes), Regions: maps.Clone(m.Regions)}
	m2.Nodes["b"] = redirect.URL
	c.SetMap(m2)
	page, err := engines[0].Nearby(context.Background(), nearby.SearchQuery{Lat: 40, Lon: -100, RadiusM: 50000, Limit: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := trapped.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
	if !page.Partial || !slices.Contains(page.Missing, "americas") {
		t.Errorf("partial %v, missing %v; want americas missing", page.Partial, page.Missing)
	}
}
