package postgres

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/search/searchtest"
)

var seed = flag.Uint64("seed", 0, "random seed of the property tests (0: from the clock)")

func testSeed(t *testing.T) uint64 {
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed %d)", s, s)
	return s
}

// load copies businesses into the database as owner 1, with every column
// the store would write, and returns them as stored.
func load(t *testing.T, db *DB, bs []nearby.Business) []nearby.Business {
	t.Helper()
	rows := make([][]any, len(bs))
	out := make([]nearby.Business, len(bs))
	for i, b := range bs {
		r := nearby.BusinessRecord{OwnerID: 1, Name: b.Name, Category: b.Category, Lat: nearby.RoundE7(b.Lat), Lon: nearby.RoundE7(b.Lon),
			Price: b.Price, Rating: b.Rating, ReviewCount: b.ReviewCount, Hours: b.Hours}
		rows[i] = []any{r.OwnerID, r.Name, r.Category.String(), r.Lat, r.Lon, hashOf(&r),
			priceParam(r.Price), ratingParam(r.Rating), int32(r.ReviewCount), hoursParam(r.Hours)}
		out[i] = r.Business()
	}
	ctx := context.Background()
	if _, err := db.primary.CopyFrom(ctx, pgx.Identifier{"businesses"},
		[]string{"owner_id", "name", "category", "lat", "lon", "geohash", "price", "rating", "review_count", "hours"},
		pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	// Ids are assigned in copy order.
	ids, err := pgx.CollectRows(must(db.primary.Query(ctx, `SELECT id FROM businesses ORDER BY id`)), pgx.RowTo[int64])
	if err != nil || len(ids) != len(out) {
		t.Fatalf("ids: %d, %v", len(ids), err)
	}
	for i := range out {
		out[i].ID = ids[i]
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// testData is businesses around real cities plus clusters on the
// antimeridian and near both poles, with random attributes.
func testData(r *rand.Rand, n int) []nearby.Business {
	bs := dataset.Generate(n, r.Uint64())
	for _, c := range [][2]float64{{-17, 179.999}, {-17, -179.999}, {89.995, 10}, {-89.995, -120}, {0, 0}} {
		for range 300 {
			lat := max(-90, min(90, c[0]+r.NormFloat64()*0.01))
			lon := c[1] + r.NormFloat64()*0.01
			if lon > 180 {
				lon -= 360
			} else if lon < -180 {
				lon += 360
			}
			bs = append(bs, nearby.Business{Name: "edge", Category: nearby.Category(r.IntN(20)), Lat: lat, Lon: lon})
		}
	}
	// Exact duplicates of positions, so distance ties are broken by id.
	for i := range 50 {
		b := bs[i]
		b.Name = "twin"
		bs = append(bs, b)
	}
	decorate(r, bs)
	return bs
}

func equalResults(a, b []nearby.SearchResult) bool {
	return slices.EqualFunc(a, b, func(x, y nearby.SearchResult) bool {
		return x.DistanceM == y.DistanceM && x.Business.Equal(y.Business)
	})
}

func bruteForce(bs []nearby.Business, deleted map[int64]bool, q nearby.SearchQuery) []nearby.SearchResult {
	var live []nearby.Business
	for _, b := range bs {
		if !deleted[b.ID] {
			live = append(live, b)
		}
	}
	out := searchtest.Nearby(live, q)
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

// TestNearbyMatchesBruteForce checks the geohash query against a scan of
// every business with geo.Distance: same ids, distances and order.
func TestNearbyMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 7))
	s, db := freshService(t)
	ctx := context.Background()
	bs := load(t, db, testData(r, 4000))
	deleted := map[int64]bool{}
	for range 200 {
		deleted[bs[r.IntN(len(bs))].ID] = true
	}
	var ids []int64
	for id := range deleted {
		ids = append(ids, id)
	}
	if _, err := db.primary.Exec(ctx, `UPDATE businesses SET deleted_at = now() WHERE id = ANY($1)`, ids); err != nil {
		t.Fatal(err)
	}
	radii := []float64{1, 50, 500, 2000, 10000, 50000, 300000}
	nonEmpty := 0
	for i := range 300 {
		var q nearby.SearchQuery
		if i%3 == 0 { // exactly at a business
			b := bs[r.IntN(len(bs))]
			q.Lat, q.Lon = b.Lat, b.Lon
		} else {
			b := bs[r.IntN(len(bs))]
			q.Lat = max(-90, min(90, b.Lat+r.NormFloat64()*0.05))
			q.Lon = max(-180, min(180, b.Lon+r.NormFloat64()*0.05))
		}
		q.RadiusM = radii[r.IntN(len(radii))]
		q.Limit = []int{0, 1, 20, 100}[r.IntN(4)]
		if r.IntN(3) == 0 {
			q.Categories = q.Categories.Add(nearby.Category(r.IntN(20))).Add(nearby.Category(r.IntN(20)))
		}
		got, err := s.Nearby(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		want := bruteForce(bs, deleted, q)
		if len(want) > 0 {
			nonEmpty++
		}
		if len(got) > 1 {
			checkShared(t, businesses(got))
		}
		if !equalResults(got, want) {
			t.Fatalf("query %+v:\n got %d results %v\nwant %d results %v", q, len(got), head(got), len(want), head(want))
		}
	}
	// A third of the queries sit exactly on a business, and two thirds of
	// those have no category filter: about 67 are sure to match. Far fewer
	// would mean the queries miss the data and the comparison proves little.
	if nonEmpty < 60 {
		t.Errorf("only %d of 300 queries had results: the test data misses the queries", nonEmpty)
	}
	if _, err := s.Nearby(ctx, nearby.SearchQuery{Lat: 91, Lon: 0, RadiusM: 1}); nearby.ErrorCode(err) != nearby.EINVALID {
		t.Errorf("invalid point: %v", err)
	}
}

func head(rs []nearby.SearchResult) []nearby.SearchResult { return rs[:min(len(rs), 5)] }

func businesses(rs []nearby.SearchResult) []nearby.Business {
	out := make([]nearby.Business, len(rs))
	for i, r := range rs {
		out[i] = r.Business
	}
	return out
}

func TestStreamLiveAndChanges(t *testing.T) {
	ctx := context.Background()
	s, _ := freshService(t)
	owner := newOwner()
	var recs []*nearby.BusinessRecord
	for i := range 30 {
		r, _, err := s.Create(ctx, owner, "", input(fmt.Sprint("shop ", i)))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	for _, r := range recs[:5] {
		if err := s.Delete(ctx, owner, r.ID, 0); err != nil {
			t.Fatal(err)
		}
	}
	// Attributes change, and clear, like any field.
	if _, err := s.Patch(ctx, owner, recs[6].ID, 0, nearby.BusinessInput{Price: ptr(nearby.Price(4)), Hours: schedule(barHours)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Patch(ctx, owner, recs[7].ID, 0, nearby.BusinessInput{Price: ptr(nearby.Price(0)),
		Rating: ptr(nearby.Unrated), ReviewCount: ptr(uint32(0)), Hours: &hours.Schedule{}}); err != nil {
		t.Fatal(err)
	}
	// expected is a business as the read path shows it.
	expected := func(id int64) nearby.Business {
		b := nearby.Business{ID: id, Name: "shop", Category: nearby.Cafe, Lat: 40.758, Lon: -73.9855,
			Price: 2, Rating: nearby.RatingOf(46), ReviewCount: 1287, Hours: schedule(cafeHours)}
		switch id {
		case recs[6].ID:
			b.Price, b.Hours = 4, schedule(barHours)
		case recs[7].ID:
			b.Price, b.Rating, b.ReviewCount, b.Hours = 0, nearby.Unrated, 0, nil
		}
		return b
	}
	same := func(b nearby.Business) bool {
		w := expected(b.ID)
		w.Name = b.Name
		return b.Equal(w) && strings.HasPrefix(b.Name, "shop ")
	}
	before := time.Now()
	var got []int64
	var streamed []nearby.Business
	wm, err := s.StreamLive(ctx, func(b nearby.Business) error {
		if !same(b) {
			t.Errorf("streamed %+v", b)
		}
		got = append(got, b.ID)
		streamed = append(streamed, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checkShared(t, streamed) != 24 {
		t.Errorf("%d streamed businesses have hours, want 24", checkShared(t, streamed))
	}
	slices.Sort(got)
	var want []int64
	for _, r := range recs[5:] {
		want = append(want, r.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("streamed %v, want %v", got, want)
	}
	// The watermark is the newest change in the snapshot (checked against
	// the feed below).
	if wm.Before(recs[len(recs)-1].UpdatedAt) || wm.After(before) {
		t.Errorf("watermark %v; last create %v, stream started %v", wm, recs[len(recs)-1].UpdatedAt, before)
	}
	// fn's error stops the stream and is returned as is.
	stop := fmt.Errorf("stop")
	n := 0
	if _, err := s.StreamLive(ctx, func(nearby.Business) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("stream stop: %v after %d", err, n)
	}

	// The change feed has every row once, deletions included, in
	// (updated_at, id) order, each at its current version.
	var feed []nearby.Change
	var after time.Time
	var afterID int64
	for {
		page, err := s.Changes(ctx, after, afterID, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		feed = append(feed, page...)
		var bs []nearby.Business
		for _, c := range page {
			bs = append(bs, c.Business)
		}
		checkShared(t, bs) // within a page
		last := page[len(page)-1]
		after, afterID = last.UpdatedAt, last.ID
	}
	if len(feed) != 30 {
		t.Fatalf("feed has %d records, want 30", len(feed))
	}
	deletedSeen := 0
	for i, r := range feed {
		if i > 0 {
			p := feed[i-1]
			if r.UpdatedAt.Before(p.UpdatedAt) || (r.UpdatedAt.Equal(p.UpdatedAt) && r.ID <= p.ID) {
				t.Errorf("feed out of order at %d", i)
			}
		}
		wantVersion := int64(1)
		if r.ID == recs[6].ID || r.ID == recs[7].ID {
			wantVersion = 2
		}
		if r.Deleted {
			deletedSeen++
			if r.Version != 2 {
				t.Errorf("deleted %d at version %d, want 2", r.ID, r.Version)
			}
		} else if r.Version != wantVersion || !same(r.Business) {
			t.Errorf("feed has %+v", r)
		}
	}
	if deletedSeen != 5 {
		t.Errorf("feed shows %d deletions, want 5", deletedSeen)
	}
	if last := feed[len(feed)-1]; !wm.Equal(last.UpdatedAt) {
		t.Errorf("watermark %v, newest change %v", wm, last.UpdatedAt)
	}
}

func TestRanges(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"0", "1"}, {"9", "b"}, {"b9", "bb"}, {"bz", "c0"}, {"ezzz", "f000"}, {"z", "~"}, {"zzz", "~"},
	} {
		if got := successor(tt.in); got != tt.want {
			t.Errorf("successor(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Near the poles the cells are few and the ranges fewer still.
	for _, p := range [][3]float64{{0, 0, 1}, {40.758, -73.9855, 2000}, {89.999, 10, 1}, {-90, 0, 50000}, {-17, 180, 10000}} {
		lo, hi, err := ranges(p[0], p[1], p[2])
		if err != nil || len(lo) == 0 || len(lo) > maxRanges || len(lo) != len(hi) {
			t.Errorf("ranges%v: %d, %d, %v", p, len(lo), len(hi), err)
		}
		for i := range lo {
			if lo[i] >= hi[i] || (i > 0 && hi[i-1] >= lo[i]) {
				t.Errorf("ranges%v: [%s, %s) after [%s, %s)", p, lo[i], hi[i], lo[max(i-1, 0)], hi[max(i-1, 0)])
			}
		}
	}
}

// TestFeedPassBoundedByHead replays a pass over the change feed in pages
// during which a write commits, well within FeedSlack of its stamp, behind
// the pass's cursor, while later pages reach stamps more than FeedSlack
// after it: the pass's newest stamp less FeedSlack would skip the write for
// good; the head read before the pass bounds the next start so that the
// next pass reads it.
func TestFeedPassBoundedByHead(t *testing.T) {
	ctx := context.Background()
	s, db := freshService(t)
	owner := newOwner()
	create := func(name string) *nearby.BusinessRecord {
		t.Helper()
		r, _, err := s.Create(ctx, owner, "", input(name))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := create("a")
	create("b")
	// A write stamped now that commits a little later, as every write
	// does, stamping in its statement.
	tx, err := db.primary.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var stamped time.Time
	if err := tx.QueryRow(ctx, `UPDATE businesses SET name = 'a2', version = version + 1,
		updated_at = clock_timestamp() WHERE id = $1 RETURNING updated_at`, a.ID).Scan(&stamped); err != nil {
		t.Fatal(err)
	}
	create("c")

	// The pass, in pages of 2, from just after a's creation.
	head, err := s.FeedHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, afterID := a.UpdatedAt, a.ID
	var newest time.Time
	for i := 0; ; i++ {
		page, err := s.Changes(ctx, after, afterID, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			if c.ID == a.ID {
				t.Fatal("the pass read the change it was meant to pass")
			}
			newest = c.UpdatedAt
		}
		if len(page) < 2 {
			break
		}
		after, afterID = page[1].UpdatedAt, page[1].ID
		if i == 0 {
			// The first page passed a's position; the write commits
			// behind the cursor, and the pass goes on (as through a
			// long backlog) past FeedSlack.
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(stamped); d > FeedSlack/2 {
				t.Fatalf("the write took %v to commit; the test needs it well within FeedSlack", d)
			}
			time.Sleep(FeedSlack + 100*time.Millisecond)
			create("d")
			create("e")
		}
	}
	if naive := newest.Add(-FeedSlack); !naive.After(stamped) {
		t.Fatalf("the pass's newest stamp less FeedSlack (%v) is not after the write's stamp %v: the scenario is not the one meant", naive, stamped)
	}
	start := newest
	if head.Before(start) {
		start = head
	}
	page, err := s.Changes(ctx, start.Add(-FeedSlack), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page {
		if c.ID == a.ID && c.Name == "a2" {
			return
		}
	}
	t.Errorf("the next pass from %v (head %v, newest %v) misses the write stamped %v", start.Add(-FeedSlack), head, newest, stamped)
}

// TestFeedHeadIsTheClockOnAPrimary: on a primary every change stamped
// before the statement less FeedSlack has committed, so the head is the
// database's clock, not the newest stamp, which an import leaves behind
// (rows stamped alike): followers move on rather than read it again.
func TestFeedHeadIsTheClockOnAPrimary(t *testing.T) {
	ctx := context.Background()
	s, db := freshService(t)
	r, _, err := s.Create(ctx, newOwner(), "", input("only"))
	if err != nil {
		t.Fatal(err)
	}
	var before time.Time
	if err := db.primary.QueryRow(ctx, `SELECT clock_timestamp() + interval '10 ms'`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the database's clock passes before
	head, err := s.FeedHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !head.After(before) || !head.After(r.UpdatedAt) {
		t.Errorf("FeedHead %v, want the clock (after %v), not the newest stamp %v", head, before, r.UpdatedAt)
	}
}

// TestNearbyRefusesWhatItDoesNotImplement: filters, the rating order and
// totals are not implemented by the database-side search; a query asking
// for them is refused, not answered as if it had not.
func TestNearbyRefusesWhatItDoesNotImplement(t *testing.T) {
	s, _ := sharedService(t)
	base := nearby.SearchQuery{Lat: 48.85, Lon: 2.35, RadiusM: 1000, Limit: 5}
	if _, err := s.Nearby(context.Background(), base); err != nil {
		t.Fatalf("plain query: %v", err)
	}
	for name, q := range map[string]nearby.SearchQuery{
		"min rating": func() nearby.SearchQuery { q := base; q.Filters.MinRating = 40; return q }(),
		"name":       func() nearby.SearchQuery { q := base; q.Filters.Name = "caf"; return q }(),
		"by rating":  func() nearby.SearchQuery { q := base; q.Sort = nearby.SortRating; return q }(),
		"total":      func() nearby.SearchQuery { q := base; q.Total = true; return q }(),
	} {
		_, err := s.Nearby(context.Background(), q)
		wantCode(t, err, nearby.EINVALID)
		if err == nil {
			t.Errorf("%s: answered", name)
		}
	}
}
