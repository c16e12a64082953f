package search

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/search/searchtest"
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/seeds"
)

// fakeDB is a businesses table as a change feed sees it: each write is
// stamped when made and becomes visible (commits) up to slack later, in
// commit order, as on a replica.
type fakeDB struct {
	// clock makes the feed's head the database's clock (now) where later
	// than the newest stamp, as on a primary or a busy replica;
	// otherwise it is the newest stamp, as on an idle replica.
	clock   bool
	now     time.Time
	rows    map[int64]*fakeRow
	pending []*fakeRow // written, not yet committed
	nextID  int64
}

type fakeRow struct {
	nearby.Change
	visible  nearby.Change // the committed state
	commitAt time.Time
	seen     bool // committed at least once
}

func newFakeDB() *fakeDB {
	return &fakeDB{now: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), rows: map[int64]*fakeRow{}, nextID: 1}
}

// write stamps c now and commits it after delay.
func (db *fakeDB) write(c nearby.Change, delay time.Duration) {
	r := db.rows[c.ID]
	if r == nil {
		r = &fakeRow{}
		db.rows[c.ID] = r
	}
	c.UpdatedAt = db.now
	c.Version = r.Version + 1
	r.Change, r.commitAt = c, db.now.Add(delay)
	db.pending = append(db.pending, r)
}

// advance moves the clock on and commits what is due.
func (db *fakeDB) advance(d time.Duration) {
	db.now = db.now.Add(d)
	keep := db.pending[:0]
	for _, r := range db.pending {
		if r.commitAt.After(db.now) {
			keep = append(keep, r)
			continue
		}
		r.visible, r.seen = r.Change, true
	}
	db.pending = keep
}

func (db *fakeDB) Changes(_ context.Context, after time.Time, afterID int64, limit int) ([]nearby.Change, error) {
	var out []nearby.Change
	for _, r := range db.rows {
		c := r.visible
		if r.seen && (c.UpdatedAt.After(after) || c.UpdatedAt.Equal(after) && c.ID > afterID) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b nearby.Change) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(limit, len(out))], nil
}

func (db *fakeDB) FeedHead(context.Context) (time.Time, error) {
	var head time.Time
	for _, r := range db.rows {
		if r.seen && r.visible.UpdatedAt.After(head) {
			head = r.visible.UpdatedAt
		}
	}
	if db.clock {
		head = maxTime(head, db.now) // every write commits within its slack
	}
	return head, nil
}

// live returns the committed live businesses.
func (db *fakeDB) live() []nearby.Business {
	var bs []nearby.Business
	for _, r := range db.rows {
		if r.seen && !r.visible.Deleted {
			bs = append(bs, r.visible.Business)
		}
	}
	return bs
}

// snapshot builds seeds of the committed rows: regions per areas, the
// watermark the newest committed stamp, as the indexer does.
func (db *fakeDB) snapshot(t *testing.T, areas seeds.Partition, version uint64) ([]*Region, seeds.Manifest) {
	t.Helper()
	var watermark time.Time
	for _, r := range db.rows {
		if r.seen && r.visible.UpdatedAt.After(watermark) {
			watermark = r.visible.UpdatedAt
		}
	}
	per := make([][]nearby.Business, len(areas))
	for _, b := range db.live() {
		a := areas.Of(b.Lat, b.Lon)
		per[a] = append(per[a], b)
	}
	m := seeds.Manifest{Generation: version, Partition: areas}
	var regions []*Region
	for i, a := range areas {
		r, err := BuildRegion(a.Name, version, per[i])
		if err != nil {
			t.Fatal(err)
		}
		regions = append(regions, r)
		bounds, _ := r.Tree.Bounds()
		m.Regions = append(m.Regions, seeds.Region{Name: a.Name, IndexVersion: version, Count: r.Tree.Len(), Watermark: watermark, Bounds: bounds})
	}
	return regions, m
}

var testAreas = seeds.Partition{
	{Name: "west", MinLat: -90, MaxLat: 90, MinLon: -180, MaxLon: 0},
	{Name: "east", MinLat: -90, MaxLat: 90, MinLon: 0, MaxLon: 180},
}

// centres put businesses on both sides of the regions' borders (0° and the
// antimeridian) and near a pole.
var centres = [][2]float64{{51.5, -0.01}, {51.5, 0.01}, {-17, 179.99}, {-17, -179.99}, {89.99, 40}, {40.7, -74}}

func randPlace(r *rand.Rand) (lat, lon float64) {
	c := centres[r.IntN(len(centres))]
	lat = max(-90, min(90, c[0]+r.NormFloat64()*0.02))
	lon = c[1] + r.NormFloat64()*0.02
	if lon > 180 {
		lon -= 360
	} else if lon < -180 {
		lon += 360
	}
	return quadtree.FromE7(quadtree.ToE7(lat)), quadtree.FromE7(quadtree.ToE7(lon))
}

// randWrite makes a create, move, rename, recategorisation or delete.
func (db *fakeDB) randWrite(r *rand.Rand, slack time.Duration) {
	var c nearby.Change
	ids := make([]int64, 0, len(db.rows))
	for id, row := range db.rows {
		if !row.Deleted {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 || r.IntN(4) == 0 {
		c.ID = db.nextID
		db.nextID++
		c.Name = fmt.Sprint("shop ", c.ID)
		c.Category = nearby.Category(r.IntN(4))
		c.Lat, c.Lon = randPlace(r)
	} else {
		c = db.rows[ids[r.IntN(len(ids))]].Change
		switch r.IntN(4) {
		case 0:
			c.Lat, c.Lon = randPlace(r)
		case 1:
			c.Name += "!"
		case 2:
			c.Category = nearby.Category(r.IntN(4))
		case 3:
			c.Deleted = true
		}
	}
	db.write(c, time.Duration(r.Int64N(int64(slack)+1)))
}

// checkExact compares every page of random searches, and lookups of every
// id ever written, with the committed rows.
func checkExact(t *testing.T, r *rand.Rand, e *Engine, db *fakeDB, label string) {
	t.Helper()
	ctx := context.Background()
	live := db.live()
	for range 40 {
		q := nearby.SearchQuery{Limit: 1 + r.IntN(15), RadiusM: 50 + r.Float64()*5000}
		q.Lat, q.Lon = randPlace(r)
		if r.IntN(3) == 0 {
			q.Categories = nearby.CategorySet(1 + r.IntN(15))
		}
		want := searchtest.Nearby(live, q)
		var got []nearby.SearchResult
		var after *nearby.Cursor
		for {
			page, err := e.Nearby(ctx, q, after)
			if err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			if page.Partial {
				t.Fatalf("%s: partial answer, missing %v", label, page.Missing)
			}
			got = append(got, page.Results...)
			if page.Next == nil {
				break
			}
			after = page.Next
		}
		if !slices.EqualFunc(got, want, func(a, b nearby.SearchResult) bool { return a == b }) {
			t.Fatalf("%s: search %+v:\n got %d %v\nwant %d %v", label, q, len(got), got, len(want), want)
		}
	}
	for id, row := range db.rows {
		b, err := e.Business(ctx, id)
		switch {
		case !row.seen || row.visible.Deleted:
			if nearby.ErrorCode(err) != nearby.ENOTFOUND {
				t.Fatalf("%s: deleted or uncommitted %d: %+v, %v", label, id, b, err)
			}
		case err != nil || *b != row.visible.Business:
			t.Fatalf("%s: lookup %d: %+v, %v; want %+v", label, id, b, err, row.visible.Business)
		}
	}
	// Remote regions are counted as of their seeds.
	if st, _ := e.Stats(); len(e.Current().Remote) == 0 && st.Count != len(live) {
		t.Fatalf("%s: index counts %d businesses, %d are live", label, st.Count, len(live))
	}
}

func newTestFollower(e *Engine, feed Feed, slack time.Duration, maxChanges int) *Follower {
	f := NewFollower(e, feed, slack, maxChanges, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	f.PageSize = 7 // exercise paging
	return f
}

// TestFollowerStaysExact applies random creates, moves, updates and
// deletes that commit out of stamp order, through restarts and new seeds,
// and compares searches and lookups with the committed rows after each
// catch-up.
func TestFollowerStaysExact(t *testing.T) {
	const slack = 5 * time.Second
	r := rand.New(rand.NewPCG(1, 2))
	db := newFakeDB()
	db.clock = true // the feed's head as on a primary (TestFollowerRandomInterleavings takes both)
	for range 300 {
		db.randWrite(r, slack)
		db.advance(100 * time.Millisecond)
	}
	db.advance(slack)
	regions, m := db.snapshot(t, testAreas, 1)

	e := &Engine{}
	f := newTestFollower(e, db, slack, 1<<20)
	f.Install(NewIndex(regions...), m)
	checkExact(t, r, e, db, "seed only")

	for round := range 12 {
		for range 40 {
			db.randWrite(r, slack)
			db.advance(time.Duration(r.Int64N(int64(time.Second))))
			if r.IntN(4) == 0 {
				if _, err := f.Poll(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		}
		db.advance(slack) // everything committed
		if _, err := f.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkExact(t, r, e, db, fmt.Sprintf("round %d", round))

		switch round % 3 {
		case 1: // restart: a new node from the same seeds replays the changes since
			e = &Engine{}
			f = newTestFollower(e, db, slack, 1<<20)
			f.Install(NewIndex(regions...), m)
			if _, err := f.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkExact(t, r, e, db, fmt.Sprintf("restart after round %d", round))
		case 2: // a new seed absorbs what it holds; writes in flight stay in the delta
			for range 10 {
				db.randWrite(r, slack)
				db.advance(300 * time.Millisecond)
			}
			held := len(f.changes)
			regions, m = db.snapshot(t, testAreas, uint64(round+2))
			f.Install(NewIndex(regions...), m)
			if len(f.changes) >= held {
				t.Errorf("new seed absorbed nothing: %d changes held before, %d after", held, len(f.changes))
			}
			db.advance(slack)
			if _, err := f.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkExact(t, r, e, db, fmt.Sprintf("new seed after round %d", round))
		}
	}
}

// TestFollowerAppliesOnce re-reads the same window many times: each change
// counts once.
func TestFollowerAppliesOnce(t *testing.T) {
	const slack = 5 * time.Second
	r := rand.New(rand.NewPCG(3, 4))
	db := newFakeDB()
	regions, m := db.snapshot(t, testAreas, 1)
	m.Regions[0].Watermark, m.Regions[1].Watermark = db.now, db.now
	e := &Engine{}
	f := newTestFollower(e, db, slack, 1<<20)
	f.Install(NewIndex(regions...), m)
	writes := 0
	for range 50 {
		db.randWrite(r, 0)
		writes++
		db.advance(10 * time.Millisecond)
	}
	total := 0
	for range 5 {
		n, err := f.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	// Several writes may hit one business between polls: the feed shows
	// its latest version only, so applied ≤ writes, and the later polls
	// re-read the same window and apply nothing.
	if total == 0 || total > writes {
		t.Fatalf("applied %d changes for %d writes", total, writes)
	}
	if n, _ := f.Poll(context.Background()); n != 0 {
		t.Fatalf("a re-read applied %d changes again", n)
	}
	checkExact(t, r, e, db, "after re-reads")
}

// TestFollowerPausesAtLimit checks the bound: at MaxChanges following
// stops, and a new seed lets it resume with nothing lost.
func TestFollowerPausesAtLimit(t *testing.T) {
	const slack = time.Second
	r := rand.New(rand.NewPCG(5, 6))
	db := newFakeDB()
	regions, m := db.snapshot(t, testAreas, 1)
	m.Regions[0].Watermark, m.Regions[1].Watermark = db.now, db.now
	e := &Engine{}
	f := newTestFollower(e, db, slack, 20)
	f.Install(NewIndex(regions...), m)
	for range 200 {
		db.randWrite(r, 0)
		db.advance(100 * time.Millisecond)
	}
	db.advance(slack)
	f.Poll(context.Background())
	if !f.paused || len(f.changes) != 20 {
		t.Fatalf("paused %v with %d changes held, want paused at 20", f.paused, len(f.changes))
	}
	if n, _ := f.Poll(context.Background()); n != 0 {
		t.Fatalf("paused follower applied %d", n)
	}
	regions, m = db.snapshot(t, testAreas, 2)
	f.Install(NewIndex(regions...), m)
	f.Poll(context.Background())
	if f.paused {
		t.Fatal("still paused after a new seed")
	}
	checkExact(t, r, e, db, "after resuming")
}

// TestFollowerSkipsWhatSeedsHold: a bulk import (owner-api import) stamps
// every row alike, so all of it sits within Slack of the seeds' watermark
// and every Poll reads it again. The seeds hold those rows as read, so none
// goes into the delta: a follower with room for 20 changes does not pause
// on 300 imported rows, searches read the seeds alone, and changes after
// the import still apply.
func TestFollowerSkipsWhatSeedsHold(t *testing.T) {
	const slack = 5 * time.Second
	r := rand.New(rand.NewPCG(7, 8))
	db := newFakeDB()
	for i := range 300 {
		var c nearby.Change
		c.ID = db.nextID
		db.nextID++
		c.Name = fmt.Sprint("imported ", c.ID)
		c.Category = nearby.Category(r.IntN(4))
		c.Lat, c.Lon = randPlace(r)
		c.Price, c.Rating, c.ReviewCount = nearby.Price(1+i%4), nearby.Rating(10+i%41), uint32(i)
		db.write(c, 0)
	}
	// Rows deleted in the same import: absent from the seeds, as in the feed.
	for id := int64(1); id <= 10; id++ {
		c := db.rows[id].Change
		c.Deleted = true
		db.write(c, 0)
	}
	db.advance(0)
	regions, m := db.snapshot(t, testAreas, 1)
	e := &Engine{}
	f := newTestFollower(e, db, slack, 20)
	f.Install(NewIndex(regions...), m)
	for range 3 {
		if n, err := f.Poll(context.Background()); n != 0 || err != nil {
			t.Fatalf("Poll over the import the seeds hold: applied %d, %v; want 0", n, err)
		}
	}
	if cur := e.Current(); f.paused || len(f.changes) != 0 || cur.State() != cur.Version {
		t.Fatalf("paused %v, %d changes held, state %q; want the seeds alone", f.paused, len(f.changes), cur.State())
	}
	// The database keeps coordinates finer than the index's 1e-7°: a row
	// the seeds hold is held however it is rounded, a move is not.
	c := db.rows[42].visible
	d := 4e-8
	if c.Lat > 0 {
		d = -d // stay within [-90, 90]
	}
	c.Lat += d
	if !held(f.ix, c) {
		t.Errorf("%+v differs from the seeds only below 1e-7°, yet is not held", c.Business)
	}
	c.Lat += 2.5 * d
	if held(f.ix, c) {
		t.Errorf("%+v moved, yet is held", c.Business)
	}
	checkExact(t, r, e, db, "after the import")

	// Later writes, among them to imported businesses, still apply.
	db.advance(time.Second)
	for range 15 {
		db.randWrite(r, 0)
	}
	db.advance(slack)
	if n, err := f.Poll(context.Background()); n == 0 || err != nil {
		t.Fatalf("Poll after the import: applied %d, %v", n, err)
	}
	checkExact(t, r, e, db, "after later writes")
}

// TestFollowerReadsAnImportOnce: an import stamps its rows alike; with
// the database's clock as the feed's head, a follower reads them once and
// moves on; with the newest stamp alone (an idle replica) it reads them
// again at every Poll until a later write moves the head.
func TestFollowerReadsAnImportOnce(t *testing.T) {
	const slack, n = 5 * time.Second, 100
	ctx := context.Background()
	for _, clock := range []bool{true, false} {
		db := newFakeDB()
		db.clock = clock
		for id := int64(1); id <= n; id++ {
			db.write(nearby.Change{Business: nearby.Business{ID: id, Name: "imported", Category: nearby.Cafe, Lat: 10, Lon: float64(id) / 100}}, 0)
		}
		db.advance(0)
		regions, m := db.snapshot(t, testAreas, 1)
		feed := &countingFeed{Feed: db}
		f := newTestFollower(&Engine{}, feed, slack, 1000)
		f.Install(NewIndex(regions...), m)
		db.advance(slack + time.Second)
		for range 3 {
			if applied, err := f.Poll(ctx); applied != 0 || err != nil {
				t.Fatalf("clock %v: Poll applied %d, %v; the seeds hold the import", clock, applied, err)
			}
		}
		want := n // the first Poll, from the seeds' watermark less slack
		if !clock {
			want = 3 * n
		}
		if feed.rows != want {
			t.Errorf("clock %v: three Polls read %d rows, want %d", clock, feed.rows, want)
		}
	}
}

// shards connects engines in one process as the cluster client would.
type shards map[string]*Engine

func (s shards) Shard(ctx context.Context, region string, q nearby.SearchQuery, after *nearby.Cursor) (*nearby.ShardAnswer, error) {
	return s[region].Shard(ctx, region, q, after)
}

func (s shards) Area(ctx context.Context, region string, q nearby.AreaQuery, after *nearby.Cursor) (*nearby.ShardAnswer, error) {
	return s[region].ShardArea(ctx, region, q, after)
}

func (s shards) Business(ctx context.Context, region string, id int64) (*nearby.Business, error) {
	return s[region].LocalBusiness(ctx, region, id)
}

func (s shards) Density(ctx context.Context, region string, g nearby.DensityGrid) (*nearby.ShardAnswer, error) {
	return s[region].ShardDensity(ctx, region, g)
}

// TestFollowersInCluster runs one node per region, each following the
// feed: a business moved across the border is found at its new place from
// either node, and a business created outside its region's seed bounds is
// found through the widened bounds.
func TestFollowersInCluster(t *testing.T) {
	const slack = 2 * time.Second
	r := rand.New(rand.NewPCG(7, 8))
	db := newFakeDB()
	for range 200 {
		db.randWrite(r, 0)
		db.advance(50 * time.Millisecond)
	}
	regions, m := db.snapshot(t, testAreas, 1)
	_, nodes, followers := twoNodes(db, regions, m, slack)
	for round := range 6 {
		for range 30 {
			db.randWrite(r, slack)
			db.advance(200 * time.Millisecond)
		}
		// A business far from every seed's entries, in the east.
		db.write(nearby.Change{Business: nearby.Business{ID: db.nextID, Name: "far", Lat: -45, Lon: 100}}, 0)
		db.nextID++
		db.advance(slack)
		for _, f := range followers {
			if _, err := f.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		for i, e := range nodes {
			checkExact(t, r, e, db, fmt.Sprintf("round %d, node %d", round, i))
		}
		q := nearby.SearchQuery{Lat: -45, Lon: 100, RadiusM: 1000, Limit: 100}
		want := searchtest.Nearby(db.live(), q)
		if page, err := nodes[0].Nearby(context.Background(), q, nil); err != nil || len(want) == 0 || !slices.Equal(page.Results, want) {
			t.Fatalf("west node finds %v (err %v) near the far businesses, want %v", page, err, want)
		}
	}
}

// twoNodes runs one node per region of testAreas ("west", "east"), each
// following db with the given slack and asking the other for its region.
func twoNodes(db *fakeDB, regions []*Region, m seeds.Manifest, slack time.Duration) (shards, []*Engine, []*Follower) {
	sh := shards{}
	var nodes []*Engine
	var followers []*Follower
	for i, name := range []string{"west", "east"} {
		e := &Engine{Shards: sh}
		sh[name] = e
		f := newTestFollower(e, db, slack, 1<<20)
		f.Install(NewClusterIndex([]*Region{regions[i]}, []RemoteRegion{remoteOf(m, 1-i)}), m)
		nodes, followers = append(nodes, e), append(followers, f)
	}
	return sh, nodes, followers
}

func remoteOf(m seeds.Manifest, i int) RemoteRegion {
	r := m.Regions[i]
	return RemoteRegion{Name: r.Name, Version: r.IndexVersion, Count: r.Count, Bounds: r.Bounds}
}

// hookFeed runs hook once, after its first read of the feed returns: what
// happens between a Poll's read and its applying what it read.
type hookFeed struct {
	Feed
	hook func()
}

func (h *hookFeed) Changes(ctx context.Context, after time.Time, afterID int64, limit int) ([]nearby.Change, error) {
	page, err := h.Feed.Changes(ctx, after, afterID, limit)
	if hook := h.hook; hook != nil {
		h.hook = nil
		hook()
	}
	return page, err
}

// TestFollowerSeedDuringPoll installs a seed while a Poll is reading the
// feed: what that Poll read may be older than the seed, and must not
// replace the seed's newer state (which no later read returns).
func TestFollowerSeedDuringPoll(t *testing.T) {
	const slack = time.Second
	db := newFakeDB()
	place := func(version int) nearby.Business {
		return nearby.Business{ID: 1, Name: fmt.Sprintf("v%d", version), Category: nearby.Cafe, Lat: 51.5, Lon: float64(-version) / 10}
	}
	db.write(nearby.Change{Business: place(1)}, 0)
	db.advance(2 * slack)
	regions, m := db.snapshot(t, testAreas, 1)
	e := &Engine{}
	feed := &hookFeed{Feed: db}
	f := newTestFollower(e, feed, slack, 1<<20)
	f.Install(NewIndex(regions...), m)

	db.write(nearby.Change{Business: place(2)}, 0)
	db.advance(2 * slack)
	feed.hook = func() { // the Poll has read version 2; meanwhile:
		db.write(nearby.Change{Business: place(3)}, 0)
		db.advance(2 * slack)
		db.write(nearby.Change{Business: nearby.Business{ID: 2, Name: "other", Category: nearby.Cafe, Lat: 10, Lon: 10}}, 0)
		db.advance(2 * slack)
		regions, m := db.snapshot(t, testAreas, 2) // holds version 3
		f.Install(NewIndex(regions...), m)
	}
	for range 3 {
		if _, err := f.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	b, err := e.Business(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if want := place(3); b.Name != want.Name || b.Lon != want.Lon {
		t.Fatalf("business 1 is %q at %v, want %q at %v (the seed's)", b.Name, b.Lon, want.Name, want.Lon)
	}
	checkExact(t, rand.New(rand.NewPCG(7, 8)), e, db, "after a seed during a poll")
}

// TestFollowerMultiPagePass: a change not yet visible when a Poll's first
// page passed its place commits during the Poll, while its later pages
// reach stamps more than Slack after it. The next Poll must still read it:
// it starts no later than the head read before the last one, less Slack,
// not at the newest stamp read less Slack.
func TestFollowerMultiPagePass(t *testing.T) {
	const slack = time.Second
	db := newFakeDB()
	place := func(id int64, name string) nearby.Change {
		return nearby.Change{Business: nearby.Business{ID: id, Name: name, Category: nearby.Cafe, Lat: 51.5, Lon: float64(id) / 1000}}
	}
	db.write(place(1, "seeded"), 0)
	db.advance(2 * slack)
	regions, m := db.snapshot(t, testAreas, 1)
	e := &Engine{}
	feed := &hookFeed{Feed: db}
	f := newTestFollower(e, feed, slack, 1<<20) // pages of 7
	f.Install(NewIndex(regions...), m)

	db.write(place(100, "late"), slack/2) // stamped now, visible only later
	for id := int64(2); id <= 9; id++ {   // 8 rows after it: more than a page
		db.advance(time.Millisecond)
		db.write(place(id, "busy"), 0)
	}
	db.advance(time.Millisecond)
	feed.hook = func() { // the first page has passed business 100's place
		db.advance(slack) // 100 commits, within Slack of its stamp
		db.advance(slack)
		db.write(place(10, "later"), 0)
		db.write(place(11, "later"), 0)
		db.advance(time.Millisecond)
	}
	for range 2 {
		if _, err := f.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := e.Business(context.Background(), 100); err != nil || b.Name != "late" {
		t.Fatalf("business 100 after two polls: %v, %v; want it read", b, err)
	}
	checkExact(t, rand.New(rand.NewPCG(9, 10)), e, db, "after a pass of several pages")
}

// TestStateUncachableWithRemoteLive: an index with remote regions offers
// its state for cache keys until live changes apply, and then none: the
// other nodes apply them in their own time, so an answer cached under a
// local state could hold a remote region's older live state.
func TestStateUncachableWithRemoteLive(t *testing.T) {
	db := newFakeDB()
	db.write(nearby.Change{Business: nearby.Business{ID: 1, Name: "a", Category: nearby.Cafe, Lat: 10, Lon: -10}}, 0)
	db.advance(2 * time.Second)
	regions, m := db.snapshot(t, testAreas, 1)
	_, nodes, followers := twoNodes(db, regions, m, time.Second)
	single := &Engine{}
	newTestFollower(single, db, time.Second, 1<<20).Install(NewIndex(regions...), m)
	if state, _ := nodes[0].State(); state == "" {
		t.Fatal("no state before live changes")
	}
	db.write(nearby.Change{Business: nearby.Business{ID: 2, Name: "b", Category: nearby.Cafe, Lat: 10, Lon: 10}}, 0)
	db.advance(time.Millisecond)
	if n, err := followers[0].Poll(context.Background()); err != nil || n == 0 {
		t.Fatalf("Poll applied %d, %v", n, err)
	}
	if state, version := nodes[0].State(); state != "" || version == "" {
		t.Errorf("with remote regions and live changes: state %q, version %q; want no state", state, version)
	}
	if state, _ := single.State(); state == "" {
		t.Error("an index of local regions only has no state")
	}
}
