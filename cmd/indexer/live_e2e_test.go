package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	osexec "os/exec"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/postgres/pgtest"
)

// owned is a business the test's owner has, as the owner API last said.
type owned struct {
	id       string
	version  int64
	lat, lon float64
}

// places are where the owner's businesses go: on both sides of the border
// between the americas-east and americas-west regions (-95°).
var places = [][2]float64{{40.758, -73.9855}, {39.7392, -104.9903}, {41.88, -94.99}, {41.88, -95.01}}

// ownerWriter makes random creates, moves (across the region border too),
// renames, recategorisations and deletes through owner-api.
type ownerWriter struct {
	t      testing.TB
	url    string
	token  string
	r      *rand.Rand
	owned  []*owned
	writes int
}

func (w *ownerWriter) place() (lat, lon float64) {
	p := places[w.r.IntN(len(places))]
	return p[0] + (w.r.Float64()-0.5)*0.02, p[1] + (w.r.Float64()-0.5)*0.02
}

// do sends a request with an optional If-Match version and decodes the
// business answered, if any.
func (w *ownerWriter) do(method, path string, version int64, body string, want int) (rec struct {
	ID      string  `json:"id"`
	Version int64   `json:"version"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
}) {
	w.t.Helper()
	req, err := http.NewRequest(method, w.url+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("Content-Type", "application/json")
	if version > 0 {
		req.Header.Set("If-Match", fmt.Sprintf("%q", strconv.FormatInt(version, 10)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		w.t.Fatalf("%s %s %s: %d %s", method, path, body, resp.StatusCode, data)
	}
	if want == 200 || want == 201 {
		if err := json.Unmarshal(data, &rec); err != nil {
			w.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return rec
}

func (w *ownerWriter) write() {
	w.writes++
	if len(w.owned) == 0 || w.r.IntN(3) == 0 {
		lat, lon := w.place()
		rec := w.do("POST", "/v1/businesses", 0, fmt.Sprintf(`{"name":"Live %d","category":"cafe","lat":%v,"lon":%v}`, w.writes, lat, lon), 201)
		w.owned = append(w.owned, &owned{id: rec.ID, version: rec.Version, lat: rec.Lat, lon: rec.Lon})
		return
	}
	i := w.r.IntN(len(w.owned))
	b := w.owned[i]
	var body string
	switch w.r.IntN(4) {
	case 0:
		lat, lon := w.place()
		body = fmt.Sprintf(`{"lat":%v,"lon":%v}`, lat, lon)
	case 1:
		body = fmt.Sprintf(`{"name":"Renamed %d"}`, w.writes)
	case 2:
		body = fmt.Sprintf(`{"category":%q}`, nearby.Categories()[w.r.IntN(len(nearby.Categories()))].String())
	case 3:
		w.do("DELETE", "/v1/businesses/"+b.id, b.version, "", 204)
		w.owned = slices.Delete(w.owned, i, i+1)
		return
	}
	rec := w.do("PATCH", "/v1/businesses/"+b.id, b.version, body, 200)
	b.version, b.lat, b.lon = rec.Version, rec.Lat, rec.Lon
}

// liveQueries are wide searches around every place and tight ones at each
// owned business.
func (w *ownerWriter) liveQueries() []nearby.SearchQuery {
	var qs []nearby.SearchQuery
	for _, p := range places {
		qs = append(qs, nearby.SearchQuery{Lat: p[0], Lon: p[1], RadiusM: 3000, Limit: 100})
	}
	for _, b := range w.owned {
		qs = append(qs, nearby.SearchQuery{Lat: b.lat, Lon: b.lon, RadiusM: 30, Limit: 10})
	}
	return qs
}

// converged reports whether the node answers every query as a brute-force
// scan of the replica's live rows does.
func converged(t testing.TB, node string, rows map[int64]nearby.Business, qs []nearby.SearchQuery) bool {
	for _, q := range qs {
		var got answer
		call(t, "GET", searchURL(node, q), "", "", 200, &got)
		if want := brute(rows, q); !slices.Equal(got.Results, want) && !(len(got.Results) == 0 && len(want) == 0) {
			return false
		}
	}
	return true
}

// nodeMetric reads a sample of a node's /metrics.
func nodeMetric(t testing.TB, node, name string) float64 {
	t.Helper()
	v := metric(get(t, node+"/metrics"), name)
	if v < 0 {
		t.Fatalf("%s has no metric %s", node, name)
	}
	return v
}

// live is a primary and a streaming replica, owner-api on the primary and
// searchd nodes serving seeds built from the replica and following it.
type live struct {
	rep     *pgtest.Replication
	replica string
	writer  *ownerWriter
	nodes   []*process
	bins    string
	seeds   string
	args    []string // searchd's extra arguments
}

// startLive loads n generated businesses and some owner writes, builds
// seeds from the replica and starts the searchd nodes, ready, with extra
// arguments.
func startLive(t testing.TB, n, nodes int, args ...string) *live {
	t.Helper()
	l := &live{bins: buildCommands(t, "owner-api", "searchd"), rep: pgtest.StartPrimaryAndReplica(t)}
	primary := l.rep.Primary.DSN("test")
	l.replica = l.rep.Replica.DSN("test")
	const secret = "live-e2e-secret-0123456789abcdef0123456"
	owner := startProcess(t, filepath.Join(l.bins, "owner-api"),
		[]string{"serve", "--addr", "127.0.0.1:0", "--db", primary, "--db-replica", l.replica}, "NEARBY_JWT_SECRET="+secret)
	loadGenerated(t, primary, n, 8)
	tok, err := osexec.Command(filepath.Join(l.bins, "owner-api"), "token", "--owner", "7", "--jwt-secret", secret).Output()
	if err != nil {
		t.Fatal(err)
	}
	l.writer = &ownerWriter{t: t, url: owner.URL, token: strings.TrimSpace(string(tok)), r: rand.New(rand.NewPCG(11, 12))}
	for range 20 { // some changes before the seed, some after
		l.writer.write()
	}
	l.rep.WaitReplayed(t)
	l.seeds = t.TempDir()
	if logs, err := runIndexer(t, []string{"build", "--db", l.replica, "--out", l.seeds}, nil); err != nil {
		t.Fatalf("build: %v\n%s", err, logs)
	}
	l.args = args
	for range nodes {
		l.nodes = append(l.nodes, l.startNode())
	}
	return l
}

// startNode starts a searchd following the replica and waits until it is
// ready.
func (l *live) startNode() *process {
	t := l.writer.t
	t.Helper()
	p := startProcess(t, filepath.Join(l.bins, "searchd"),
		append([]string{"--addr", "127.0.0.1:0", "--seeds", l.seeds, "--db", l.replica}, l.args...))
	waitFor(t, "searchd ready", func() bool {
		resp, err := http.Get(p.URL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

// TestLiveChangesEndToEnd follows owner writes into two searchd replicas
// without any new seed: creates, moves across a region border, renames,
// recategorisations and deletes converge to answers equal to a brute-force
// scan of the replica's live rows; a searchd killed mid-stream and started
// again from the same seeds misses nothing; the replica stopped and started
// again is caught up with.
func TestLiveChangesEndToEnd(t *testing.T) {
	l := startLive(t, 5000, 2, "--follow-interval", "100ms")
	w, nodes, rep := l.writer, l.nodes, l.rep
	converge := func(what string) {
		t.Helper()
		rep.WaitReplayed(t)
		rows, qs := liveRows(t, l.replica), w.liveQueries()
		for _, n := range nodes {
			waitFor(t, what+" on "+n.URL, func() bool { return converged(t, n.URL, rows, qs) })
		}
	}

	// The seeds hold the rows loaded and written before them, though the
	// feed's window reads them again (the load stamps its rows alike):
	// the first write after the seeds is the only live change.
	w.write()
	converge("a first write")
	for _, n := range nodes {
		if held := nodeMetric(t, n.URL, "nearby_live_changes"); held != 1 {
			t.Fatalf("%s holds %v live changes after one write since its seeds", n.URL, held)
		}
	}

	for range 80 {
		w.write()
	}
	converge("creates, moves, updates and deletes")
	if nodeMetric(t, nodes[0].URL, "nearby_live_changes") == 0 {
		t.Fatal("no live changes held after writes")
	}

	// Kill a node mid-stream; writes go on; it restarts from the seeds.
	for range 20 {
		w.write()
	}
	nodes[0].Cmd.Process.Signal(syscall.SIGKILL)
	for range 20 {
		w.write()
	}
	nodes[0] = l.startNode()
	for range 20 {
		w.write()
	}
	converge("after a restart")
	// None applied twice: the follower re-reads its last window every
	// poll, and with no writes applies nothing more.
	applied := nodeMetric(t, nodes[0].URL, "nearby_live_applied_total")
	time.Sleep(500 * time.Millisecond)
	if again := nodeMetric(t, nodes[0].URL, "nearby_live_applied_total"); again != applied {
		t.Fatalf("with no writes, %v changes applied, then %v", applied, again)
	}

	// The replica goes away while writes go on, and comes back.
	l.rep.Replica.Stop(t)
	for range 20 {
		w.write()
	}
	time.Sleep(300 * time.Millisecond) // polls fail meanwhile
	l.rep.Replica.Start(t)
	converge("after the replica came back")
	if nodeMetric(t, nodes[1].URL, "nearby_live_errors_total") == 0 {
		t.Fatal("no feed errors counted while the replica was down")
	}

	// Attributes and opening hours set through owner-api filter searches
	// on every node within a second.
	rec := w.do("POST", "/v1/businesses", 0, `{"name":"Zanzibar Noodle Bar","category":"restaurant","lat":40.7001234,"lon":-74.0101234,
		"price":2,"rating":4.6,"review_count":87,
		"hours":{"time_zone":"America/New_York","weekly":{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],"wed":[["09:00","17:00"]]}}}`, 201)
	at := func(filters string) string {
		return fmt.Sprintf("/v1/search/nearby?lat=40.7001234&lon=-74.0101234&radius=10&%s", filters)
	}
	for _, n := range nodes {
		waitFor(t, "the new business on "+n.URL, func() bool {
			var got answer
			call(t, "GET", n.URL+at("limit=5"), "", "", 200, &got)
			return slices.Contains(ids(got.Results), rec.ID)
		})
		for filters, want := range map[string]bool{
			"open_at=2026-12-02T15:00:00Z": true,  // Wednesday 10:00 in New York
			"open_at=2026-12-02T23:00:00Z": false, // 18:00: closed
			"open_at=2026-12-03T15:00:00Z": false, // Thursday: closed all day
			"min_rating=4.5&price=1,2":     true,
			"min_rating=4.7":               false,
			"price=3":                      false,
			"q=zanzi%20noodle":             true,
			"q=bar%20zanzibar%20x":         false,
		} {
			var got answer
			call(t, "GET", n.URL+at(filters), "", "", 200, &got)
			if slices.Contains(ids(got.Results), rec.ID) != want {
				t.Errorf("%s on %s: found %v, want %v", filters, n.URL, !want, want)
			}
		}
	}
}

// BenchmarkLiveVisibility measures how long an owner's write takes to be
// visible in nearby search on every searchd replica, under search load:
// after a warm-up, 200 writes through owner-api at 10/s (creates and
// moves, half each; moves only of businesses not being watched),
// each timed from the owner-api's answer (the commit) until both nodes
// (default --follow-interval) return the business at its new place, while
// four clients search the nodes back to back with realistic queries.
func BenchmarkLiveVisibility(b *testing.B) {
	l := startLive(b, 100_000, 2)
	w := l.writer
	for range b.N {
		ctx, stop := context.WithCancel(context.Background())
		var searches atomic.Int64
		var load sync.WaitGroup
		qs := dataset.Queries(1000, 5)
		for c := range 4 {
			node := l.nodes[c%len(l.nodes)].URL
			load.Go(func() {
				for i := c; ctx.Err() == nil; i++ {
					resp, err := http.Get(searchURL(node, qs[i%len(qs)].SearchQuery()))
					if err != nil {
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					searches.Add(1)
				}
			})
		}

		// Warm up: the replica is still replaying the bulk load's
		// aftermath (autovacuum) for a second or so after start.
		for range 20 {
			w.write()
			time.Sleep(100 * time.Millisecond)
		}
		l.rep.WaitReplayed(b)

		const writes = 200
		lat := make([]time.Duration, writes)
		var watch sync.WaitGroup
		var mu sync.Mutex
		watched := map[string]bool{} // a business is not moved again while its last write is watched
		start := time.Now()
		tick := time.NewTicker(100 * time.Millisecond)
		for i := range writes {
			<-tick.C
			var id string
			var q nearby.SearchQuery
			mu.Lock()
			var o *owned
			if i%2 == 1 {
				for _, j := range w.r.Perm(len(w.owned)) {
					if !watched[w.owned[j].id] {
						o = w.owned[j]
						break
					}
				}
			}
			mu.Unlock()
			if o == nil {
				plat, plon := w.place()
				rec := w.do("POST", "/v1/businesses", 0, fmt.Sprintf(`{"name":"Visible %d","category":"bakery","lat":%v,"lon":%v}`, i, plat, plon), 201)
				w.owned = append(w.owned, &owned{id: rec.ID, version: rec.Version, lat: rec.Lat, lon: rec.Lon})
				id, q = rec.ID, nearby.SearchQuery{Lat: rec.Lat, Lon: rec.Lon, RadiusM: 1, Limit: 100}
			} else {
				plat, plon := w.place()
				rec := w.do("PATCH", "/v1/businesses/"+o.id, o.version, fmt.Sprintf(`{"lat":%v,"lon":%v}`, plat, plon), 200)
				o.version, o.lat, o.lon = rec.Version, rec.Lat, rec.Lon
				id, q = rec.ID, nearby.SearchQuery{Lat: rec.Lat, Lon: rec.Lon, RadiusM: 1, Limit: 100}
			}
			committed := time.Now()
			mu.Lock()
			watched[id] = true
			mu.Unlock()
			watch.Go(func() {
				defer func() { mu.Lock(); delete(watched, id); mu.Unlock() }()
				for _, n := range l.nodes {
					u := searchURL(n.URL, q)
					for {
						var got answer
						call(b, "GET", u, "", "", 200, &got)
						if slices.Contains(ids(got.Results), id) {
							break
						}
						if time.Since(committed) > 30*time.Second {
							b.Errorf("write %d (business %s) not visible on %s after 30 s", i, id, n.URL)
							return
						}
						time.Sleep(5 * time.Millisecond)
					}
				}
				lat[i] = time.Since(committed)
			})
		}
		tick.Stop()
		watch.Wait()
		elapsed := time.Since(start)
		stop()
		load.Wait()
		slices.Sort(lat)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(lat[writes/2]), "p50-ms")
		b.ReportMetric(ms(lat[writes*99/100]), "p99-ms")
		b.ReportMetric(ms(lat[writes-1]), "max-ms")
		b.ReportMetric(float64(searches.Load())/elapsed.Seconds(), "searches/s")
	}
}
