package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/postgres"
	"github.com/nearby/nearby/internal/postgres/pgtest"
	"github.com/nearby/nearby/internal/syncbuf"
)

// buildCommands builds the named commands of this module (e.g.
// "owner-api") into a temporary directory and returns it: a test cannot
// import another command's package main, so it runs the real binaries.
func buildCommands(t testing.TB, names ...string) string {
	t.Helper()
	gomod, err := osexec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	dir := t.TempDir()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./cmd/"+n)
	}
	cmd := osexec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	return dir
}

// process is a running service binary.
type process struct {
	URL  string
	Logs *syncbuf.Buffer
	Cmd  *osexec.Cmd
}

// startProcess runs a service binary and waits for its "listening" log
// line; it is stopped with SIGTERM when t ends.
func startProcess(t testing.TB, bin string, args []string, vars ...string) *process {
	t.Helper()
	cmd := osexec.Command(bin, args...)
	// The developer's own NEARBY_* settings must not leak into the test.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NEARBY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, vars...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	urlc := make(chan string, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, URL string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				urlc <- line.URL
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(bin), logs.String())
		}
	})
	select {
	case u := <-urlc:
		return &process{URL: u, Logs: logs, Cmd: cmd}
	case <-exited:
		cmd.Wait()
		t.Fatalf("%s exited early:\n%s", filepath.Base(bin), logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start listening:\n%s", filepath.Base(bin), logs.String())
	}
	return nil
}

// call sends a JSON request and decodes a JSON answer into v (if not nil).
func call(t testing.TB, method, u, token, body string, want int, v any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, u, resp.StatusCode, data, want)
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, u, err, data)
		}
	}
}

// hit is a search result as searchd answers it.
type hit struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Category  string  `json:"category"`
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
	DistanceM float64 `json:"distance_m"`
}

type answer struct {
	Results      []hit  `json:"results"`
	IndexVersion string `json:"index_version"`
}

func searchURL(base string, q nearby.SearchQuery) string {
	v := url.Values{}
	v.Set("lat", strconv.FormatFloat(q.Lat, 'g', -1, 64))
	v.Set("lon", strconv.FormatFloat(q.Lon, 'g', -1, 64))
	v.Set("radius", strconv.FormatFloat(q.RadiusM, 'g', -1, 64))
	v.Set("limit", strconv.Itoa(q.Limit))
	return base + "/v1/search/nearby?" + v.Encode()
}

// brute answers q by measuring every live row: the oracle.
func brute(rows map[int64]nearby.Business, q nearby.SearchQuery) []hit {
	var hs []hit
	for _, b := range rows {
		if d := geo.Distance(q.Lat, q.Lon, b.Lat, b.Lon); d <= q.RadiusM {
			hs = append(hs, hit{ID: strconv.FormatInt(b.ID, 10), Name: b.Name, Category: b.Category.String(), Lat: b.Lat, Lon: b.Lon, DistanceM: d})
		}
	}
	slices.SortFunc(hs, func(a, b hit) int {
		ai, _ := strconv.ParseInt(a.ID, 10, 64)
		bi, _ := strconv.ParseInt(b.ID, 10, 64)
		return cmp.Or(cmp.Compare(a.DistanceM, b.DistanceM), cmp.Compare(ai, bi))
	})
	return hs[:min(len(hs), q.Limit)]
}

// checkAgainstOracles asks searchd each query and compares its answer with
// a brute-force scan of the replica's live rows (exactly) and with the
// database's own proximity query on the replica (ids, and distances to
// 1 mm).
func checkAgainstOracles(t *testing.T, base string, rows map[int64]nearby.Business, db *postgres.BusinessService, qs []nearby.SearchQuery) {
	t.Helper()
	found := 0
	for _, q := range qs {
		var got answer
		call(t, "GET", searchURL(base, q), "", "", 200, &got)
		want := brute(rows, q)
		if !slices.Equal(got.Results, want) && !(len(got.Results) == 0 && len(want) == 0) {
			t.Fatalf("query %+v:\n searchd %v\n brute   %v", q, got.Results, want)
		}
		if len(want) > 0 {
			found++
		}
		pg, err := db.Nearby(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(pg) != len(want) {
			t.Fatalf("query %+v: postgres Nearby has %d results, brute force %d", q, len(pg), len(want))
		}
		for i, r := range pg {
			if strconv.FormatInt(r.ID, 10) != want[i].ID || math.Abs(r.DistanceM-want[i].DistanceM) > 1e-3 {
				t.Fatalf("query %+v: result %d: postgres %d at %v m, brute %s at %v m", q, i, r.ID, r.DistanceM, want[i].ID, want[i].DistanceM)
			}
		}
	}
	if found < len(qs)/2 {
		t.Fatalf("only %d of %d queries found anything: the comparison says little", found, len(qs))
	}
}

func ids(hs []hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

// TestReplicaEndToEnd connects the write path to the read path through a
// real streaming replica: a business created through owner-api (on the
// primary) is searchable in searchd after the next indexer build from the
// replica, and gone after it is soft-deleted and the index rebuilt, with no
// searchd restart; every answer equals a brute-force scan of the replica's
// live rows and the database's own proximity query.
func TestReplicaEndToEnd(t *testing.T) {
	bins := buildCommands(t, "owner-api", "searchd")
	rep := pgtest.StartPrimaryAndReplica(t)
	primary, replica := rep.Primary.DSN("test"), rep.Replica.DSN("test")
	const secret = "indexer-e2e-secret-0123456789abcdef0123"

	// owner-api on the primary migrates it at start.
	ownerURL := startProcess(t, filepath.Join(bins, "owner-api"),
		[]string{"serve", "--addr", "127.0.0.1:0", "--db", primary, "--db-replica", replica}, "NEARBY_JWT_SECRET="+secret).URL
	// Background businesses around real cities, by bulk load.
	loadGenerated(t, primary, 20000, 8)
	tokOut, err := osexec.Command(filepath.Join(bins, "owner-api"), "token", "--owner", "42", "--jwt-secret", secret).Output()
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokOut))
	var created struct {
		ID string `json:"id"`
	}
	call(t, "POST", ownerURL+"/v1/businesses", token,
		`{"name":"Replica Roasters","category":"cafe","lat":40.7581234,"lon":-73.9854321,"address":"1 Times Sq","city":"New York","country":"US"}`,
		201, &created)

	rep.WaitReplayed(t)
	out := t.TempDir()
	if logs, err := runIndexer(t, []string{"build", "--db", replica, "--out", out}, nil); err != nil {
		t.Fatalf("build from the replica: %v\n%s", err, logs)
	}
	searchURLBase := startProcess(t, filepath.Join(bins, "searchd"),
		[]string{"--addr", "127.0.0.1:0", "--seeds", out, "--reload-interval", "100ms"}).URL
	waitFor(t, "searchd ready", func() bool {
		resp, err := http.Get(searchURLBase + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	db, err := postgres.Open(context.Background(), postgres.Config{Primary: replica, Replica: replica})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	svc := postgres.NewBusinessService(db)
	near := nearby.SearchQuery{Lat: 40.758, Lon: -73.9855, RadiusM: 2000, Limit: 100}
	qs := []nearby.SearchQuery{near, {Lat: 40.7581234, Lon: -73.9854321, RadiusM: 50, Limit: 5}}
	for _, q := range dataset.Queries(40, 9) {
		qs = append(qs, q.SearchQuery())
	}
	for i := range qs[2:] {
		// The oracles here compare unfiltered answers; 20,000 businesses
		// are sparse, so search as wide as the API allows.
		qs[2+i].Categories, qs[2+i].RadiusM = 0, nearby.MaxRadiusM
	}

	var first answer
	call(t, "GET", searchURL(searchURLBase, near), "", "", 200, &first)
	if !slices.Contains(ids(first.Results), created.ID) {
		t.Fatalf("business %s created through owner-api is not found near its place: %v", created.ID, ids(first.Results))
	}
	checkAgainstOracles(t, searchURLBase, liveRows(t, replica), svc, qs)

	// Soft delete through owner-api; the next build drops it, and searchd
	// reloads the new manifest by itself.
	call(t, "DELETE", ownerURL+"/v1/businesses/"+created.ID, token, "", 204, nil)
	rep.WaitReplayed(t)
	if logs, err := runIndexer(t, []string{"build", "--db", replica, "--out", out}, nil); err != nil {
		t.Fatalf("rebuild: %v\n%s", err, logs)
	}
	var after answer
	waitFor(t, "searchd to load the new index", func() bool {
		call(t, "GET", searchURL(searchURLBase, near), "", "", 200, &after)
		return after.IndexVersion != first.IndexVersion
	})
	if slices.Contains(ids(after.Results), created.ID) {
		t.Fatalf("soft-deleted business %s still found", created.ID)
	}
	rows := liveRows(t, replica)
	if _, ok := rows[mustID(t, created.ID)]; ok || len(rows) != 20000 {
		t.Fatalf("replica has %d live rows (deleted one included: %v)", len(rows), ok)
	}
	checkAgainstOracles(t, searchURLBase, rows, svc, qs)
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(fmt.Errorf("id %q: %w", s, err))
	}
	return id
}

// TestHelpExitsZero: -h prints a command's usage and is not an error, for
// the indexer and owner-api as for searchd.
func TestHelpExitsZero(t *testing.T) {
	bins := buildCommands(t, "indexer", "owner-api")
	for _, args := range [][]string{
		{"indexer", "-h"}, {"indexer", "build", "-h"}, {"indexer", "run", "--help"},
		{"owner-api", "--help"}, {"owner-api", "serve", "-h"}, {"owner-api", "token", "-h"},
	} {
		out, err := osexec.Command(filepath.Join(bins, args[0]), args[1:]...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage") && !strings.Contains(string(out), "usage") || strings.Contains(string(out), "help requested") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
}
