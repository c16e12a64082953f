package indexer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/syncbuf"
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/seeds"
)

// sliceSource yields bs with the given watermark.
func sliceSource(bs []nearby.Business, watermark time.Time) Source {
	return func(_ context.Context, yield func(nearby.Business) error) (time.Time, error) {
		for _, b := range bs {
			if err := yield(b); err != nil {
				return time.Time{}, err
			}
		}
		return watermark, nil
	}
}

// testBusinesses are generated around real cities, plus points on the
// default regions' borders, the antimeridian and the poles.
func testBusinesses(n int, seed uint64) []nearby.Business {
	bs := dataset.Generate(n, seed)
	id := int64(n)
	for _, lat := range []float64{-90, -45, 0, 45.5, 90} {
		for _, lon := range []float64{-180, -170, -95, -25, 60, 179.9999999, 180} {
			id++
			bs = append(bs, nearby.Business{ID: id, Name: fmt.Sprint("border ", id), Category: nearby.Bank, Lat: lat, Lon: lon})
		}
	}
	return bs
}

func defaultRegions(t testing.TB) Regions {
	t.Helper()
	rs, err := NewRegions(DefaultRegions)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// withAttributes gives businesses prices, ratings, review counts and
// opening hours, some unknown (nil, or the zero Schedule), some shared by
// pointer and some equal in value but not in pointer, as a source may
// yield them.
func withAttributes(t testing.TB, bs []nearby.Business, seed uint64) []nearby.Business {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	var shared []*hours.Schedule
	for i := range 40 {
		var week [7][]hours.Span
		for d := range week {
			if r.IntN(7) > 0 {
				week[d] = []hours.Span{{Open: 6*60 + i, Close: 18*60 + 30*r.IntN(16)}}
			}
		}
		s, err := hours.New([]string{"Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC"}[r.IntN(4)], week)
		if err != nil {
			t.Fatal(err)
		}
		shared = append(shared, &s)
	}
	for i := range bs {
		b := &bs[i]
		b.Price = nearby.Price(r.IntN(int(nearby.MaxPrice) + 1))
		b.Rating = nearby.Rating(r.IntN(nearby.MaxRatingTenths + 2))
		b.ReviewCount = r.Uint32() >> r.IntN(32)
		switch r.IntN(5) {
		case 0:
			b.Hours = nil
		case 1:
			b.Hours = &hours.Schedule{}
		case 2:
			copy := *shared[r.IntN(len(shared))]
			b.Hours = &copy
		default:
			b.Hours = shared[r.IntN(len(shared))]
		}
	}
	return bs
}

// loadAll loads every seed of dir's manifest and returns the entries by id,
// with their opening hours decoded from the seed's blobs, and the region
// each is in.
func loadAll(t testing.TB, dir string) (seeds.Manifest, map[int64]nearby.Business, map[int64]string) {
	t.Helper()
	m, ss, err := seeds.LoadDir(dir)
	if err != nil {
		t.Fatalf("previous seeds do not load: %v", err)
	}
	got := map[int64]nearby.Business{}
	region := map[int64]string{}
	for _, s := range ss {
		schedules := make([]*hours.Schedule, len(s.Blobs))
		keys := map[string]bool{}
		for i, blob := range s.Blobs {
			h, n, err := hours.DecodeBinary(blob)
			if err != nil || n != len(blob) || !h.Known() || keys[h.Key()] {
				t.Fatalf("region %s blob %d: %v, %d of %d bytes, known %v, repeated %v", s.Region, i, err, n, len(blob), h.Known(), keys[h.Key()])
			}
			keys[h.Key()] = true
			schedules[i] = &h
		}
		for i := range s.Tree.Len() {
			e := s.Tree.Entry(i)
			if _, dup := got[e.ID]; dup {
				t.Fatalf("business %d in two seeds", e.ID)
			}
			b := nearby.Business{ID: e.ID, Name: e.Name, Category: nearby.Category(e.Category), Lat: e.Lat, Lon: e.Lon,
				Price: nearby.Price(e.Attrs.Price), Rating: nearby.Rating(e.Attrs.Rating), ReviewCount: e.Attrs.Reviews}
			if e.Attrs.Tag > 0 {
				b.Hours = schedules[e.Attrs.Tag-1]
			}
			got[e.ID] = b
			region[e.ID] = s.Region
		}
	}
	return m, got, region
}

// sameBusiness reports whether got came back as want went in: equal, with
// unknown hours (nil or the zero Schedule) coming back as nil.
func sameBusiness(got, want nearby.Business) bool {
	if want.Hours != nil && !want.Hours.Known() {
		want.Hours = nil
	}
	return got.Equal(want)
}

// TestBuildPublishesEveryBusinessOnce checks that each business lands, as
// it was (attributes and opening hours included), in the one seed of the
// region Regions.Of gives it.
func TestBuildPublishesEveryBusinessOnce(t *testing.T) {
	bs := withAttributes(t, testBusinesses(20000, 1), 1)
	rs := defaultRegions(t)
	dir := filepath.Join(t.TempDir(), "seeds") // created by Build
	wm := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	res, err := Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(bs, wm))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != int64(len(bs)) || res.Skipped != 0 || res.Manifest.Generation != 1 || !res.Watermark.Equal(wm) {
		t.Fatalf("result %+v", res)
	}
	m, got, region := loadAll(t, dir)
	if len(m.Regions) != len(rs) || len(got) != len(bs) {
		t.Fatalf("%d regions, %d businesses; want %d, %d", len(m.Regions), len(got), len(rs), len(bs))
	}
	for _, r := range m.Regions {
		if !r.Watermark.Equal(wm) {
			t.Errorf("region %s watermark %v", r.Name, r.Watermark)
		}
	}
	for _, b := range bs {
		if !sameBusiness(got[b.ID], b) {
			t.Fatalf("business %+v came back as %+v", b, got[b.ID])
		}
		if want := rs[rs.Of(b.Lat, b.Lon)].Name; region[b.ID] != want {
			t.Fatalf("business %+v in %s, want %s", b, region[b.ID], want)
		}
	}
}

// TestBuildSkipsImpossibleBusinesses feeds the build a stream with bad rows
// among good ones: they are skipped, counted by reason, logged with their
// ids, and the rest is published.
func TestBuildSkipsImpossibleBusinesses(t *testing.T) {
	good := dataset.Generate(1000, 2)
	bad := []nearby.Business{
		{ID: 5001, Name: "nan", Lat: math.NaN(), Lon: 0},
		{ID: 5002, Name: "inf", Lat: 0, Lon: math.Inf(1)},
		{ID: 5003, Name: "north of the pole", Lat: 90.5, Lon: 0},
		{ID: 5004, Name: "west of the antimeridian", Lat: 0, Lon: -180.1},
		{ID: 5005, Name: "unknown category", Category: 25, Lat: 1, Lon: 1},
		{ID: 5006, Name: "no category", Category: nearby.Category(math.MaxUint8), Lat: 1, Lon: 1},
		{ID: 5007, Name: strings.Repeat("x", 2000), Lat: 1, Lon: 1},
		{ID: 5008, Name: "price", Lat: 1, Lon: 1, Price: nearby.MaxPrice + 1},
		{ID: 5009, Name: "rating", Lat: 1, Lon: 1, Rating: nearby.RatingOf(nearby.MaxRatingTenths) + 1},
	}
	// Bad rows spread through the stream.
	var bs []nearby.Business
	for i, b := range good {
		bs = append(bs, b)
		if i%100 == 50 && len(bad) > 0 {
			bs, bad = append(bs, bad[0]), bad[1:]
		}
	}
	bs = append(bs, bad...)
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	dir := t.TempDir()
	res, err := Build(context.Background(), Config{Dir: dir, Regions: defaultRegions(t),
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: metrics}, sliceSource(bs, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []int64{5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008, 5009}
	if res.Skipped != int64(len(wantIDs)) || res.Rows != int64(len(bs)) || !slices.Equal(res.SkippedIDs, wantIDs) {
		t.Fatalf("skipped %d of %d: %v", res.Skipped, res.Rows, res.SkippedIDs)
	}
	if _, got, _ := loadAll(t, dir); len(got) != len(good) {
		t.Fatalf("published %d, want %d", len(got), len(good))
	}
	// Each skipped row is logged with its id and why.
	var loggedIDs []int64
	var summary map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		switch l["msg"] {
		case "skipping impossible business":
			loggedIDs = append(loggedIDs, int64(l["id"].(float64)))
			if l["reason"] == "" || l["level"] != "WARN" {
				t.Errorf("log line %s", line)
			}
		case "skipped impossible businesses":
			summary = l
		}
	}
	if !slices.Equal(loggedIDs, wantIDs) {
		t.Errorf("logged ids %v, want %v", loggedIDs, wantIDs)
	}
	if summary == nil || summary["skipped"] != 9.0 || fmt.Sprint(summary["reasons"]) != "map[category:2 coordinates:4 name:1 price:1 rating:1]" {
		t.Errorf("summary %v", summary)
	}
	for reason, want := range map[string]float64{"coordinates": 4, "category": 2, "name": 1, "price": 1, "rating": 1} {
		if got := testutil.ToFloat64(metrics.rowsSkipped.WithLabelValues(reason)); got != want {
			t.Errorf("skipped %s: %v, want %v", reason, got, want)
		}
	}
	if got := testutil.ToFloat64(metrics.rowsRead); got != float64(len(bs)) {
		t.Errorf("rows read %v, want %d", got, len(bs))
	}

	// Many bad rows: all counted, the first MaxLoggedSkips logged.
	many := slices.Clone(good)
	for i := range 3 * MaxLoggedSkips {
		many = append(many, nearby.Business{ID: int64(10000 + i), Name: "bad", Lat: 100, Lon: 0})
	}
	logs.Reset()
	res, err = Build(context.Background(), Config{Dir: dir, Regions: defaultRegions(t),
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, sliceSource(many, time.Time{}))
	if err != nil || res.Skipped != 3*MaxLoggedSkips || len(res.SkippedIDs) != MaxLoggedSkips {
		t.Fatalf("many bad: %v, skipped %d, ids %d", err, res.Skipped, len(res.SkippedIDs))
	}
	if n := strings.Count(logs.String(), `"msg":"skipping impossible business"`); n != MaxLoggedSkips {
		t.Errorf("%d skip lines, want %d", n, MaxLoggedSkips)
	}
}

// TestBuildSkipsNonPositiveIDs: ids are positive (the API refuses others,
// in details, paging cursors and owner routes, and searchd's live path
// leaves such rows out), so a row forced into the database with id 0 or
// below is skipped like any impossible row, not published.
func TestBuildSkipsNonPositiveIDs(t *testing.T) {
	good := dataset.Generate(200, 4)
	bs := append(slices.Clone(good),
		nearby.Business{ID: 0, Name: "zero", Category: nearby.Cafe, Lat: 1, Lon: 1},
		nearby.Business{ID: -7, Name: "negative", Category: nearby.Cafe, Lat: 2, Lon: 2})
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	dir := t.TempDir()
	res, err := Build(context.Background(), Config{Dir: dir, Regions: defaultRegions(t), Metrics: metrics}, sliceSource(bs, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 2 || !slices.Equal(res.SkippedIDs, []int64{0, -7}) {
		t.Errorf("skipped %d: %v, want ids 0 and -7", res.Skipped, res.SkippedIDs)
	}
	if _, got, _ := loadAll(t, dir); len(got) != len(good) {
		t.Errorf("published %d businesses, want the %d with positive ids", len(got), len(good))
	}
	if got := testutil.ToFloat64(metrics.rowsSkipped.WithLabelValues("id")); got != 2 {
		t.Errorf("skipped for their id: %v, want 2", got)
	}
}

// dirState lists a directory's files with their sizes.
func dirState(t testing.TB, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fi.Size()
	}
	return out
}

// assertUnchanged checks that a failed build left dir as it was: same
// manifest, same files (none of the failed build's seeds or temporary
// files), and the previous seeds still load.
func assertUnchanged(t testing.TB, dir string, before map[string]int64, prev seeds.Manifest) {
	t.Helper()
	if after := dirState(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("directory changed:\n before %v\n after  %v", before, after)
	}
	m, got, _ := loadAll(t, dir)
	if m.Generation != prev.Generation || len(m.Regions) != len(prev.Regions) {
		t.Fatalf("manifest generation %d, want %d", m.Generation, prev.Generation)
	}
	n := 0
	for i, r := range m.Regions {
		if r.File != prev.Regions[i].File {
			t.Errorf("region %s now names %s, want %s", r.Name, r.File, prev.Regions[i].File)
		}
		n += r.Count
	}
	if len(got) != n {
		t.Errorf("loaded %d businesses, manifest says %d", len(got), n)
	}
}

// TestFailedBuildKeepsPreviousSeeds fails builds in every way the indexer
// can observe without the operating system's help: the previous manifest
// and seeds stay, and nothing of the failed build is left behind.
func TestFailedBuildKeepsPreviousSeeds(t *testing.T) {
	bs := testBusinesses(5000, 3)
	boom := errors.New("connection reset mid-stream")
	for _, tc := range []struct {
		name    string
		src     Source
		before  func(context.Context) error
		ctx     func() context.Context
		wantErr error
	}{
		{name: "source fails mid-stream", wantErr: boom,
			src: func(_ context.Context, yield func(nearby.Business) error) (time.Time, error) {
				for _, b := range bs[:2500] {
					if err := yield(b); err != nil {
						return time.Time{}, err
					}
				}
				return time.Time{}, boom
			}},
		{name: "context cancelled, source ignores it", wantErr: context.Canceled, src: sliceSource(bs, time.Time{}),
			ctx: func() context.Context { ctx, cancel := context.WithCancel(context.Background()); cancel(); return ctx }},
		{name: "lock lost before publishing", wantErr: ErrNotLeader, src: sliceSource(bs, time.Time{}),
			before: func(context.Context) error { return ErrNotLeader }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			prev, err := Build(context.Background(), Config{Dir: dir, Regions: defaultRegions(t)}, sliceSource(bs[:1000], time.Time{}))
			if err != nil {
				t.Fatal(err)
			}
			before := dirState(t, dir)
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			_, err = Build(ctx, Config{Dir: dir, Regions: defaultRegions(t), BeforePublish: tc.before}, tc.src)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			assertUnchanged(t, dir, before, prev.Manifest)
		})
	}
}

// TestGenerationsAndGC publishes repeatedly: generations and versions grow,
// and superseded seeds are kept for rollback up to KeepSeeds per region.
func TestGenerationsAndGC(t *testing.T) {
	dir := t.TempDir()
	rs := defaultRegions(t)
	bs := testBusinesses(2000, 4)
	var last uint64
	for i := range 5 {
		res, err := Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(bs[:1000+200*i], time.Time{}))
		if err != nil {
			t.Fatal(err)
		}
		if res.Manifest.Generation != uint64(i+1) || res.Manifest.Regions[0].IndexVersion <= last {
			t.Fatalf("build %d: generation %d, version %d after %d", i, res.Manifest.Generation, res.Manifest.Regions[0].IndexVersion, last)
		}
		last = res.Manifest.Regions[0].IndexVersion
		if _, got, _ := loadAll(t, dir); len(got) != 1000+200*i {
			t.Fatalf("build %d: %d businesses", i, len(got))
		}
	}
	seedFiles := 0
	for name := range dirState(t, dir) {
		if strings.HasSuffix(name, ".seed") {
			seedFiles++
		}
	}
	if want := len(rs) * (1 + KeepSeeds); seedFiles != want {
		t.Errorf("%d seed files, want %d (current + %d kept per region)", seedFiles, want, KeepSeeds)
	}
}

// TestProgress reads a slow source with progress reports on: log lines
// with rows/s, percent and ETA, and a bar on a terminal.
func TestProgress(t *testing.T) {
	bs := dataset.Generate(3000, 5)
	slow := func(_ context.Context, yield func(nearby.Business) error) (time.Time, error) {
		for i, b := range bs {
			if i%100 == 0 {
				time.Sleep(20 * time.Millisecond) // 0.6 s in all: a few bar redraws
			}
			if err := yield(b); err != nil {
				return time.Time{}, err
			}
		}
		return time.Time{}, nil
	}
	var screen syncbuf.Buffer
	term := NewTerminal(&screen)
	logger := slog.New(slog.NewJSONHandler(term, nil))
	_, err := Build(context.Background(), Config{Dir: t.TempDir(), Regions: defaultRegions(t), Logger: logger,
		Expected: int64(len(bs)), ProgressEvery: 50 * time.Millisecond, Terminal: term}, slow)
	if err != nil {
		t.Fatal(err)
	}
	out := screen.String()
	var progressLines int
	for line := range strings.SplitSeq(out, "\n") {
		// Log lines follow the bar's erase sequence on the same screen line.
		if i := strings.LastIndex(line, eraseLine); i >= 0 {
			line = line[i+len(eraseLine):]
		}
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) != nil || l["msg"] != "reading businesses" {
			continue
		}
		progressLines++
		if l["rows_per_s"] == nil || l["eta_s"] == nil || l["percent"] == nil || l["expected"] != float64(len(bs)) {
			t.Errorf("progress line %v", l)
		}
	}
	if progressLines == 0 {
		t.Errorf("no progress lines in\n%q", out)
	}
	if !strings.Contains(out, "rows/s") || !strings.Contains(out, "ETA") || !strings.Contains(out, "] 100% 3000 rows") {
		t.Errorf("no bar, or it does not end at 100%%:\n%q", out)
	}
	if strings.Contains(out, eraseLine+"{") == false {
		t.Errorf("log lines are not written over the bar:\n%q", out)
	}
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		expected, rows int64
		want           string
	}{
		{1000, 250, "[==========                              ]  25% 250 rows"},
		{0, 2_500_000, "2.50M rows"},
		{100, 200, "200 rows"}, // the estimate was low: no percent or ETA
	} {
		p := &progress{expected: tc.expected, rows: new(atomic.Int64), start: time.Now().Add(-time.Second)}
		p.rows.Store(tc.rows)
		got := p.bar(40)
		if !strings.HasPrefix(got, tc.want) || (tc.expected < tc.rows || tc.expected == 0) == strings.Contains(got, "ETA") {
			t.Errorf("bar(%d of %d) = %q, want prefix %q", tc.rows, tc.expected, got, tc.want)
		}
	}
}

// csvFile writes text to a new file and returns its path.
func csvFile(t testing.TB, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "businesses.csv")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// buildCSV builds dir from CSV text through a file and CSVSource, as
// indexer build --from-csv does.
func buildCSV(t testing.TB, dir, text string) (seeds.Manifest, error) {
	t.Helper()
	res, err := Build(context.Background(), Config{Dir: dir, Regions: defaultRegions(t), ProgressEvery: -1}, CSVSource(csvFile(t, text)))
	return res.Manifest, err
}

// TestBuildFromCSV keeps the CSV path (indexer build --from-csv,
// searchd's tests) working as before.
func TestBuildFromCSV(t *testing.T) {
	bs := testBusinesses(3000, 6)
	var buf bytes.Buffer
	if err := dataset.WriteCSV(&buf, bs); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "new")
	m, err := buildCSV(t, dir, buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, got, _ := loadAll(t, dir); len(got) != len(bs) || m.Generation != 1 {
		t.Fatalf("%d businesses, generation %d", len(got), m.Generation)
	}
	// A malformed file fails and publishes nothing.
	before := dirState(t, dir)
	if _, err := buildCSV(t, dir, "id,name,category,lat,lon\n1,x,cafe,91,0\n"); nearby.ErrorCode(err) != nearby.EINVALID {
		t.Fatalf("bad CSV: %v", err)
	}
	assertUnchanged(t, dir, before, m)
}

// TestCSVDuplicateIDs refuses a file that names an id twice, even at two
// places in two regions: searchd assumes one entry per id (a database's
// primary key guarantees it; a file does not), and would otherwise answer
// the business twice and hide only one copy when it changes.
func TestCSVDuplicateIDs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "seeds")
	m, err := buildCSV(t, dir, "id,name,category,lat,lon\n3,x,bank,0,0\n")
	if err != nil {
		t.Fatal(err)
	}
	before := dirState(t, dir)
	_, err = buildCSV(t, dir, "id,name,category,lat,lon\n1,a,cafe,10,10\n2,b,cafe,11,11\n1,c,cafe,10,-100\n")
	if nearby.ErrorCode(err) != nearby.EINVALID || !strings.Contains(err.Error(), "id 1 ") {
		t.Fatalf("Build(CSVSource): %v, want EINVALID naming id 1", err)
	}
	assertUnchanged(t, dir, before, m)
}

// TestBuildRefusesToPublishOverANewerManifest: a build whose lock was lost
// while it ran (its session dropped) and was taken back just before
// publishing, after another indexer (or a one-off build) took it, published
// a newer snapshot and let it go. The stale build must not replace that
// manifest: it would go back in time under the same generation number.
func TestBuildRefusesToPublishOverANewerManifest(t *testing.T) {
	dir := t.TempDir()
	rs := defaultRegions(t)
	bs := testBusinesses(3000, 7)
	if _, err := Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(bs[:1000], time.Time{})); err != nil {
		t.Fatal(err)
	}
	var other Result
	_, err := Build(context.Background(), Config{Dir: dir, Regions: rs,
		BeforePublish: func(context.Context) error {
			// Meanwhile the other indexer publishes a newer snapshot; then
			// this one's leader check passes again.
			var err error
			other, err = Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(bs[:2000], time.Time{}))
			return err
		}}, sliceSource(bs[:1500], time.Time{}))
	if err == nil {
		t.Fatal("the stale build published over a newer manifest")
	}
	if !errors.Is(err, ErrSuperseded) {
		t.Errorf("err %v, want ErrSuperseded", err)
	}
	m, got, _ := loadAll(t, dir)
	if m.Generation != other.Manifest.Generation || len(got) != 2000 {
		t.Errorf("manifest generation %d with %d businesses, want the other build's %d with 2000",
			m.Generation, len(got), other.Manifest.Generation)
	}
	for _, r := range m.Regions {
		if _, err := os.Stat(filepath.Join(dir, r.File)); err != nil {
			t.Errorf("the current manifest's seed: %v", err)
		}
	}
}

// TestStaleBuildDoesNotOverwritePublishedSeeds: two builds start from the
// same manifest, whose version is ahead of this clock (written by a host
// whose clock runs ahead, or before this one was set back), so both derive
// the same version and seed file names. The second to write must not
// replace the seeds the first published: the manifest in force would name
// files holding another snapshot.
func TestStaleBuildDoesNotOverwritePublishedSeeds(t *testing.T) {
	dir := t.TempDir()
	rs := defaultRegions(t)
	ahead := seeds.NextVersion(0, time.Now().Add(time.Hour))
	prev := seeds.Manifest{Generation: 1, Partition: rs}
	for _, r := range rs {
		entry, err := seeds.WriteSeed(dir, seeds.Header{Region: r.Name, IndexVersion: ahead}, quadtree.NewBuilder(0).Build())
		if err != nil {
			t.Fatal(err)
		}
		prev.Regions = append(prev.Regions, entry)
	}
	if err := seeds.WriteManifest(dir, prev); err != nil {
		t.Fatal(err)
	}
	bs := testBusinesses(3000, 8)
	var other Result
	_, err := Build(context.Background(), Config{Dir: dir, Regions: rs},
		func(ctx context.Context, yield func(nearby.Business) error) (time.Time, error) {
			if _, err := sliceSource(bs[:1500], time.Time{})(ctx, yield); err != nil {
				return time.Time{}, err
			}
			// While this build reads, another one publishes.
			var err error
			other, err = Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(bs[:2000], time.Time{}))
			return time.Time{}, err
		})
	if err == nil {
		t.Fatal("the stale build published over a newer manifest")
	}
	m, got, _ := loadAll(t, dir)
	if m.Generation != other.Manifest.Generation || len(got) != 2000 {
		t.Errorf("manifest generation %d with %d businesses, want the other build's %d with 2000",
			m.Generation, len(got), other.Manifest.Generation)
	}
}

// TestBuildOverAManifestWithBadCounts: the previous manifest's counts size
// the builders; a manifest with an impossible count (hand-edited, or
// damaged) must fail the build with an error, not crash the indexer.
func TestBuildOverAManifestWithBadCounts(t *testing.T) {
	dir := t.TempDir()
	rs := defaultRegions(t)
	if _, err := Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(testBusinesses(500, 9), time.Time{})); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, seeds.ManifestName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, count := range []float64{-1, 1e12} {
		m["regions"].([]any)[0].(map[string]any)["count"] = count
		data, _ = json.Marshal(m)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(testBusinesses(500, 9), time.Time{}))
		if !errors.Is(err, seeds.ErrManifest) {
			t.Errorf("count %v: %v, want ErrManifest", count, err)
		}
	}
}

// TestBuildOverAManifestWithAHugeCount: a count within seeds.MaxEntries,
// but far beyond any real region (hand-edited, or damaged), must not make
// the builders reserve memory for it: the build sizes them at most
// maxPresize and grows them as businesses come.
func TestBuildOverAManifestWithAHugeCount(t *testing.T) {
	dir := t.TempDir()
	rs := defaultRegions(t)
	res, err := Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(testBusinesses(500, 9), time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	m.Regions[0].Count = 1 << 27 // 141M with the 5% of room: ~7.7 GB of capacity
	if err := seeds.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(testBusinesses(500, 9), time.Time{})); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 2<<30 {
		t.Errorf("a build of 500 businesses allocated %d bytes", n)
	}
}

// cancelOnSeeds is a log handler that cancels a context once n seeds are
// written: the context ends (a --timeout, SIGTERM) while the build writes
// its last seeds, after every check of the context made between regions.
type cancelOnSeeds struct {
	slog.Handler
	n      *atomic.Int64
	cancel context.CancelFunc
}

func (h cancelOnSeeds) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOnSeeds) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "seed written" && h.n.Add(-1) == 0 {
		h.cancel()
	}
	return h.Handler.Handle(ctx, r)
}

// TestBuildCancelledWhileWritingPublishesNothing: a build whose context
// ends while it writes its last seeds, with no BeforePublish to notice
// (indexer build --from-csv), fails and publishes nothing, as --timeout
// promises ("a build that hits it fails like any other").
func TestBuildCancelledWhileWritingPublishesNothing(t *testing.T) {
	bs := testBusinesses(3000, 4)
	dir := t.TempDir()
	rs := defaultRegions(t)
	prev, err := Build(context.Background(), Config{Dir: dir, Regions: rs}, sliceSource(bs[:1000], time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	before := dirState(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := new(atomic.Int64)
	n.Store(int64(len(rs)))
	logger := slog.New(cancelOnSeeds{Handler: slog.DiscardHandler, n: n, cancel: cancel})
	_, err = Build(ctx, Config{Dir: dir, Regions: rs, Logger: logger}, sliceSource(bs, time.Time{}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	assertUnchanged(t, dir, before, prev.Manifest)
}

// TestCSVSourceStopsWhenTheContextEnds: reading a large CSV file stops soon
// after the context ends (SIGTERM, --timeout), not at the end of the file.
func TestCSVSourceStopsWhenTheContextEnds(t *testing.T) {
	const n = 50_000
	var buf bytes.Buffer
	if err := dataset.WriteCSV(&buf, testBusinesses(n, 8)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Build(ctx, Config{Dir: t.TempDir(), Regions: defaultRegions(t)}, CSVSource(csvFile(t, buf.String())))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if res.Rows >= n/2 {
		t.Errorf("read %d of %d rows after the context ended", res.Rows, n)
	}
}
