package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	osexec "os/exec"

	"github.com/nearby/nearby"
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
	t      *testing.T
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
func converged(t *testing.T, node string, rows map[int64]nearby.Business, qs []nearby.SearchQuery) bool {
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
func nodeMetric(t *testing.T, node, name string) float64 {
	t.Helper()
	v := metric(get(t, node+"/metrics"), name)
	if v < 0 {
		t.Fatalf("%s has no metric %s", node, name)
	}
	return v
}

// TestLiveChangesEndToEnd follows owner writes into two searchd replicas
// without any new seed: creates, moves across a region border, renames,
// recategorisations and deletes converge to answers equal to a brute-force
// scan of the replica's live rows; a searchd killed mid-stream and started
// again from the same seeds misses nothing; the replica stopped and started
// again is caught up with.
func TestLiveChangesEndToEnd(t *testing.T) {
	bins := buildCommands(t, "owner-api", "searchd")
	rep := pgtest.StartPrimaryAndReplica(t)
	primary, replica := rep.Primary.DSN("test"), rep.Replica.DSN("test")
	const secret = "live-e2e-secret-0123456789abcdef0123456"
	owner := startProcess(t, filepath.Join(bins, "owner-api"),
		[]string{"serve", "--addr", "127.0.0.1:0", "--db", primary, "--db-replica", replica}, "NEARBY_JWT_SECRET="+secret)
	loadGenerated(t, primary, 5000, 8)
	tok, err := osexec.Command(filepath.Join(bins, "owner-api"), "token", "--owner", "7", "--jwt-secret", secret).Output()
	if err != nil {
		t.Fatal(err)
	}
	w := &ownerWriter{t: t, url: owner.URL, token: strings.TrimSpace(string(tok)), r: rand.New(rand.NewPCG(11, 12))}
	for range 20 { // some changes before the seed, some after
		w.write()
	}
	rep.WaitReplayed(t)
	out := t.TempDir()
	if logs, err := runIndexer(t, []string{"build", "--db", replica, "--out", out}, nil); err != nil {
		t.Fatalf("build: %v\n%s", err, logs)
	}
	args := []string{"--addr", "127.0.0.1:0", "--seeds", out, "--db", replica, "--follow-interval", "100ms"}
	startNode := func() *process {
		p := startProcess(t, filepath.Join(bins, "searchd"), args)
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
	nodes := []*process{startNode(), startNode()}
	converge := func(what string) {
		t.Helper()
		rep.WaitReplayed(t)
		rows, qs := liveRows(t, replica), w.liveQueries()
		for _, n := range nodes {
			waitFor(t, what+" on "+n.URL, func() bool { return converged(t, n.URL, rows, qs) })
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
	nodes[0] = startNode()
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
	rep.Replica.Stop(t)
	for range 20 {
		w.write()
	}
	time.Sleep(300 * time.Millisecond) // polls fail meanwhile
	rep.Replica.Start(t)
	converge("after the replica came back")
	if nodeMetric(t, nodes[1].URL, "nearby_live_errors_total") == 0 {
		t.Fatal("no feed errors counted while the replica was down")
	}
}
