package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/indexer"
	"github.com/nearby/nearby/internal/postgres"
	"github.com/nearby/nearby/internal/postgres/pgtest"
	"github.com/nearby/nearby/internal/syncbuf"
	"github.com/nearby/nearby/seeds"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// runIndexer runs one indexer command to completion and returns its log.
func runIndexer(t testing.TB, args []string, vars map[string]string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, env(vars), &out)
	return out.String(), err
}

// logLines returns the log lines with message msg.
func logLines(logs, msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.SplitSeq(logs, "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) == nil && l["msg"] == msg {
			out = append(out, l)
		}
	}
	return out
}

// newDB creates a migrated throwaway database on the shared test server
// holding n generated businesses (ids 1..n) and returns its DSN.
func newDB(t testing.TB, n int, seed uint64) string {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	if _, _, err := postgres.Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	loadGenerated(t, dsn, n, seed)
	return dsn
}

func loadGenerated(t testing.TB, dsn string, n int, seed uint64) {
	t.Helper()
	g := dataset.NewGenerator(seed)
	if _, err := pgtest.CopyBusinesses(context.Background(), dsn, false, func() (nearby.Business, bool) {
		n--
		return g.Next(), n >= 0
	}); err != nil {
		t.Fatal(err)
	}
}

// liveRows reads the live businesses straight from the database: the
// oracle of what a build must publish.
func liveRows(t testing.TB, dsn string) map[int64]nearby.Business {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id, name, category, lat, lon FROM businesses WHERE deleted_at IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]nearby.Business{}
	for rows.Next() {
		var b nearby.Business
		var cat string
		if err := rows.Scan(&b.ID, &b.Name, &cat, &b.Lat, &b.Lon); err != nil {
			t.Fatal(err)
		}
		b.Category, _ = nearby.ParseCategory(cat)
		out[b.ID] = b
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// published loads every seed of dir's manifest and returns its businesses.
func published(t testing.TB, dir string) (seeds.Manifest, map[int64]nearby.Business) {
	t.Helper()
	m, ss, err := seeds.LoadDir(dir)
	if err != nil {
		t.Fatalf("seeds in %s do not load: %v", dir, err)
	}
	out := map[int64]nearby.Business{}
	for _, s := range ss {
		for i := range s.Tree.Len() {
			e := s.Tree.Entry(i)
			if _, dup := out[e.ID]; dup {
				t.Fatalf("business %d in two regions", e.ID)
			}
			out[e.ID] = nearby.Business{ID: e.ID, Name: e.Name, Category: nearby.Category(e.Category), Lat: e.Lat, Lon: e.Lon}
		}
	}
	return m, out
}

func deadDSN(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "postgres://postgres@" + ln.Addr().String() + "/test?sslmode=disable"
}

func TestUsageAndConfig(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, env(nil), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"indexer build --db URL --out DIR", "indexer build --from-csv FILE --out DIR", "indexer run --db URL --out DIR",
		"--every", "--admin-addr", "--lock-db", "NEARBY_DB", "NEARBY_SEEDS", "NEARBY_REGIONS", "NEARBY_EVERY", "NEARBY_ADMIN_ADDR"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		err  string
		want func(config) bool
	}{
		{"no out", []string{"build", "--db", "x"}, nil, "--out", nil},
		{"no source", []string{"build", "--out", "d"}, nil, "--db URL", nil},
		{"both sources", []string{"build", "--db", "x", "--from-csv", "f", "--out", "d"}, nil, "not both", nil},
		{"run csv", []string{"run", "--db", "x", "--from-csv", "f", "--out", "d"}, nil, "--from-csv is for build", nil},
		{"run no db", []string{"run", "--out", "d"}, nil, "no database", nil},
		{"bad every", []string{"run", "--db", "x", "--out", "d", "--every", "soon"}, nil, "bad --every", nil},
		{"zero every", []string{"run", "--db", "x", "--out", "d", "--every", "0s"}, nil, "bad --every", nil},
		{"bad every env", []string{"run", "--db", "x", "--out", "d"}, map[string]string{"NEARBY_EVERY": "soon"}, "bad --every", nil},
		// A one-off build does not schedule: NEARBY_EVERY is not its business.
		{"build ignores every env", []string{"build", "--from-csv", "f", "--out", "d"}, map[string]string{"NEARBY_EVERY": "soon"}, "",
			func(c config) bool { return c.FromCSV == "f" }},
		{"build bad every flag", []string{"build", "--from-csv", "f", "--out", "d", "--every", "soon"}, nil, "bad --every", nil},
		{"bad timeout", []string{"run", "--db", "x", "--out", "d", "--timeout", "-1s"}, nil, "bad --timeout", nil},
		{"bad level", []string{"build", "--db", "x", "--out", "d", "--log-level", "loud"}, nil, "bad --log-level", nil},
		{"extra args", []string{"build", "--db", "x", "--out", "d", "more"}, nil, "unexpected", nil},
		{"missing regions file", []string{"build", "--db", "x", "--out", "d", "--regions", "/nonexistent.json"}, nil, "no such file", nil},
		{"env", []string{"run"}, map[string]string{"NEARBY_DB": "primary", "NEARBY_SEEDS": "/s", "NEARBY_EVERY": "5m", "NEARBY_ADMIN_ADDR": ":9"}, "",
			func(c config) bool {
				return c.DB == "primary" && c.Out == "/s" && c.Every == 5*time.Minute && c.AdminAddr == ":9" && c.LockDB == "primary" &&
					c.LockName == "nearby-indexer:/s" && c.Timeout == time.Hour && len(c.Regions) == len(indexer.DefaultRegions)+1
			}},
		{"replica env wins", []string{"build"}, map[string]string{"NEARBY_DB": "primary", "NEARBY_DB_REPLICA": "replica", "NEARBY_SEEDS": "/s"}, "",
			func(c config) bool { return c.DB == "replica" }},
		{"alias", []string{"build", "--db-replica", "r", "--out", "d", "--lock-db", "p"}, nil, "",
			func(c config) bool { return c.DB == "r" && c.LockDB == "p" }},
		{"csv beats env db", []string{"build", "--from-csv", "f"}, map[string]string{"NEARBY_DB": "primary", "NEARBY_SEEDS": "/s"}, "",
			func(c config) bool { return c.DB == "" && c.FromCSV == "f" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args[0], tc.args[1:], env(tc.env), io.Discard)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.want(c) {
				t.Fatalf("config %+v, %v", c, err)
			}
		})
	}
}

// writeCSV writes bs to a new CSV file and returns its path.
func writeCSV(t *testing.T, bs []nearby.Business) string {
	t.Helper()
	var buf bytes.Buffer
	if err := dataset.WriteCSV(&buf, bs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBuildFromCSV keeps indexer build --from-csv working, no database.
func TestBuildFromCSV(t *testing.T) {
	bs := dataset.Generate(5000, 1)
	path := writeCSV(t, bs)
	out := filepath.Join(t.TempDir(), "seeds")
	logs, err := runIndexer(t, []string{"build", "--from-csv", path}, map[string]string{"NEARBY_SEEDS": out, "NEARBY_DB": deadDSN(t)})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	if _, got := published(t, out); len(got) != len(bs) {
		t.Fatalf("published %d, want %d", len(got), len(bs))
	}
	if p := logLines(logs, "published"); len(p) != 1 || p[0]["businesses"] != float64(len(bs)) {
		t.Errorf("published lines %v", p)
	}
}

// TestBuildFromHostileCSV: a file with a BOM, CRLF line ends and quoted
// fields builds; a malformed one fails with an error naming the problem, and
// the seeds published before stay in force.
func TestBuildFromHostileCSV(t *testing.T) {
	out := filepath.Join(t.TempDir(), "seeds")
	vars := map[string]string{"NEARBY_SEEDS": out}
	write := func(data string) string {
		path := filepath.Join(t.TempDir(), "b.csv")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("\uFEFFid,name,category,lat,lon\r\n1,\"Café, \"\"Le\"\" Bar\",cafe,48.85,2.35\r\n2,b,bank,-33.9,151.2\r\n")
	if logs, err := runIndexer(t, []string{"build", "--from-csv", good}, vars); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	before, got := published(t, out)
	if len(got) != 2 || got[1].Name != `Café, "Le" Bar` {
		t.Fatalf("published %v", got)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"duplicate id", "id,name,category,lat,lon\n1,a,cafe,10,10\n2,b,cafe,11,11\n1,c,cafe,10,-100\n", "id 1 appears more than once"},
		{"missing column", "id,name,category,lat\n1,a,cafe,10\n", `header lacks column "lon"`},
		{"NaN", "id,name,category,lat,lon\n1,a,cafe,NaN,10\n", "line 2: lat NaN out of range"},
		{"short row", "id,name,category,lat,lon\n1,a,cafe,10\n", "line 2: missing field \"lon\""},
		{"open quote", "id,name,category,lat,lon\n1,\"a,cafe,10,10\n", "line 2"},
		{"empty", "", "missing header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs, err := runIndexer(t, []string{"build", "--from-csv", write(tc.data)}, vars)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing published") {
				t.Fatalf("error %v, want one saying %q and that nothing was published\n%s", err, tc.want, logs)
			}
			if m, _ := published(t, out); m.Generation != before.Generation {
				t.Errorf("generation %d after a failed build, want %d", m.Generation, before.Generation)
			}
		})
	}
}

// TestBuildFromDatabase publishes exactly the live rows: soft-deleted ones
// are left out, every other row is in one region's seed as stored.
func TestBuildFromDatabase(t *testing.T) {
	dsn := newDB(t, 20000, 2)
	pgtest.Exec(t, dsn, `UPDATE businesses SET deleted_at = now() WHERE id % 17 = 0`)
	out := t.TempDir()
	logs, err := runIndexer(t, []string{"build", "--db", dsn, "--out", out, "--progress-every", "1ms"}, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	want := liveRows(t, dsn)
	m, got := published(t, out)
	if len(want) != 20000-20000/17 || !maps.Equal(got, want) {
		t.Fatalf("published %d businesses, database has %d live", len(got), len(want))
	}
	for _, r := range m.Regions {
		if r.Watermark.IsZero() || time.Since(r.Watermark) > time.Minute {
			t.Errorf("region %s watermark %v", r.Name, r.Watermark)
		}
	}
	p := logLines(logs, "published")
	if len(p) != 1 || p[0]["rows"] != float64(len(want)) || p[0]["rows_per_s"].(float64) <= 0 {
		t.Errorf("published lines %v", p)
	}
	// The estimate from VACUUM ANALYZE (20000, deleted rows included)
	// gives the progress lines their ETA.
	if s := logLines(logs, "build started"); len(s) != 1 || s[0]["expected"] != 20000.0 {
		t.Errorf("build started %v", s)
	}
	// Progress lines carry the rate, and an ETA once rows arrive (a line
	// before the first row has no rate to project from).
	for _, l := range logLines(logs, "reading businesses") {
		if l["rows_per_s"] == nil || l["rows"] != 0.0 && l["eta_s"] == nil {
			t.Errorf("progress line %v", l)
		}
	}
	// A second build from the same data is the next generation with the
	// same contents.
	if logs, err := runIndexer(t, []string{"build", "--db", dsn, "--out", out}, nil); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	if m2, got2 := published(t, out); m2.Generation != 2 || !maps.Equal(got2, want) {
		t.Errorf("second build: generation %d, %d businesses", m2.Generation, len(got2))
	}
}

// TestBuildSkipsImpossibleRows stores rows the schema forbids, in a
// throwaway database whose constraints are dropped: the build skips them,
// logs their ids, and publishes the rest.
func TestBuildSkipsImpossibleRows(t *testing.T) {
	dsn := newDB(t, 3000, 3)
	for _, c := range []string{"businesses_lat_check", "businesses_lon_check", "businesses_category_check", "businesses_geohash_check"} {
		pgtest.Exec(t, dsn, "ALTER TABLE businesses DROP CONSTRAINT "+c)
	}
	pgtest.Exec(t, dsn, `INSERT INTO businesses (owner_id, name, category, lat, lon, geohash) VALUES
		(1, 'north of the pole', 'cafe', 95, 0, 'x'), (1, 'nan', 'cafe', 'NaN', 0, 'x'),
		(1, 'off the map', 'cafe', 0, 'Infinity', 'x'), (1, 'spaceport', 'spaceport', 10, 10, 'x')`)
	out := t.TempDir()
	logs, err := runIndexer(t, []string{"build", "--db", dsn, "--out", out}, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	_, got := published(t, out)
	if len(got) != 3000 {
		t.Fatalf("published %d, want the 3000 good rows", len(got))
	}
	var skipped []float64
	for _, l := range logLines(logs, "skipping impossible business") {
		skipped = append(skipped, l["id"].(float64))
	}
	if !slices.Equal(skipped, []float64{3001, 3002, 3003, 3004}) {
		t.Errorf("logged skipped ids %v, want 3001..3004", skipped)
	}
	if p := logLines(logs, "published"); len(p) != 1 || p[0]["skipped"] != 4.0 || p[0]["rows"] != 3004.0 {
		t.Errorf("published %v", p)
	}
}

// prepare publishes a first generation in a new seed directory from CSV and
// returns it, the manifest and the directory's files.
func prepare(t *testing.T) (string, seeds.Manifest, map[int64]nearby.Business) {
	t.Helper()
	path := writeCSV(t, dataset.Generate(2000, 9))
	out := t.TempDir()
	if logs, err := runIndexer(t, []string{"build", "--from-csv", path, "--out", out}, nil); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	m, got := published(t, out)
	return out, m, got
}

// files lists dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// assertStillServing checks that dir still has the manifest m and its
// seeds, which still load with the same businesses, and only those files.
func assertStillServing(t *testing.T, dir string, m seeds.Manifest, want map[int64]nearby.Business, before []string) {
	t.Helper()
	m2, got := published(t, dir)
	if m2.Generation != m.Generation || !maps.Equal(got, want) {
		t.Fatalf("manifest generation %d with %d businesses, want the previous %d with %d", m2.Generation, len(got), m.Generation, len(want))
	}
	if after := files(t, dir); !slices.Equal(after, before) {
		t.Errorf("files changed:\n before %v\n after  %v", before, after)
	}
}

// TestMalformedLockDSNFailsAtStart: a --lock-db that does not parse is a
// bad value, refused at start-up naming the flag, not taken by run for a
// lock server that is down and retried forever (with /healthz saying ok).
func TestMalformedLockDSNFailsAtStart(t *testing.T) {
	for _, command := range []string{"build", "run"} {
		t.Run(command, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			args := []string{command, "--db", deadDSN(t), "--lock-db", "not a dsn", "--out", t.TempDir()}
			if command == "run" {
				args = append(args, "--admin-addr", "127.0.0.1:0", "--every", "100ms")
			}
			var out syncbuf.Buffer
			err := run(ctx, args, env(nil), &out)
			if err == nil || !strings.Contains(err.Error(), "--lock-db") || ctx.Err() != nil {
				t.Fatalf("error %v (context: %v), want one naming --lock-db at once\n%s", err, ctx.Err(), out.String())
			}
		})
	}
}

// TestBuildReplicaUnreachable points the build at a port nothing listens
// on: it fails fast as unavailable and publishes nothing.
func TestBuildReplicaUnreachable(t *testing.T) {
	out, m, want := prepare(t)
	before := files(t, out)
	start := time.Now()
	logs, err := runIndexer(t, []string{"build", "--db", deadDSN(t), "--out", out}, nil)
	if err == nil || nearby.ErrorCode(err) != nearby.EUNAVAILABLE {
		t.Fatalf("err %v (code %q), want EUNAVAILABLE\n%s", err, nearby.ErrorCode(err), logs)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %v to give up", took)
	}
	assertStillServing(t, out, m, want, before)
}

// TestBuildConnectionDroppedMidStream cuts the streaming session from the
// server side after the first rows have arrived: the build fails as
// unavailable and the previous seeds keep serving. To hold the stream open
// at a known row, the throwaway database's businesses become a view over
// the table that sleeps when the scan reaches row 5000; the session is
// terminated (pg_terminate_backend) while it sleeps.
func TestBuildConnectionDroppedMidStream(t *testing.T) {
	dsn := newDB(t, 10000, 4)
	pgtest.Exec(t, dsn, `ALTER TABLE businesses RENAME TO businesses_data`)
	// The 5000th row in storage order (the order of the COPY's scan, which
	// is not id order once rows differ in width) sleeps.
	pgtest.Exec(t, dsn, `DO $$ BEGIN EXECUTE format('CREATE VIEW businesses AS SELECT * FROM businesses_data
		WHERE CASE WHEN ctid = %L::tid THEN pg_sleep(60) IS NOT NULL ELSE true END',
		(SELECT ctid FROM businesses_data ORDER BY ctid OFFSET 4999 LIMIT 1)); END $$`)
	out, m, want := prepare(t)
	before := files(t, out)

	type result struct {
		logs string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		logs, err := runIndexer(t, []string{"build", "--db", dsn, "--out", out, "--progress-every", "5ms"}, nil)
		done <- result{logs, err}
	}()
	// Wait for the stream to reach the sleeping row, then cut it.
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var killed int
		err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'COPY (SELECT id, name%' AND wait_event = 'PgSleep'`).Scan(&killed)
		if err != nil {
			t.Fatal(err)
		}
		if killed == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the build's COPY never reached the sleeping row")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := <-done
	t.Logf("build cut mid-stream: %v", r.err)
	if nearby.ErrorCode(r.err) != nearby.EUNAVAILABLE {
		t.Fatalf("err %v, want EUNAVAILABLE\n%s", r.err, r.logs)
	}
	// Rows had arrived: the cut was mid-stream.
	rows, _ := strconv.Atoi(regexp.MustCompile(`after (\d+) rows`).FindStringSubmatch(r.err.Error() + " after 0 rows")[1])
	if rows < 1000 || rows >= 5000 {
		t.Errorf("cut after %d rows, want within the stream (1000 to 4999): %v", rows, r.err)
	}
	assertStillServing(t, out, m, want, before)
}

// TestStaleBuildDoesNotPublishOverANewerOne: build A loses its lock session
// mid-stream (the lock server drops it); a one-off build B then takes the
// lock, publishes a newer snapshot and lets the lock go; A's stream goes
// on, and before publishing A takes the free lock again. A must not
// replace B's manifest with its older snapshot. A's stream is held at a
// known row by a view that waits there for an advisory lock the test
// holds.
func TestStaleBuildDoesNotPublishOverANewerOne(t *testing.T) {
	dsnA := newDB(t, 8000, 5)
	pgtest.Exec(t, dsnA, `ALTER TABLE businesses RENAME TO businesses_data`)
	pgtest.Exec(t, dsnA, `DO $$ BEGIN EXECUTE format('CREATE VIEW businesses AS SELECT * FROM businesses_data
		WHERE CASE WHEN ctid = %L::tid THEN (pg_advisory_xact_lock_shared(4242) IS NULL) IS NOT NULL ELSE true END',
		(SELECT ctid FROM businesses_data ORDER BY ctid OFFSET 4999 LIMIT 1)); END $$`)
	dsnB := newDB(t, 3000, 6)
	out, _, _ := prepare(t)
	lockArgs := []string{"--out", out, "--lock-db", dsnA, "--lock-name", "stale-build-test"}

	ctx := context.Background()
	gate, err := pgx.Connect(ctx, dsnA)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Close(ctx)
	if _, err := gate.Exec(ctx, `SELECT pg_advisory_lock(4242)`); err != nil {
		t.Fatal(err)
	}
	type result struct {
		logs string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		logs, err := runIndexer(t, append([]string{"build", "--db", dsnA}, lockArgs...), nil)
		done <- result{logs, err}
	}()
	waitFor(t, "build A's stream to wait at the gate", func() bool {
		var n int
		gate.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND query LIKE 'COPY (SELECT id, name%' AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&n)
		return n == 1
	})
	// The lock server drops A's lock session.
	key := uint64(postgres.LockKey("stale-build-test"))
	var killed int
	if err := gate.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2 AND objsubid = 1`,
		uint32(key>>32), uint32(key)).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d lock sessions: %v", killed, err)
	}
	// B takes the free lock and publishes a newer snapshot.
	if logs, err := runIndexer(t, append([]string{"build", "--db", dsnB}, lockArgs...), nil); err != nil {
		t.Fatalf("build B: %v\n%s", err, logs)
	}
	mB, wantB := published(t, out)
	// A goes on.
	if _, err := gate.Exec(ctx, `SELECT pg_advisory_unlock(4242)`); err != nil {
		t.Fatal(err)
	}
	r := <-done
	t.Logf("build A: %v", r.err)
	if r.err == nil {
		t.Error("the stale build published")
	}
	m, got := published(t, out)
	if m.Generation != mB.Generation || !maps.Equal(got, wantB) {
		t.Fatalf("manifest generation %d with %d businesses, want build B's %d with %d\n%s",
			m.Generation, len(got), mB.Generation, len(wantB), r.logs)
	}
}

// runner is an `indexer run` started through run() in the background.
type runner struct {
	url  string
	logs *syncbuf.Buffer
	stop func() error
}

// startRun starts `indexer run` with args and waits until its admin server
// listens.
func startRun(t *testing.T, args []string, vars map[string]string) *runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &syncbuf.Buffer{}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"run", "--admin-addr", "127.0.0.1:0"}, args...), env(vars), pw)
		pw.Close()
		done <- err
	}()
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, URL string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				urlc <- line.URL
			}
		}
	}()
	var once sync.Once
	var stopErr error
	r := &runner{logs: logs, stop: func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("indexer run exited with %v", err)
		}
		if t.Failed() {
			t.Logf("indexer run log:\n%s", logs.String())
		}
	})
	select {
	case r.url = <-urlc:
	case err := <-done:
		t.Fatalf("indexer run exited early: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("indexer run did not start listening")
	}
	return r
}

// waitFor polls cond every 10 ms until it holds or 30 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func generation(dir string) uint64 {
	m, err := seeds.ReadManifest(dir)
	if err != nil {
		return 0
	}
	return m.Generation
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return string(body)
}

// metric returns the value of the sample named exactly name (with labels)
// in a /metrics page, or -1.
func metric(page, name string) float64 {
	for line := range strings.SplitSeq(page, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// TestRunPublishesOnSchedule runs the indexer every 200 ms: it publishes
// at start and again on schedule, picks up new rows, and reports on
// /metrics.
func TestRunPublishesOnSchedule(t *testing.T) {
	dsn := newDB(t, 3000, 5)
	out := t.TempDir()
	r := startRun(t, []string{"--db", dsn, "--out", out, "--every", "200ms"}, nil)
	waitFor(t, "a first publish", func() bool { return generation(out) >= 1 })
	pgtest.Exec(t, dsn, `INSERT INTO businesses (owner_id, name, category, lat, lon, geohash) VALUES (1, 'newcomer', 'cafe', 48.8566, 2.3522, 'u09tvw0f6szy')`)
	waitFor(t, "the newcomer to be published", func() bool {
		_, got := published(t, out)
		return len(got) == 3001 && got[3001].Name == "newcomer"
	})
	if body := get(t, r.url+"/healthz"); body != "ok\n" {
		t.Errorf("/healthz: %q", body)
	}
	// The manifest is renamed into place before the build is counted, and
	// the build's duration is observed (as it publishes) before the
	// scheduler counts the attempt: wait for both counts rather than race
	// them.
	var page string
	waitFor(t, "the second build to be counted", func() bool {
		page = get(t, r.url+"/metrics")
		return metric(page, "nearby_indexer_build_duration_seconds_count") >= 2 &&
			metric(page, `nearby_indexer_builds_total{result="ok"}`) >= 2
	})
	if v := metric(page, "nearby_indexer_rows_read_total"); v < 6000 {
		t.Errorf("rows read %v", v)
	}
	if v := metric(page, `nearby_indexer_builds_total{result="ok"}`); v < 2 {
		t.Errorf("ok builds %v", v)
	}
	if v := metric(page, "nearby_indexer_build_duration_seconds_count"); v < 2 {
		t.Errorf("build duration count %v", v)
	}
	if v := metric(page, "nearby_indexer_last_success_timestamp_seconds"); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last success %v", v)
	}
	if v := metric(page, `nearby_indexer_seed_bytes{region="europe-africa"}`); v <= 0 {
		t.Errorf("seed bytes %v", v)
	}
	if v := metric(page, `nearby_indexer_seed_businesses{region="europe-africa"}`); v <= 0 {
		t.Errorf("seed businesses %v", v)
	}
	if v := metric(page, "nearby_indexer_leader"); v != 1 {
		t.Errorf("leader %v", v)
	}
	if v := metric(page, "process_resident_memory_bytes"); v <= 0 {
		t.Errorf("no process metrics")
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if len(logLines(r.logs.String(), "shutting down")) != 1 {
		t.Error("no clean shutdown")
	}
}

// TestRunSurvivesDatabaseOutage stops the private server a scheduled
// indexer reads: builds fail, are logged and counted, the last manifest
// stays; when the server is back, builds publish again.
func TestRunSurvivesDatabaseOutage(t *testing.T) {
	srv := pgtest.StartServer(t)
	dsn := srv.DSN("test")
	if _, _, err := postgres.Migrate(context.Background(), dsn, nil); err != nil {
		t.Fatal(err)
	}
	loadGenerated(t, dsn, 2000, 6)
	out := t.TempDir()
	r := startRun(t, []string{"--db", dsn, "--out", out, "--every", "100ms"}, nil)
	waitFor(t, "a first publish", func() bool { return generation(out) >= 1 })
	srv.Stop(t)
	gen := generation(out)
	waitFor(t, "failed attempts to be counted", func() bool {
		return metric(get(t, r.url+"/metrics"), `nearby_indexer_builds_total{result="error"}`) >= 3
	})
	m, got := published(t, out)
	if m.Generation != gen || len(got) != 2000 {
		t.Fatalf("during the outage: generation %d (was %d), %d businesses", m.Generation, gen, len(got))
	}
	if len(logLines(r.logs.String(), "cannot reach the lock database; will retry"))+len(logLines(r.logs.String(), "build failed; the last published seeds stay in force")) == 0 {
		t.Error("failures not logged")
	}
	srv.Start(t)
	waitFor(t, "a publish after the outage", func() bool { return generation(out) > gen })
}

// TestOnlyOneRunnerPublishes runs two indexers on one seed directory: one
// leads and publishes every tick, the other stands by and publishes
// nothing until the leader stops; a one-off build is refused meanwhile.
func TestOnlyOneRunnerPublishes(t *testing.T) {
	dsn := newDB(t, 2000, 7)
	out := t.TempDir()
	a := startRun(t, []string{"--db", dsn, "--out", out, "--every", "50ms"}, nil)
	waitFor(t, "a to lead", func() bool { return generation(out) >= 1 })
	b := startRun(t, []string{"--db", dsn, "--out", out, "--every", "50ms"}, nil)
	waitFor(t, "b to stand by", func() bool {
		return len(logLines(b.logs.String(), "build started")) == 0 && strings.Contains(b.logs.String(), "standing by")
	})
	start := generation(out)
	waitFor(t, "a to publish 5 more times", func() bool { return generation(out) >= start+5 })

	logs, err := runIndexer(t, []string{"build", "--db", dsn, "--out", out}, nil)
	if err == nil || !strings.Contains(err.Error(), "another indexer holds the lock") {
		t.Errorf("one-off build while a leads: %v\n%s", err, logs)
	}
	if n := len(logLines(b.logs.String(), "published")); n != 0 {
		t.Fatalf("b published %d times while a led", n)
	}
	waitFor(t, "b to stand by 3 times", func() bool {
		return metric(get(t, b.url+"/metrics"), `nearby_indexer_builds_total{result="standby"}`) >= 3
	})
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	gen := generation(out)
	waitFor(t, "b to take over", func() bool { return len(logLines(b.logs.String(), "published")) >= 2 })
	// Every publish, by either, was a new generation: none overlapped.
	var gens []float64
	for _, l := range append(logLines(a.logs.String(), "published"), logLines(b.logs.String(), "published")...) {
		gens = append(gens, l["generation"].(float64))
	}
	slices.Sort(gens)
	if len(slices.Compact(slices.Clone(gens))) != len(gens) || generation(out) <= gen {
		t.Errorf("generations published %v", gens)
	}
}

// TestBuildExitsWhenTheLockServerGoesDark: a one-off build whose lock
// server stops answering (no reset: a host gone dark) fails at --timeout
// and exits, rather than wait on the unanswered unlock for as long as the
// operating system keeps the connection (about 15 minutes), deaf to
// SIGTERM.
func TestBuildExitsWhenTheLockServerGoesDark(t *testing.T) {
	dsn := newDB(t, 2000, 3)
	pgtest.Exec(t, dsn, `ALTER TABLE businesses RENAME TO businesses_data`)
	pgtest.Exec(t, dsn, `DO $$ BEGIN EXECUTE format('CREATE VIEW businesses AS SELECT * FROM businesses_data
		WHERE CASE WHEN ctid = %L::tid THEN (pg_advisory_xact_lock_shared(4243) IS NULL) IS NOT NULL ELSE true END',
		(SELECT ctid FROM businesses_data ORDER BY ctid OFFSET 999 LIMIT 1)); END $$`)
	lockDSN, cut := pgtest.Blackhole(t, dsn)
	out := t.TempDir()
	ctx := context.Background()
	gate, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Close(ctx)
	if _, err := gate.Exec(ctx, `SELECT pg_advisory_lock(4243)`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := runIndexer(t, []string{"build", "--db", dsn, "--lock-db", lockDSN, "--out", out, "--timeout", "500ms"}, nil)
		done <- err
	}()
	waitFor(t, "the build's stream to wait at the gate", func() bool {
		var n int
		gate.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND query LIKE 'COPY (SELECT id, name%' AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&n)
		return n == 1
	})
	cut()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "nothing published") {
			t.Errorf("err %v, want a failed build", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("indexer build still waits on the dark lock server 10 s after its --timeout")
	}
}
