package cache

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/internal/search"
	"github.com/nearby/nearby/seeds"
)

func testEngine(t testing.TB, n int, version uint64) *search.Engine {
	t.Helper()
	region, err := search.BuildRegion("world", version, dataset.Generate(n, 1))
	if err != nil {
		t.Fatal(err)
	}
	e := &search.Engine{}
	e.Swap(search.NewIndex(region))
	return e
}

func query(q dataset.Query) nearby.SearchQuery {
	sq := nearby.SearchQuery{Lat: q.Lat, Lon: q.Lon, RadiusM: q.RadiusM, Limit: q.Limit}
	for _, c := range q.Categories {
		sq.Categories = sq.Categories.Add(c)
	}
	return sq
}

// waitSets waits for the searcher's background cache writes.
func waitSets(s *Searcher) {
	for len(s.pending) > 0 {
		time.Sleep(time.Millisecond)
	}
}

// TestSearcherAgrees: every answer through the cache, first (miss) and
// second (hit) time, page after page, equals the index's own answer
// exactly: keys are the exact query, so there is no bound to allow for.
func TestSearcherAgrees(t *testing.T) {
	ctx := context.Background()
	engine := testEngine(t, 50000, 1)
	store := NewMemory(0)
	s := NewSearcher(engine, SearcherConfig{
		Store: store, Prefix: "t", Registerer: prometheus.NewRegistry(),
		Index: engine.State,
	})
	for i, dq := range dataset.Queries(300, 7) {
		q := query(dq)
		var after *nearby.Cursor
		for page := 0; page < 3; page++ {
			want, err := engine.Nearby(ctx, q, after)
			if err != nil {
				t.Fatal(err)
			}
			for pass := range 2 {
				got, err := s.Nearby(ctx, q, after)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(withoutHours(got), withoutHours(want)) {
					t.Fatalf("query %d page %d pass %d: cached answer differs:\n got %+v\nwant %+v", i, page, pass, got, want)
				}
				waitSets(s)
			}
			if want.Next == nil {
				break
			}
			after = want.Next
		}
	}
	if hits := testutil.ToFloat64(s.requests.WithLabelValues("search", "hit")); hits < 300 {
		t.Errorf("%v hits, want at least one per query", hits)
	}
}

// TestSearcherVersionKeyed: after a new index is swapped in, no answer of
// the old one is served, even for the same query.
func TestSearcherVersionKeyed(t *testing.T) {
	ctx := context.Background()
	engine := testEngine(t, 5000, 1)
	s := NewSearcher(engine, SearcherConfig{
		Store: NewMemory(0), Prefix: "t", Registerer: prometheus.NewRegistry(),
		Index: engine.State,
	})
	q := nearby.SearchQuery{Lat: 40.758, Lon: -73.9855, RadiusM: 20000, Limit: 20}
	first, _ := s.Nearby(ctx, q, nil)
	waitSets(s)
	if len(first.Results) == 0 || first.IndexVersion != "1" {
		t.Fatalf("first answer: %+v", first)
	}
	// The new index holds other businesses near the same point.
	region, _ := search.BuildRegion("world", 2, dataset.Generate(5000, 99))
	engine.Swap(search.NewIndex(region))
	got, _ := s.Nearby(ctx, q, nil)
	want, _ := engine.Nearby(ctx, q, nil)
	if !reflect.DeepEqual(withoutHours(got), withoutHours(want)) || got.IndexVersion != "2" || reflect.DeepEqual(got.Results, first.Results) {
		t.Fatalf("after the swap: got version %s, want the new index's answer (version 2)", got.IndexVersion)
	}
	if SearchKey("p", "1", q, nil) == SearchKey("p", "2", q, nil) {
		t.Error("keys do not depend on the version")
	}
	q0 := q
	q0.Lat, q0.Lon = 0, 0
	qn := q0
	qn.Lat, qn.Lon = negZero(), negZero()
	if SearchKey("p", "1", q0, nil) != SearchKey("p", "1", qn, nil) {
		t.Error("-0 and 0 have different keys")
	}
	q2 := q
	q2.Lat = nearby.RoundE7(q.Lat + 1e-7)
	if SearchKey("p", "1", q, nil) == SearchKey("p", "1", q2, nil) {
		t.Error("nearby points share a key: answers could differ")
	}
}

func negZero() float64 { z := 0.0; return -z }

// changeFeed is a search.Feed of fixed changes.
type changeFeed []nearby.Change

func (f changeFeed) Changes(_ context.Context, after time.Time, afterID int64, limit int) ([]nearby.Change, error) {
	var out []nearby.Change
	for _, c := range f {
		if c.UpdatedAt.After(after) || c.UpdatedAt.Equal(after) && c.ID > afterID {
			out = append(out, c)
		}
	}
	return out[:min(limit, len(out))], nil
}

func (f changeFeed) FeedHead(context.Context) (time.Time, error) {
	var head time.Time
	for _, c := range f {
		if c.UpdatedAt.After(head) {
			head = c.UpdatedAt
		}
	}
	return head, nil
}

// renamed is b changed: a change the seeds do not show already (the
// follower skips those).
func renamed(b nearby.Business) nearby.Business {
	b.Name += " (renamed)"
	return b
}

// TestSearcherLiveChanges: once live changes are applied to the index, its
// answers are still cached (keyed by the index's state), and an answer
// cached before a change is not served after it.
func TestSearcherLiveChanges(t *testing.T) {
	ctx := context.Background()
	watermark := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bs := dataset.Generate(5000, 1)
	region, err := search.BuildRegion("world", 1, bs)
	if err != nil {
		t.Fatal(err)
	}
	m := seeds.Manifest{Generation: 1, Regions: []seeds.Region{{Name: "world", IndexVersion: 1, Count: len(bs), Watermark: watermark}}}
	q := nearby.SearchQuery{Lat: bs[0].Lat, Lon: bs[0].Lon, RadiusM: 20000, Limit: 20}
	moved := bs[0]
	moved.ID, moved.Name = 1<<40, "New in town"
	var feed changeFeed
	engine := &search.Engine{}
	f := search.NewFollower(engine, &feed, time.Second, 1000, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	f.Install(search.NewIndex(region), m)
	s := NewSearcher(engine, SearcherConfig{Store: NewMemory(0), Prefix: "t", Registerer: prometheus.NewRegistry(), Index: engine.State})
	hits := func() float64 { return testutil.ToFloat64(s.requests.WithLabelValues("search", "hit")) }

	for step, change := range []nearby.Change{
		{Business: renamed(bs[1]), Version: 2, UpdatedAt: watermark.Add(time.Minute)}, // a change elsewhere in the answer's area
		{Business: moved, Version: 1, UpdatedAt: watermark.Add(2 * time.Minute)},      // a new business at the query point
	} {
		feed = append(feed, change)
		if n, err := f.Poll(ctx); err != nil || n != 1 {
			t.Fatalf("step %d: Poll applied %d, %v", step, n, err)
		}
		before := hits()
		for pass := range 2 {
			got, err := s.Nearby(ctx, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := engine.Nearby(ctx, q, nil)
			if !reflect.DeepEqual(withoutHours(got), withoutHours(want)) {
				t.Fatalf("step %d pass %d: cached answer differs from the index's:\n got %+v\nwant %+v", step, pass, got, want)
			}
			waitSets(s)
		}
		if hits() != before+1 {
			t.Errorf("step %d: %v hits on the second pass, want 1: answers after live changes are not cached", step, hits()-before)
		}
	}
}

// TestSearcherLiveStatesPerNode: two searchd nodes share the cache and hold
// the same seed, but apply live changes in batches of their own: the same
// count of batches is not the same state. Node A caches an answer after its
// first batch (one change); node B applies three changes in one batch, one
// of them a new business at the query point, and must not get A's answer.
func TestSearcherLiveStatesPerNode(t *testing.T) {
	ctx := context.Background()
	watermark := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bs := dataset.Generate(5000, 1)
	m := seeds.Manifest{Generation: 1, Regions: []seeds.Region{{Name: "world", IndexVersion: 1, Count: len(bs), Watermark: watermark}}}
	q := nearby.SearchQuery{Lat: bs[0].Lat, Lon: bs[0].Lon, RadiusM: 20000, Limit: 20}
	arrived := bs[0]
	arrived.ID, arrived.Name = 1<<40, "New in town"
	changes := changeFeed{
		{Business: renamed(bs[1]), Version: 2, UpdatedAt: watermark.Add(time.Minute)},
		{Business: renamed(bs[2]), Version: 2, UpdatedAt: watermark.Add(2 * time.Minute)},
		{Business: arrived, Version: 1, UpdatedAt: watermark.Add(3 * time.Minute)},
	}
	store := NewMemory(0)
	node := func(feed *changeFeed) (*search.Engine, *search.Follower, *Searcher) {
		region, err := search.BuildRegion("world", 1, bs)
		if err != nil {
			t.Fatal(err)
		}
		e := &search.Engine{}
		f := search.NewFollower(e, feed, time.Second, 1000, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
		f.Install(search.NewIndex(region), m)
		return e, f, NewSearcher(e, SearcherConfig{Store: store, Prefix: "t", Registerer: prometheus.NewRegistry(), Index: e.State})
	}
	feedA, feedB := changes[:1], changes
	_, fa, sa := node(&feedA)
	if _, err := fa.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sa.Nearby(ctx, q, nil); err != nil {
		t.Fatal(err)
	}
	waitSets(sa)
	eb, fb, sb := node(&feedB)
	if n, err := fb.Poll(ctx); err != nil || n != 3 {
		t.Fatalf("node B applied %d, %v", n, err)
	}
	got, err := sb.Nearby(ctx, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := eb.Nearby(ctx, q, nil)
	if !reflect.DeepEqual(withoutHours(got), withoutHours(want)) {
		t.Fatalf("node B got node A's cached answer:\n got %+v\nwant %+v", got, want)
	}
}

// TestSearcherStoreDown: answers come from the index when the store fails.
func TestSearcherStoreDown(t *testing.T) {
	engine := testEngine(t, 5000, 1)
	s := NewSearcher(engine, SearcherConfig{
		Store: &failingStore{}, Prefix: "t", Registerer: prometheus.NewRegistry(),
		Index: engine.State,
	})
	q := nearby.SearchQuery{Lat: 48.8566, Lon: 2.3522, RadiusM: 5000, Limit: 20}
	got, err := s.Nearby(context.Background(), q, nil)
	want, _ := engine.Nearby(context.Background(), q, nil)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("with the store down: %v", err)
	}
	if _, err := s.Nearby(context.Background(), nearby.SearchQuery{Lat: 100}, nil); nearby.ErrorCode(err) != nearby.EINVALID {
		t.Errorf("invalid query: %v", err)
	}
}

// TestPageCodec: pages round-trip, and no truncation or corruption of an
// encoding panics or decodes to something other than the page.
func TestPageCodec(t *testing.T) {
	p := &nearby.SearchPage{
		IndexVersion: "17-ab", Partial: true, Missing: []string{"europe", "asia"},
		Next: &nearby.Cursor{IndexVersion: "17-ab", DistanceM: 123.25, ID: 99},
		Results: []nearby.SearchResult{
			{Business: nearby.Business{ID: 1, Name: "Café ☕", Category: nearby.Cafe, Lat: 40.7, Lon: -73.9,
				Price: 2, Rating: nearby.RatingOf(45), ReviewCount: 1 << 30}, DistanceM: 1.5},
			{Business: nearby.Business{ID: 1 << 60, Name: "", Category: nearby.Bar, Lat: -90, Lon: 180}, DistanceM: 0},
		},
	}
	b := appendPage(nil, p)
	got, err := decodePage(b)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	empty := &nearby.SearchPage{IndexVersion: "1", Results: []nearby.SearchResult{}}
	if got, err := decodePage(appendPage(nil, empty)); err != nil || !reflect.DeepEqual(got, empty) {
		t.Fatalf("empty page: %+v %v", got, err)
	}
	for n := range len(b) {
		if _, err := decodePage(b[:n]); err == nil {
			t.Errorf("truncated to %d bytes: decoded", n)
		}
	}
	seed := rand.Uint64()
	r := rand.New(rand.NewPCG(seed, 1))
	for range 10000 {
		c := append([]byte(nil), b...)
		c[r.IntN(len(c))] ^= byte(1 + r.IntN(255))
		if got, err := decodePage(c); err == nil && len(got.Results) > len(p.Results) {
			t.Fatalf("seed %d: a corrupt page decoded to %d results", seed, len(got.Results))
		}
	}
}

// withoutHours drops the opening hours, which search answers do not show
// and the cache does not keep.
func withoutHours(p *nearby.SearchPage) *nearby.SearchPage {
	c := *p
	c.Results = slices.Clone(p.Results)
	for i := range c.Results {
		c.Results[i].Hours = nil
	}
	return &c
}
