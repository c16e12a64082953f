package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/indexer"
	"github.com/nearby/nearby/internal/redis/redistest"
)

// node is a searchd process of a test cluster.
type node struct {
	name, addr string
	args       []string
	cmd        *exec.Cmd
}

func (n *node) url() string { return "http://" + n.addr }

func (n *node) start(t testing.TB, bin string) {
	t.Helper()
	n.cmd = exec.Command(bin, append([]string{"--addr", n.addr}, n.args...)...)
	n.cmd.Stdout, n.cmd.Stderr = os.Stderr, os.Stderr
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func (n *node) kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		n.cmd.Process.Signal(syscall.SIGCONT)
		n.cmd.Process.Kill()
		n.cmd.Wait()
	}
}

// freeze stops n with SIGSTOP and waits until every thread of it has
// stopped: until the thread the kernel picks to take the signal runs, the
// others go on, and may answer a request sent after the signal.
func (n *node) freeze(t testing.TB) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := func() bool {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", n.cmd.Process.Pid))
		if err != nil || len(tasks) == 0 {
			return false
		}
		for _, task := range tasks {
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", n.cmd.Process.Pid, task.Name()))
			// The state follows the command name, which is in parentheses.
			i := bytes.LastIndexByte(stat, ')')
			if err != nil || i < 0 || i+2 >= len(stat) || stat[i+2] != 'T' {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(10 * time.Second); !stopped(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not stop", n.name)
		}
	}
}

func waitReady(t testing.TB, base string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready", base)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type clusterFixture struct {
	nodes  map[string]*node
	all    []nearby.Business
	region map[int64]string // business id → region
}

// clusterRegions are the replicas of each region in startCluster's cluster.
var clusterRegions = map[string][]string{
	"americas-west": {"n1", "n2"}, "americas-east": {"n2", "n3"}, "europe-africa": {"n1", "n3"},
	"asia-oceania": {"n2", "n3"}, "rest": {"n1", "n3"},
}

// startCluster publishes seeds of five regions and starts three searchd
// processes holding two replicas of each region.
func startCluster(t testing.TB) *clusterFixture {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "searchd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bs := testBusinesses(20000, 9)
	dir := t.TempDir()
	publish(t, dir, bs)
	f := &clusterFixture{nodes: map[string]*node{}, all: readBack(t, bs), region: map[int64]string{}}
	rs, _ := indexer.NewRegions(indexer.DefaultRegions)
	for _, b := range f.all {
		f.region[b.ID] = rs[rs.Of(b.Lat, b.Lon)].Name
	}
	m := map[string]any{
		"nodes":   map[string]string{},
		"regions": clusterRegions,
	}
	clusterFile := filepath.Join(t.TempDir(), "cluster.json")
	for _, name := range []string{"n1", "n2", "n3"} {
		n := &node{name: name, addr: freeAddr(t)}
		n.args = []string{"--seeds", dir, "--cluster", clusterFile, "--node", name, "--reload-interval", "200ms", "--log-level", "warn"}
		f.nodes[name] = n
		m["nodes"].(map[string]string)[name] = n.url()
	}
	data, _ := json.Marshal(m)
	if err := os.WriteFile(clusterFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range f.nodes {
		n.start(t, bin)
		t.Cleanup(n.kill)
	}
	for _, n := range f.nodes {
		waitReady(t, n.url())
	}
	return f
}

// check compares an answer with brute force over the regions it says it
// covered: exact when not partial, exact without the missing regions else.
func (f *clusterFixture) check(a answer, missing []string, sq nearby.SearchQuery) bool {
	var bs []nearby.Business
	for _, b := range f.all {
		if !slices.Contains(missing, f.region[b.ID]) {
			bs = append(bs, b)
		}
	}
	want := brute(bs, sq.Lat, sq.Lon, sq.RadiusM, sq.Categories)
	want = want[:min(len(want), sq.Limit)]
	return slices.Equal(a.Results, want) || len(a.Results)+len(want) == 0
}

type clusterAnswer struct {
	answer
	Missing []string `json:"missing_regions"`
}

// clusterDensity is an answer of GET /v1/index/density.
type clusterDensity struct {
	Counts  []int    `json:"counts"`
	Total   int      `json:"total"`
	Partial bool     `json:"partial"`
	Missing []string `json:"missing_regions"`
}

// densityBoxes cross region borders (-95°, -25°, 60°) and the antimeridian.
var densityBoxes = []geo.Rect{geo.World, {MinLat: 20, MinLon: -110, MaxLat: 50, MaxLon: -80}, {MinLat: -30, MinLon: 170, MaxLat: 0, MaxLon: -170}}

func densityURL(base string, box geo.Rect, query string) string {
	return fmt.Sprintf("%s/v1/index/density?min_lat=%v&min_lon=%v&max_lat=%v&max_lon=%v&cols=16&rows=8%s", base, box.MinLat, box.MinLon, box.MaxLat, box.MaxLon, query)
}

// inBox counts the businesses in box, but those of the missing regions and
// with a category in cats (all when empty).
func (f *clusterFixture) inBox(box geo.Rect, missing []string, cats nearby.CategorySet) int {
	n := 0
	for _, b := range f.all {
		if box.Contains(b.Lat, b.Lon) && !slices.Contains(missing, f.region[b.ID]) && (cats == 0 || cats.Has(b.Category)) {
			n++
		}
	}
	return n
}

func borderQueries() []dataset.Query {
	qs := dataset.Queries(60, 4)
	for _, c := range [][2]float64{{64, -170}, {30, -95}, {10, -25}, {45, 60}, {-17, 180}, {-17, -180}, {89.99, 10}} {
		qs = append(qs, dataset.Query{Lat: c[0], Lon: c[1], RadiusM: 20000, Limit: 50})
	}
	return qs
}

func TestClusterAnswersExactlyFromEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes")
	}
	f := startCluster(t)
	// Every node lists the regions it holds and those the others hold, each
	// with its count; together they are the whole index.
	perRegion := map[string]int{}
	for _, r := range f.region {
		perRegion[r]++
	}
	for _, name := range []string{"n1", "n2", "n3"} {
		var ix struct {
			Businesses int `json:"businesses"`
			Regions    []struct {
				Name       string `json:"name"`
				Businesses int    `json:"businesses"`
			} `json:"regions"`
			RemoteRegions []struct {
				Name       string `json:"name"`
				Businesses int    `json:"businesses"`
			} `json:"remote_regions"`
		}
		getJSON(t, f.nodes[name].url()+"/v1/index", 200, &ix)
		var local, remote []string
		for _, r := range ix.Regions {
			local = append(local, r.Name)
			if r.Businesses != perRegion[r.Name] {
				t.Errorf("%s: region %s has %d businesses, want %d", name, r.Name, r.Businesses, perRegion[r.Name])
			}
		}
		for _, r := range ix.RemoteRegions {
			remote = append(remote, r.Name)
			if r.Businesses != perRegion[r.Name] {
				t.Errorf("%s: remote region %s has %d businesses, want %d", name, r.Name, r.Businesses, perRegion[r.Name])
			}
		}
		slices.Sort(local)
		slices.Sort(remote)
		var want, others []string
		for r, replicas := range clusterRegions {
			if slices.Contains(replicas, name) {
				want = append(want, r)
			} else {
				others = append(others, r)
			}
		}
		slices.Sort(want)
		slices.Sort(others)
		if !slices.Equal(local, want) || !slices.Equal(remote, others) || ix.Businesses != len(f.all) {
			t.Errorf("%s: /v1/index regions %v, remote %v, businesses %d; want %v, %v, %d", name, local, remote, ix.Businesses, want, others, len(f.all))
		}
	}
	// Density grids count every region from every node: the same counts
	// whichever node holds which regions.
	for i, box := range densityBoxes {
		for _, query := range []string{"", "&category=cafe,bar"} {
			var first []int
			for _, name := range []string{"n1", "n2", "n3"} {
				var d clusterDensity
				getJSON(t, densityURL(f.nodes[name].url(), box, query), 200, &d)
				cats, _ := nearby.ParseCategorySet(strings.TrimPrefix(query, "&category="))
				if want := f.inBox(box, nil, cats); d.Partial || d.Total != want || want == 0 {
					t.Fatalf("node %s, box %d%s: partial %v, %d counted, want %d", name, i, query, d.Partial, d.Total, want)
				}
				if first == nil {
					first = d.Counts
				} else if !slices.Equal(d.Counts, first) {
					t.Fatalf("node %s, box %d%s: counts differ from n1's", name, i, query)
				}
			}
		}
	}
	for _, n := range f.nodes {
		for _, q := range borderQueries() {
			sq := q.SearchQuery()
			var a clusterAnswer
			getJSON(t, nearbyURL(n.url(), sq.Lat, sq.Lon, sq.RadiusM, sq.Limit, sq.Categories), 200, &a)
			if a.Partial || !f.check(a.answer, nil, sq) {
				t.Fatalf("node %s, query %+v: partial %v, %d results differ from brute force", n.name, sq, a.Partial, len(a.Results))
			}
		}
		// Pages across shards cover everything once.
		want := brute(f.all, -17, 180, 40000, 0)
		var got []result
		u := nearbyURL(n.url(), -17, 180, 40000, 13, 0)
		for {
			var a answer
			getJSON(t, u, 200, &a)
			got = append(got, a.Results...)
			if a.NextCursor == nil {
				break
			}
			u = nearbyURL(n.url(), -17, 180, 40000, 13, 0) + "&cursor=" + *a.NextCursor
		}
		if !slices.Equal(got, want) {
			t.Fatalf("node %s: %d paged results, want %d", n.name, len(got), len(want))
		}
		// Filters, the rating order and totals across shards, paged.
		for _, c := range [][2]float64{{-17, 180}, {30, -95}, {45, 60}, {10, -25}} {
			var want []string
			var in []nearby.SearchResult
			for _, b := range f.all {
				d := geo.Distance(c[0], c[1], b.Lat, b.Lon)
				if d <= 40000 && b.Price >= 1 && b.Price <= 3 && b.Rating.Rated() && b.Rating.Tenths() >= 35 {
					in = append(in, nearby.SearchResult{Business: b, DistanceM: d})
				}
			}
			slices.SortFunc(in, func(a, b nearby.SearchResult) int {
				return cmp.Or(cmp.Compare(b.Rating, a.Rating), cmp.Compare(a.DistanceM, b.DistanceM), cmp.Compare(a.ID, b.ID))
			})
			for _, r := range in {
				want = append(want, strconv.FormatInt(r.ID, 10))
			}
			u := fmt.Sprintf("%s/v1/search/nearby?lat=%v&lon=%v&radius=40000&limit=7&price=1,2,3&min_rating=3.5&sort=rating&total=true", n.url(), c[0], c[1])
			var got []string
			next := u
			for {
				var a struct {
					answer
					Total int `json:"total"`
				}
				getJSON(t, next, 200, &a)
				if a.Total != len(want) {
					t.Fatalf("node %s at %v: total %d, want %d", n.name, c, a.Total, len(want))
				}
				for _, r := range a.Results {
					got = append(got, r.ID)
				}
				if a.NextCursor == nil {
					break
				}
				next = u + "&cursor=" + *a.NextCursor
			}
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Fatalf("node %s at %v: filtered, rating-ordered pages %v, want %v", n.name, c, got, want)
			}
		}
		// Box and polygon searches across region borders and the
		// antimeridian, paged, with the other regions' parts from other
		// nodes.
		for _, c := range [][2]float64{{30, -95}, {-17, 180}, {10, -25}} {
			box := geo.Rect{MinLat: c[0] - 0.2, MaxLat: c[0] + 0.2, MinLon: c[1] - 0.2, MaxLon: c[1] + 0.2}
			if box.MaxLon > 180 {
				box.MaxLon -= 360
			}
			shape := fmt.Sprintf(`{"type":"MultiPolygon","coordinates":[[[[%[1]v,%[2]v],[%[3]v,%[2]v],[%[3]v,%[4]v],[%[1]v,%[4]v],[%[1]v,%[2]v]]]]}`,
				max(-180, c[1]-0.2), c[0]-0.2, min(180, c[1]+0.2), c[0]+0.2)
			var wantBox, wantShape []string
			for _, b := range f.all {
				if box.Contains(b.Lat, b.Lon) {
					wantBox = append(wantBox, strconv.FormatInt(b.ID, 10))
				}
				if b.Lat >= c[0]-0.2 && b.Lat <= c[0]+0.2 && b.Lon >= max(-180, c[1]-0.2) && b.Lon <= min(180, c[1]+0.2) {
					wantShape = append(wantShape, strconv.FormatInt(b.ID, 10))
				}
			}
			byID := func(a, b string) int {
				x, _ := strconv.ParseInt(a, 10, 64)
				y, _ := strconv.ParseInt(b, 10, 64)
				return cmp.Compare(x, y)
			}
			slices.SortFunc(wantBox, byID)
			slices.SortFunc(wantShape, byID)
			for _, tc := range []struct {
				name, method, u, body string
				want                  []string
			}{
				{"box", "GET", fmt.Sprintf("%s/v1/search/box?min_lat=%v&min_lon=%v&max_lat=%v&max_lon=%v&limit=9", n.url(), box.MinLat, box.MinLon, box.MaxLat, box.MaxLon), "", wantBox},
				{"polygon", "POST", n.url() + "/v1/search/within?limit=9", shape, wantShape},
			} {
				var got []string
				next := tc.u
				for {
					req, _ := http.NewRequest(tc.method, next, strings.NewReader(tc.body))
					req.Header.Set("Content-Type", "application/geo+json")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					var a struct {
						clusterAnswer
						Total int `json:"total"`
					}
					err = json.NewDecoder(resp.Body).Decode(&a)
					resp.Body.Close()
					if err != nil || resp.StatusCode != 200 || a.Partial || a.Total != len(tc.want) {
						t.Fatalf("node %s, %s at %v: status %d, partial %v (missing %v), total %d, want %d: %v",
							n.name, tc.name, c, resp.StatusCode, a.Partial, a.Missing, a.Total, len(tc.want), err)
					}
					for _, r := range a.Results {
						got = append(got, r.ID)
					}
					if a.NextCursor == nil {
						break
					}
					next = tc.u + "&cursor=" + *a.NextCursor
				}
				if len(tc.want) == 0 || !slices.Equal(got, tc.want) {
					t.Fatalf("node %s, %s at %v: %d results, want %d", n.name, tc.name, c, len(got), len(tc.want))
				}
			}
		}
	}
}

// TestClusterFailover runs a bounded load against n1 while n2 is killed
// and n3 is frozen, then both come back: no wrong answer ever, at most 0.1%
// failed requests, partial answers only while a region has no live replica,
// and full answers after recovery.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes")
	}
	f := startCluster(t)
	n1, n2, n3 := f.nodes["n1"], f.nodes["n2"], f.nodes["n3"]
	qs := borderQueries()
	client := &http.Client{Timeout: 3 * time.Second}

	var requests, failures, wrong, partials atomic.Int64
	var phase atomic.Int32 // 0 healthy, 1 n2 killed, 2 n3 frozen too, 3 recovering
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; ; i += 4 {
				select {
				case <-stop:
					return
				default:
				}
				sq := qs[i%len(qs)].SearchQuery()
				requests.Add(1)
				resp, err := client.Get(nearbyURL(n1.url(), sq.Lat, sq.Lon, sq.RadiusM, sq.Limit, sq.Categories))
				if err != nil {
					failures.Add(1)
					continue
				}
				var a clusterAnswer
				err = json.NewDecoder(resp.Body).Decode(&a)
				resp.Body.Close()
				if resp.StatusCode != 200 || err != nil {
					failures.Add(1)
					continue
				}
				if a.Partial {
					partials.Add(1)
					if phase.Load() < 2 || len(a.Missing) == 0 {
						wrong.Add(1) // a region had a live replica
					}
				}
				if !f.check(a.answer, a.Missing, sq) {
					wrong.Add(1)
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	n2.cmd.Process.Signal(syscall.SIGKILL)
	n2.cmd.Wait()
	phase.Store(1)
	time.Sleep(2 * time.Second)
	phase.Store(2)
	n3.freeze(t)
	// The regions only n2 and n3 hold are missing from n1's density grid.
	started := time.Now()
	var d clusterDensity
	getJSON(t, densityURL(n1.url(), geo.World, ""), 200, &d)
	down := []string{"americas-east", "asia-oceania"}
	if slices.Sort(d.Missing); !d.Partial || !slices.Equal(d.Missing, down) || d.Total != f.inBox(geo.World, down, 0) {
		t.Errorf("density with n2 and n3 down: partial %v, missing %v, %d counted, want %d without %v",
			d.Partial, d.Missing, d.Total, f.inBox(geo.World, down, 0), down)
	}
	time.Sleep(2*time.Second - time.Since(started))
	n3.cmd.Process.Signal(syscall.SIGCONT)
	n2.start(t, n2.cmd.Path)
	waitReady(t, n2.url())
	phase.Store(3)
	// Recovery: within a few seconds every region is answered again.
	recovered := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !recovered; {
		recovered = true
		for _, q := range qs {
			sq := q.SearchQuery()
			var a clusterAnswer
			getJSON(t, nearbyURL(n1.url(), sq.Lat, sq.Lon, sq.RadiusM, sq.Limit, sq.Categories), 200, &a)
			if a.Partial {
				recovered = false
				time.Sleep(200 * time.Millisecond)
				break
			}
			if !f.check(a.answer, nil, sq) {
				t.Fatalf("wrong answer after recovery for %+v", sq)
			}
		}
	}
	close(stop)
	wg.Wait()
	total, failed := requests.Load(), failures.Load()
	t.Logf("%d requests, %d failed, %d partial, %d wrong", total, failed, partials.Load(), wrong.Load())
	if wrong.Load() != 0 {
		t.Errorf("%d wrong answers", wrong.Load())
	}
	if float64(failed) > 0.001*float64(total) {
		t.Errorf("%d of %d requests failed (> 0.1%%)", failed, total)
	}
	if partials.Load() == 0 {
		t.Error("no partial answers while two of three nodes were down: the test did not exercise failover")
	}
	if !recovered {
		t.Error("answers still partial after recovery")
	}
	resp, err := http.Get(n1.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, metric := range []string{"nearby_cluster_region_unavailable_total{", "nearby_cluster_node_up{", "nearby_cluster_shard_requests_total{"} {
		if !strings.Contains(string(metrics), "\n"+metric) {
			t.Errorf("metric %s missing", metric)
		}
	}
}

// BenchmarkClusterFanout compares, on a 3-node cluster on this machine, a
// query answered from the node's own region with one whose circle reaches
// regions held only by other nodes (so they are asked over HTTP), one
// request at a time, and reports the latency ratio.
func BenchmarkClusterFanout(b *testing.B) {
	f := startCluster(b)
	n1 := f.nodes["n1"] // holds americas-west, europe-africa, rest
	client := &http.Client{}
	measure := func(u string) time.Duration {
		const n = 400
		for range 20 { // warm up connections
			resp, err := client.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		start := time.Now()
		for range n {
			resp, err := client.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return time.Since(start) / n
	}
	local := nearbyURL(n1.url(), 48.8566, 2.3522, 5000, 20, 0)         // Paris: europe-africa, local
	crossing := nearbyURL(n1.url(), 30, -95, 50000, 20, 0)             // Houston area: americas-west (local) + americas-east (remote)
	remoteOnly := nearbyURL(n1.url(), 35.6812, 139.7671, 50000, 20, 0) // Tokyo: asia-oceania, remote only
	for b.Loop() {
		l, c, r := measure(local), measure(crossing), measure(remoteOnly)
		b.ReportMetric(float64(l.Microseconds()), "local-µs")
		b.ReportMetric(float64(c.Microseconds()), "border-µs")
		b.ReportMetric(float64(r.Microseconds()), "remote-µs")
		b.ReportMetric(float64(c)/float64(l), "border/local-x")
		if rps, ok := clusterThroughput(b, f); ok {
			b.ReportMetric(rps, "cluster-req/s")
		}
	}
}

// clusterThroughput drives the workload's searches at all three nodes at
// once with wrk (one process per node, 16 connections each) for 5 s and
// returns the total rate. On 2 cores shared by three nodes and the load
// generators this shows the overhead of the cluster, not its scale.
func clusterThroughput(b *testing.B, f *clusterFixture) (float64, bool) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Log("wrk not installed; cluster throughput not measured")
		return 0, false
	}
	var lua strings.Builder
	lua.WriteString("local paths = {\n")
	for _, q := range dataset.Queries(5000, 11) {
		sq := q.SearchQuery()
		u := nearbyURL("", sq.Lat, sq.Lon, sq.RadiusM, sq.Limit, sq.Categories)
		fmt.Fprintf(&lua, "%q,\n", u)
	}
	lua.WriteString("}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n")
	script := filepath.Join(b.TempDir(), "q.lua")
	if err := os.WriteFile(script, []byte(lua.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	var total float64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range f.nodes {
		wg.Go(func() {
			out, err := exec.Command(wrk, "-t1", "-c16", "-d5s", "-s", script, n.url()).CombinedOutput()
			if err != nil || strings.Contains(string(out), "Non-2xx") {
				b.Errorf("wrk against %s: %v\n%s", n.name, err, out)
				return
			}
			var rps float64
			for _, line := range strings.Split(string(out), "\n") {
				if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Requests/sec:"); ok {
					rps, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
				}
			}
			mu.Lock()
			total += rps
			mu.Unlock()
		})
	}
	wg.Wait()
	return total, total > 0
}

// TestClusterScript runs scripts/cluster.sh (make cluster) as an operator
// would, on ports and in a directory of its own with a private Redis: the
// Postgres primary and streaming replica, owner-api, the indexer and three
// searchd nodes come up; every node answers searches and the same density
// grid over all the regions; a business created through owner-api is found
// from every node within seconds; up run again keeps what runs; down stops
// everything.
func TestClusterScript(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole deployment")
	}
	if os.Geteuid() != 0 {
		t.Skip("scripts/cluster.sh runs PostgreSQL as the postgres user, which needs root")
	}
	dir, err := os.MkdirTemp("", "nearby-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755) // the postgres user creates the databases below it
	offset := freePortOffset(t, 5441, 5442, 8081, 8091, 8092, 8093, 9090)
	env := append(os.Environ(), "NEARBY_CLUSTER_DIR="+filepath.Join(dir, "cluster"),
		"NEARBY_CLUSTER_PORT_OFFSET="+strconv.Itoa(offset), "NEARBY_CLUSTER_REDIS="+redistest.Start(t).URL())
	script := func(args ...string) string {
		cmd := exec.Command("../../scripts/cluster.sh", args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cluster.sh %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		script("down")
		os.RemoveAll(dir)
	})
	out := script("up", "3000")
	m := regexp.MustCompile(`TOKEN=(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no token in:\n%s", out)
	}
	port := func(p int) string { return "http://127.0.0.1:" + strconv.Itoa(p+offset) }
	nodes := []string{port(8091), port(8092), port(8093)}

	var first []int
	for _, n := range nodes {
		var a clusterAnswer
		getJSON(t, nearbyURL(n, 35.6812, 139.7671, 50000, 5, 0), 200, &a)
		if a.Partial || len(a.Results) != 5 {
			t.Fatalf("%s: partial %v, %d results near Tokyo", n, a.Partial, len(a.Results))
		}
		var d clusterDensity
		getJSON(t, densityURL(n, geo.World, ""), 200, &d)
		if d.Partial || d.Total != 3000 || first != nil && !slices.Equal(d.Counts, first) {
			t.Fatalf("%s: density partial %v, total %d, want 3000 and the same grid on every node", n, d.Partial, d.Total)
		}
		first = d.Counts
	}

	req, _ := http.NewRequest("POST", port(8081)+"/v1/businesses",
		strings.NewReader(`{"name":"Quokka Script Cafe","category":"cafe","lat":-31.95,"lon":115.86}`))
	req.Header.Set("Authorization", "Bearer "+m[1])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create through owner-api: %d", resp.StatusCode)
	}
	for _, n := range nodes {
		for deadline := time.Now().Add(10 * time.Second); ; {
			var a clusterAnswer
			getJSON(t, nearbyURL(n, -31.95, 115.86, 100, 5, 0)+"&q=quokka", 200, &a)
			if len(a.Results) == 1 && a.Results[0].Name == "Quokka Script Cafe" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the new business is not found after 10 s (%+v)", n, a)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if st := script("status"); strings.Count(st, ": running") != 5 {
		t.Errorf("status:\n%s", st)
	}

	// up again while up keeps what runs (a second copy of each would fail
	// to bind and leave its pid where down looks), and down then stops
	// every process: nothing listens on the cluster's ports any more.
	script("up", "3000")
	if st := script("status"); strings.Count(st, ": running") != 5 {
		t.Errorf("status after a second up:\n%s", st)
	}
	script("down")
	for _, p := range []int{8081, 8091, 8092, 8093, 9090} {
		addr := "127.0.0.1:" + strconv.Itoa(p+offset)
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatalf("%s still listens 20 s after down", addr)
			}
		}
	}
}

// freePortOffset returns an offset that, added to each port, gives ports
// nothing listens on.
func freePortOffset(t *testing.T, ports ...int) int {
	t.Helper()
	for offset := 10000 + os.Getpid()%5000; offset < 30000; offset += 997 {
		free := true
		for _, p := range ports {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+offset))
			if err != nil {
				free = false
				break
			}
			ln.Close()
		}
		if free {
			return offset
		}
	}
	t.Fatal("no free ports for the cluster")
	return 0
}
