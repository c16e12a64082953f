package search

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/search/searchtest"
	"github.com/nearby/nearby/seeds"
)

var liveSeed = flag.Uint64("live.seed", 0, "seed of TestFollowerRandomInterleavings (0: a few fixed ones)")

// propWrite makes a create, a move (often across a border or the
// antimeridian), an update, a delete, or a re-creation of a deleted
// business under its id (a new version, like an undelete), committing up
// to slack later.
// propDB returns a fake database of n random writes 50 ms apart, all
// committed and older than the slack.
func propDB(r *rand.Rand, n int, slack time.Duration) *fakeDB {
	db := newFakeDB()
	for range n {
		db.propWrite(r, slack)
		db.advance(50 * time.Millisecond)
	}
	db.advance(slack)
	db.clock = r.IntN(2) == 0 // a primary's or busy replica's head, or an idle replica's
	return db
}

func (db *fakeDB) propWrite(r *rand.Rand, slack time.Duration) {
	var live, dead []int64
	for id, row := range db.rows {
		if row.Deleted {
			dead = append(dead, id)
		} else {
			live = append(live, id)
		}
	}
	slices.Sort(live)
	slices.Sort(dead)
	var c nearby.Change
	switch {
	case len(dead) > 0 && r.IntN(6) == 0:
		c = db.rows[dead[r.IntN(len(dead))]].Change
		c.Deleted = false
		c.Lat, c.Lon = randPlace(r)
		c.Name += " again"
	case len(live) == 0 || r.IntN(4) == 0:
		c.ID = db.nextID
		db.nextID++
		c.Name = fmt.Sprint("shop ", c.ID)
		c.Category = nearby.Category(r.IntN(4))
		c.Lat, c.Lon = randPlace(r)
	default:
		c = db.rows[live[r.IntN(len(live))]].Change
		switch r.IntN(5) {
		case 0, 1:
			c.Lat, c.Lon = randPlace(r)
		case 2:
			c.Name += "!"
			c.Rating = nearby.RatingOf(r.IntN(51))
		case 3:
			c.Category = nearby.Category(r.IntN(4))
		case 4:
			c.Deleted = true
		}
	}
	delay := time.Duration(0)
	if r.IntN(2) == 0 {
		delay = time.Duration(r.Int64N(int64(slack) + 1))
	}
	db.write(c, delay)
}

// seedOf is one published generation of seeds and the businesses in them.
type seedOf struct {
	regions []*Region
	m       seeds.Manifest
	bs      map[int64]nearby.Business
}

func snapshotOf(t *testing.T, db *fakeDB, version uint64) seedOf {
	t.Helper()
	regions, m := db.snapshot(t, testAreas, version)
	bs := map[int64]nearby.Business{}
	for _, r := range regions {
		for i := range r.Tree.Len() {
			bs[r.Tree.ID(i)] = r.business(i)
		}
	}
	return seedOf{regions, m, bs}
}

// modelOf is what f's engine must answer: the businesses of the seeds it
// installed, each replaced by the change it holds for it.
func modelOf(f *Follower, s seedOf) []nearby.Business {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []nearby.Business
	for id, b := range s.bs {
		if _, ok := f.changes[id]; !ok {
			out = append(out, b)
		}
	}
	for _, c := range f.changes {
		if !c.Deleted {
			out = append(out, c.Business)
		}
	}
	return out
}

// checkAgainst pages through random searches (both orders, filters, with
// totals), box searches and lookups of every id in ids, and compares them
// with brute force over bs.
func checkAgainst(t *testing.T, r *rand.Rand, e *Engine, bs []nearby.Business, ids []int64, label string) {
	t.Helper()
	ctx := context.Background()
	for range 15 {
		q := nearby.SearchQuery{Limit: 1 + r.IntN(8), RadiusM: 50 + r.Float64()*6000, Total: r.IntN(2) == 0}
		q.Lat, q.Lon = randPlace(r)
		if r.IntN(2) == 0 {
			q.Sort = nearby.SortRating
		}
		if r.IntN(3) == 0 {
			q.Categories = nearby.CategorySet(1 + r.IntN(15))
		}
		want := searchtest.Nearby(bs, q)
		got, first := searchtest.AllPages(t, func(q nearby.SearchQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
			return e.Nearby(ctx, q, after)
		}, q)
		if first.Partial || !sameResults(got, want) || q.Total && first.Total != len(want) {
			t.Fatalf("%s: search %+v: partial %v, total %d\n got %d %v\nwant %d %v", label, q, first.Partial, first.Total, len(got), got, len(want), want)
		}
	}
	for range 5 {
		lat, lon := randPlace(r)
		d := 0.01 + r.Float64()*0.05
		q := nearby.AreaQuery{Limit: 1 + r.IntN(8), Box: geo.Rect{MinLat: max(-90, lat-d), MaxLat: min(90, lat+d), MinLon: lon - d, MaxLon: lon + d}, ByDistance: r.IntN(2) == 0}
		if q.Box.MinLon < -180 {
			q.Box.MinLon += 360
		}
		if q.Box.MaxLon > 180 {
			q.Box.MaxLon -= 360
		}
		want := searchtest.Area(bs, q)
		got, first := searchtest.AllPages(t, func(q nearby.AreaQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
			return e.Area(ctx, q, after)
		}, q)
		if first.Partial || !sameResults(got, want) || first.Total != len(want) {
			t.Fatalf("%s: area %+v: total %d\n got %d %v\nwant %d %v", label, q, first.Total, len(got), got, len(want), want)
		}
	}
	byID := map[int64]nearby.Business{}
	for _, b := range bs {
		byID[b.ID] = b
	}
	for _, id := range ids {
		got, err := e.Business(ctx, id)
		want, ok := byID[id]
		switch {
		case !ok && nearby.ErrorCode(err) != nearby.ENOTFOUND:
			t.Fatalf("%s: lookup of %d, absent: %+v, %v", label, id, got, err)
		case ok && (err != nil || *got != want):
			t.Fatalf("%s: lookup of %d: %+v, %v; want %+v", label, id, got, err, want)
		}
	}
	if st, _ := e.Stats(); len(e.Current().Remote) == 0 && st.Count != len(bs) {
		t.Fatalf("%s: index counts %d businesses, want %d", label, st.Count, len(bs))
	}
}

// TestFollowerRandomInterleavings interleaves random creates, moves
// (across the border at 0° and the antimeridian), updates, deletes and
// re-creations under the same id, committing out of stamp order, with
// polls, new seeds (also while a poll reads, and older seeds again, as in
// a rollback), restarts and a small MaxChanges. After every poll or
// install the engine answers exactly the seeds it holds with the
// follower's changes applied; once everything has committed and been
// read, exactly the database's rows.
func TestFollowerRandomInterleavings(t *testing.T) {
	searchtest.Seeded(t, *liveSeed, "live.seed", followerInterleavings)
}

func followerInterleavings(t *testing.T, seed uint64) {
	const slack = 2 * time.Second
	r := rand.New(rand.NewPCG(seed, 99))
	ctx := context.Background()
	db := propDB(r, 80, slack)
	gen := uint64(1)
	published := []seedOf{snapshotOf(t, db, gen)}
	maxChanges := 1 << 20
	if r.IntN(2) == 0 {
		maxChanges = 10 + r.IntN(30)
	}
	feed := &hookFeed{Feed: db}
	e := &Engine{}
	f := newTestFollower(e, feed, slack, maxChanges)
	f.PageSize = 1 + r.IntN(8)
	cur := published[0]
	f.Install(NewIndex(cur.regions...), cur.m)

	allIDs := func() []int64 {
		ids := make([]int64, 0, len(db.rows)+1)
		for id := range db.rows {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return append(ids, db.nextID)
	}
	check := func(label string) {
		t.Helper()
		checkAgainst(t, r, e, modelOf(f, cur), allIDs(), label)
	}
	install := func(s seedOf) {
		cur = s
		f.Install(NewIndex(s.regions...), s.m)
	}
	for step := range 250 {
		label := fmt.Sprintf("step %d", step)
		switch op := r.IntN(20); {
		case op < 11:
			db.propWrite(r, slack)
			db.advance(time.Duration(r.Int64N(int64(400 * time.Millisecond))))
		case op < 15:
			if _, err := f.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			check(label + ", poll")
		case op == 15: // a new seed, writes in flight
			gen++
			published = append(published, snapshotOf(t, db, gen))
			install(published[len(published)-1])
			check(label + ", new seed")
		case op == 16: // a new seed while a poll reads
			feed.hook = func() {
				for range r.IntN(4) {
					db.propWrite(r, slack)
					db.advance(100 * time.Millisecond)
				}
				gen++
				published = append(published, snapshotOf(t, db, gen))
				install(published[len(published)-1])
			}
			if _, err := f.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			feed.hook = nil
			check(label + ", seed during a poll")
		case op == 17 && len(published) > 1: // roll back to the seeds before
			install(published[len(published)-2])
			check(label + ", rollback")
		case op == 18: // restart from the current seeds
			e = &Engine{}
			f = newTestFollower(e, feed, slack, maxChanges)
			f.PageSize = 1 + r.IntN(8)
			install(cur)
			check(label + ", restart")
		default:
			db.advance(slack)
		}
	}
	// Everything commits; a paused follower needs a new seed to go on,
	// one whose watermark is past what the changes since could fill.
	db.advance(slack)
	for attempt := 0; ; attempt++ {
		if f.paused {
			if attempt == 3 {
				t.Fatal("still paused after seeds that hold everything")
			}
			db.advance(2 * slack)
			db.write(nearby.Change{Business: nearby.Business{ID: db.nextID, Name: "last", Lat: 1, Lon: 1}}, 0)
			db.nextID++
			db.advance(time.Millisecond)
			gen++
			install(snapshotOf(t, db, gen))
		}
		for range 2 {
			if _, err := f.Poll(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if !f.paused {
			break
		}
	}
	checkAgainst(t, r, e, db.live(), allIDs(), "caught up")
}

// TestFollowerRollbackToOlderSeeds installs seeds, newer seeds that absorb
// the changes since, and then the older seeds again (an operator's
// rollback, or a build from a replica further behind): the changes the
// newer seeds held must come back from the feed, not be lost until the
// next build.
func TestFollowerRollbackToOlderSeeds(t *testing.T) {
	const slack = time.Second
	ctx := context.Background()
	db := newFakeDB()
	shop := func(id int64, name string, lon float64) nearby.Change {
		return nearby.Change{Business: nearby.Business{ID: id, Name: name, Category: nearby.Cafe, Lat: 51.5, Lon: lon}}
	}
	db.write(shop(1, "old", -0.01), 0)
	db.write(shop(2, "doomed", 0.01), 0)
	db.advance(2 * slack)
	older := snapshotOf(t, db, 1)
	e := &Engine{}
	f := newTestFollower(e, db, slack, 1<<20)
	f.Install(NewIndex(older.regions...), older.m)

	db.write(shop(1, "moved east", 0.02), 0) // across the border
	db.write(shop(3, "created", -0.02), 0)
	del := db.rows[2].Change
	del.Deleted = true
	db.write(del, 0)
	db.advance(2 * slack)
	if _, err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	db.advance(10 * slack)
	db.write(shop(4, "later", 0.03), 0) // the newer seeds' watermark, well past the changes
	db.advance(2 * slack)
	newer := snapshotOf(t, db, 2)
	f.Install(NewIndex(newer.regions...), newer.m)
	checkAgainst(t, rand.New(rand.NewPCG(1, 1)), e, db.live(), []int64{1, 2, 3, 4}, "newer seeds")

	f.Install(NewIndex(older.regions...), older.m) // rolled back
	for range 2 {
		if _, err := f.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	checkAgainst(t, rand.New(rand.NewPCG(1, 1)), e, db.live(), []int64{1, 2, 3, 4}, "rolled back")
}

// TestFollowerPausedMetric: a Poll whose first new business finds the
// delta full pauses following, applying nothing; nearby_live_paused must
// say so all the same, and go back to 0 once a new seed absorbs the delta.
func TestFollowerPausedMetric(t *testing.T) {
	const slack = time.Second
	ctx := context.Background()
	db := newFakeDB()
	s := snapshotOf(t, db, 1)
	s.m.Regions[0].Watermark, s.m.Regions[1].Watermark = db.now, db.now
	e := &Engine{}
	f := newTestFollower(e, db, slack, 3)
	f.Install(NewIndex(s.regions...), s.m)
	shop := func(id int64) nearby.Change {
		return nearby.Change{Business: nearby.Business{ID: id, Name: "shop", Category: nearby.Cafe, Lat: 10, Lon: float64(id)}}
	}
	for id := int64(1); id <= 3; id++ {
		db.write(shop(id), 0)
	}
	db.advance(time.Millisecond)
	if n, err := f.Poll(ctx); n != 3 || err != nil {
		t.Fatalf("Poll applied %d, %v; want 3", n, err)
	}
	db.advance(2 * slack)
	db.write(shop(4), 0)
	db.advance(time.Millisecond)
	if n, err := f.Poll(ctx); n != 0 || err != nil {
		t.Fatalf("Poll at the limit applied %d, %v; want 0", n, err)
	}
	if !f.paused {
		t.Fatal("not paused at the limit")
	}
	if got := testutil.ToFloat64(f.metrics.paused); got != 1 {
		t.Fatalf("nearby_live_paused is %v while paused, want 1", got)
	}
	s = snapshotOf(t, db, 2) // holds 1 to 4
	f.Install(NewIndex(s.regions...), s.m)
	if got := testutil.ToFloat64(f.metrics.paused); f.paused || got != 0 {
		t.Fatalf("after a new seed: paused %v, nearby_live_paused %v; want neither", f.paused, got)
	}
}

// TestPagingAcrossLiveBatches pages through searches while live batches
// move, create, update and delete businesses between pages: as the API
// documents (index_version unchanged, cursors valid), every business no
// batch touched while paging shows exactly once and in order; only the
// touched ones may show twice or not at all.
func TestPagingAcrossLiveBatches(t *testing.T) {
	const slack = time.Second
	r := rand.New(rand.NewPCG(17, 18))
	ctx := context.Background()
	db := newFakeDB()
	for range 300 {
		db.propWrite(r, 0)
	}
	db.advance(2 * slack)
	s := snapshotOf(t, db, 1)
	e := &Engine{}
	f := newTestFollower(e, db, slack, 1<<20)
	f.Install(NewIndex(s.regions...), s.m)
	for trial := range 40 {
		q := nearby.SearchQuery{Limit: 1 + r.IntN(4), RadiusM: 3000 + r.Float64()*5000}
		q.Lat, q.Lon = randPlace(r)
		if r.IntN(2) == 0 {
			q.Sort = nearby.SortRating
		}
		version := e.Current().Version
		before := db.live()
		touched := map[int64]bool{}
		var got []nearby.SearchResult
		var after *nearby.Cursor
		for {
			page, err := e.Nearby(ctx, q, after)
			if err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
			if page.IndexVersion != version {
				t.Fatalf("trial %d: index version %s, was %s", trial, page.IndexVersion, version)
			}
			got = append(got, page.Results...)
			if page.Next == nil {
				break
			}
			after = page.Next
			for range r.IntN(4) { // a live batch between pages
				n := len(db.pending)
				db.propWrite(r, 0)
				touched[db.pending[n].ID] = true
			}
			db.advance(time.Millisecond)
			if _, err := f.Poll(ctx); err != nil {
				t.Fatal(err)
			}
		}
		untouched := func(rs []nearby.SearchResult) []int64 {
			var ids []int64
			for _, res := range rs {
				if !touched[res.ID] {
					ids = append(ids, res.ID)
				}
			}
			return ids
		}
		if want := untouched(searchtest.Nearby(before, q)); !slices.Equal(untouched(got), want) {
			t.Fatalf("trial %d, %+v, touched %v: untouched businesses\n got %v\nwant %v", trial, q, touched, untouched(got), want)
		}
	}
}

// countingFeed counts the changes its feed returned.
type countingFeed struct {
	Feed
	rows int
}

func (c *countingFeed) Changes(ctx context.Context, after time.Time, afterID int64, limit int) ([]nearby.Change, error) {
	page, err := c.Feed.Changes(ctx, after, afterID, limit)
	c.rows += len(page)
	return page, err
}

// TestFollowerReadsNoFurtherThanItCanHold: MaxChanges bounds memory, so
// a Poll facing a backlog far larger (a restart from old seeds after a
// bulk import) reads little more than the delta has room for, pauses, and
// resumes after a new seed with nothing lost.
func TestFollowerReadsNoFurtherThanItCanHold(t *testing.T) {
	const slack, limit = time.Second, 20
	ctx := context.Background()
	db := newFakeDB()
	s := snapshotOf(t, db, 1)
	s.m.Regions[0].Watermark, s.m.Regions[1].Watermark = db.now, db.now
	feed := &countingFeed{Feed: db}
	e := &Engine{}
	f := newTestFollower(e, feed, slack, limit) // pages of 7
	f.Install(NewIndex(s.regions...), s.m)
	db.advance(time.Millisecond)
	for id := int64(1); id <= 1000; id++ { // one import: one stamp
		db.write(nearby.Change{Business: nearby.Business{ID: id, Name: "imported", Category: nearby.Cafe, Lat: 10, Lon: float64(id) / 100}}, 0)
	}
	db.advance(time.Millisecond)
	if n, err := f.Poll(ctx); n != limit || err != nil || !f.paused {
		t.Fatalf("Poll applied %d, %v, paused %v; want %d and paused", n, err, f.paused, limit)
	}
	if feed.rows > limit+f.PageSize {
		t.Errorf("a Poll read %d changes to apply %d: memory is bounded by the limit, not the backlog", feed.rows, limit)
	}
	db.advance(2 * slack)
	db.write(nearby.Change{Business: nearby.Business{ID: 1001, Name: "after", Category: nearby.Cafe, Lat: 10, Lon: 11}}, 0)
	db.advance(2 * slack)
	s = snapshotOf(t, db, 2)
	f.Install(NewIndex(s.regions...), s.m)
	if _, err := f.Poll(ctx); err != nil || f.paused {
		t.Fatalf("after a new seed: %v, paused %v", err, f.paused)
	}
	checkAgainst(t, rand.New(rand.NewPCG(3, 3)), e, db.live(), []int64{1, 500, 1000, 1001}, "after the backlog")
}

// TestClusterFollowersRandomInterleavings runs one node per region, each
// following the feed and loading new seeds in its own time (so one may
// serve older seeds than the other), through random creates, moves across
// the border and the antimeridian, deletes and re-creations: once every
// change has committed and both have read it, each node answers exactly
// the database's rows, asking the other for its region (through the
// widened bounds of moved and created businesses).
func TestClusterFollowersRandomInterleavings(t *testing.T) {
	const slack = time.Second
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 123))
		ctx := context.Background()
		db := propDB(r, 60, slack)
		published := []seedOf{snapshotOf(t, db, 1)}
		s := published[0]
		_, nodes, followers := twoNodes(db, s.regions, s.m, slack)
		install := func(n int, s seedOf) {
			followers[n].Install(NewClusterIndex([]*Region{s.regions[n]}, []RemoteRegion{remoteOf(s.m, 1-n)}), s.m)
		}
		for range 300 {
			n := r.IntN(2)
			switch op := r.IntN(10); {
			case op < 6:
				db.propWrite(r, slack)
				db.advance(time.Duration(r.Int64N(int64(300 * time.Millisecond))))
			case op < 8:
				if _, err := followers[n].Poll(ctx); err != nil {
					t.Fatal(err)
				}
			case op == 8:
				published = append(published, snapshotOf(t, db, uint64(len(published)+1)))
			default:
				install(n, published[len(published)-1-r.IntN(min(2, len(published)))])
			}
		}
		db.advance(slack)
		for n, f := range followers {
			if f.paused {
				install(n, snapshotOf(t, db, uint64(len(published)+1)))
			}
			for range 2 {
				if _, err := f.Poll(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		ids := make([]int64, 0, len(db.rows))
		for id := range db.rows {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for n, e := range nodes {
			checkAgainst(t, r, e, db.live(), ids, fmt.Sprintf("seed %d, node %d", seed, n))
		}
	}
}

// lockedFeed serialises reads of a fakeDB with the writes made under mu.
type lockedFeed struct {
	mu *sync.Mutex
	db *fakeDB
}

func (l lockedFeed) Changes(ctx context.Context, after time.Time, afterID int64, limit int) ([]nearby.Change, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.db.Changes(ctx, after, afterID, limit)
}

func (l lockedFeed) FeedHead(ctx context.Context) (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.db.FeedHead(ctx)
}

// TestFollowerConcurrently polls, installs seeds and searches at once (run
// it with -race): every answer is one state's, so no business shows twice
// on a page, pages are in order, and lookups answer.
func TestFollowerConcurrently(t *testing.T) {
	const slack = time.Second
	r := rand.New(rand.NewPCG(31, 32))
	var mu sync.Mutex
	db := newFakeDB()
	for range 200 {
		db.propWrite(r, 0)
	}
	db.advance(2 * slack)
	s := snapshotOf(t, db, 1)
	e := &Engine{}
	f := newTestFollower(e, lockedFeed{&mu, db}, slack, 1<<20)
	f.Install(NewIndex(s.regions...), s.m)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seedsc := make(chan seedOf, 1)
	written := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // writes and new seeds
		defer close(written)
		defer close(seedsc)
		for i := range 400 {
			mu.Lock()
			db.propWrite(r, slack)
			db.advance(20 * time.Millisecond)
			var next *seedOf
			if i%50 == 49 {
				s := snapshotOf(t, db, uint64(2+i/50))
				next = &s
			}
			mu.Unlock()
			if next != nil {
				seedsc <- *next
			}
		}
	})
	wg.Go(func() { // installs
		for s := range seedsc {
			f.Install(NewIndex(s.regions...), s.m)
		}
	})
	wg.Go(func() { // polls
		for ctx.Err() == nil {
			if _, err := f.Poll(ctx); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
		}
	})
	var searchers sync.WaitGroup
	for g := range 2 {
		searchers.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 33))
			for n := 0; ; n++ {
				select {
				case <-written:
					if n > 0 {
						return
					}
				default:
				}
				q := nearby.SearchQuery{Limit: 1 + r.IntN(20), RadiusM: 500 + r.Float64()*5000, Total: true}
				q.Lat, q.Lon = randPlace(r)
				page, err := e.Nearby(ctx, q, nil)
				if err != nil {
					t.Error(err)
					return
				}
				seen := map[int64]bool{}
				for i, res := range page.Results {
					if seen[res.ID] || i > 0 && cmpResults(page.Results[i-1], res) >= 0 {
						t.Errorf("search %+v: result %d %v repeated or out of order: %v", q, i, res, page.Results)
						return
					}
					seen[res.ID] = true
				}
				if page.Total < len(page.Results) {
					t.Errorf("search %+v: total %d below the %d results", q, page.Total, len(page.Results))
				}
				if _, err := e.Business(ctx, 1+r.Int64N(200)); err != nil && nearby.ErrorCode(err) != nearby.ENOTFOUND {
					t.Error(err)
				}
			}
		})
	}
	searchers.Wait()
	cancel()
	wg.Wait()
}

func cmpResults(a, b nearby.SearchResult) int {
	return cmp.Or(cmp.Compare(a.DistanceM, b.DistanceM), cmp.Compare(a.ID, b.ID))
}
