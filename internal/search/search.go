// Package search answers nearby searches from in-memory quadtrees, one per
// region, merged exactly. An Engine serves one Index at a time and swaps in
// a new one atomically: in-flight queries finish on the index they started
// with.
package search

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/quadtree"
)

// Region is one region's tree with an id lookup.
type Region struct {
	Name    string
	Version uint64
	Tree    *quadtree.Tree
	// Hours are the opening hours the entries' tags refer to: tag t > 0
	// is Hours[t-1].
	Hours []*hours.Schedule

	byIDOnce sync.Once
	byID     []uint32 // entry positions sorted by id, built on first use
}

// NewRegion wraps a built tree and the opening hours its tags refer to. It
// refuses trees with entries the API cannot serve: ids ≤ 0, unknown
// categories or tags without hours.
func NewRegion(name string, version uint64, t *quadtree.Tree, hs []*hours.Schedule) (*Region, error) {
	for i := range t.Len() {
		if t.ID(i) <= 0 || !nearby.Category(t.Category(i)).Valid() || int(t.Attrs(i).Tag) > len(hs) {
			return nil, fmt.Errorf("region %s: entry %d has id %d, category %d and hours tag %d of %d",
				name, i, t.ID(i), t.Category(i), t.Attrs(i).Tag, len(hs))
		}
	}
	return &Region{Name: name, Version: version, Tree: t, Hours: hs}, nil
}

// ids returns the id lookup, sorting it on first use so that loading an
// index stays fast.
func (r *Region) ids() []uint32 {
	r.byIDOnce.Do(func() {
		byID := make([]uint32, r.Tree.Len())
		for i := range byID {
			byID[i] = uint32(i)
		}
		slices.SortFunc(byID, func(a, b uint32) int { return cmp.Compare(r.Tree.ID(int(a)), r.Tree.ID(int(b))) })
		r.byID = byID
	})
	return r.byID
}

// find returns the position of the entry with the id, or -1.
func (r *Region) find(id int64) int {
	byID := r.ids()
	i, ok := slices.BinarySearchFunc(byID, id, func(p uint32, id int64) int { return cmp.Compare(r.Tree.ID(int(p)), id) })
	if !ok {
		return -1
	}
	return int(byID[i])
}

func (r *Region) business(i int) nearby.Business {
	lat, lon := r.Tree.Point(i)
	a := r.Tree.Attrs(i)
	b := nearby.Business{
		ID: r.Tree.ID(i), Name: r.Tree.Name(i), Category: nearby.Category(r.Tree.Category(i)), Lat: lat, Lon: lon,
		Price: nearby.Price(a.Price), Rating: nearby.Rating(a.Rating), ReviewCount: a.Reviews,
	}
	if a.Tag > 0 {
		b.Hours = r.Hours[a.Tag-1]
	}
	return b
}

// Index is a consistent set of regions, immutable once made: the regions
// this node holds and, in a cluster, the regions it asks other nodes for.
//
// Live changes since the seeds (see Follower) ride along as deltas of the
// local regions and widened bounds of the remote ones: each batch of
// changes makes a new Index sharing the seeds' trees, so every search reads
// one consistent state. The version names the seeds only: live changes do
// not invalidate cursors.
type Index struct {
	Version string // changes whenever any region's seed changes
	Regions []*Region
	Remote  []RemoteRegion
	count   int
	deltas  []*Delta // parallel to Regions, or nil
	live    string   // names the live changes applied (a Follower's tag and batch), "" for none
	parts   []part   // the trees a search reads
}

// RemoteRegion is a region held by other nodes, as the manifest describes it.
type RemoteRegion struct {
	Name    string
	Version uint64
	Count   int
	Bounds  geo.Rect // of its entries; a query whose circle misses it skips it
	// Live, if set, bounds the places of businesses created or moved into
	// the region since its seed: a query that reaches it asks the region
	// even if it misses Bounds.
	Live *geo.Rect
}

// NewIndex makes an index of local regions.
func NewIndex(regions ...*Region) *Index { return NewClusterIndex(regions, nil) }

// NewClusterIndex makes an index of local regions and of remote ones that
// other nodes hold.
func NewClusterIndex(regions []*Region, remote []RemoteRegion) *Index {
	ix := &Index{Regions: regions, Remote: remote}
	var vs []regionVersion
	for _, r := range regions {
		vs = append(vs, regionVersion{r.Name, r.Version})
	}
	for _, r := range remote {
		vs = append(vs, regionVersion{r.Name, r.Version})
	}
	ix.Version = versionOf(vs)
	ix.init()
	return ix
}

type regionVersion struct {
	name    string
	version uint64
}

// versionOf names a set of region versions: the newest version, followed by
// a hash of all (name, version) pairs when they differ, so any change to any
// region changes it. The pairs are hashed in name order (vs is sorted), so
// every node of a cluster, whichever regions it holds, names the same set
// alike and takes the others' cursors.
func versionOf(vs []regionVersion) string {
	slices.SortFunc(vs, func(a, b regionVersion) int { return cmp.Compare(a.name, b.name) })
	var newest uint64
	same := true
	h := fnv.New64a()
	for _, v := range vs {
		newest = max(newest, v.version)
		same = same && v.version == vs[0].version
		fmt.Fprintf(h, "%s=%d;", v.name, v.version)
	}
	s := strconv.FormatUint(newest, 10)
	if !same {
		s += "-" + strconv.FormatUint(h.Sum64()&0xffffffff, 16)
	}
	return s
}

// Len returns the number of businesses in the index.
func (ix *Index) Len() int { return ix.count }

// Shards asks other nodes for the regions they hold.
type Shards interface {
	// Shard returns the region's best q.Limit hits after the cursor.
	Shard(ctx context.Context, region string, q nearby.SearchQuery, after *nearby.Cursor) (*nearby.ShardAnswer, error)
	// Area returns the region's best q.Limit matches of an area search
	// after the cursor, and its total.
	Area(ctx context.Context, region string, q nearby.AreaQuery, after *nearby.Cursor) (*nearby.ShardAnswer, error)
	// Business looks an id up in the region.
	Business(ctx context.Context, region string, id int64) (*nearby.Business, error)
	// Density returns the region's density grid, in Counts.
	Density(ctx context.Context, region string, g nearby.DensityGrid) (*nearby.ShardAnswer, error)
}

// Engine serves nearby searches from its current index. The zero Engine has
// no index and answers EUNAVAILABLE until one is swapped in. Without Shards,
// remote regions are reported missing.
type Engine struct {
	Shards Shards
	cur    atomic.Pointer[Index]
}

var (
	_ nearby.SearchService = (*Engine)(nil)
	_ nearby.ShardService  = (*Engine)(nil)
)

// Swap makes ix the current index and returns the previous one.
func (e *Engine) Swap(ix *Index) *Index { return e.cur.Swap(ix) }

// Current returns the current index, or nil.
func (e *Engine) Current() *Index { return e.cur.Load() }

// State returns the current index's State and Version: what a cache of
// its answers is keyed and checked by. The state is "" (nothing to cache)
// before an index is loaded, and once live changes apply to an index with
// remote regions: the other nodes apply them in their own time, and the
// state does not say which of theirs an answer holds.
func (e *Engine) State() (state, version string) {
	ix := e.cur.Load()
	switch {
	case ix == nil:
		return "", ""
	case ix.live != "" && len(ix.Remote) > 0:
		return "", ix.Version
	}
	return ix.State(), ix.Version
}

// candidate is a hit from a local region (region set) or a remote one.
type candidate struct {
	distanceM float64
	id        int64
	rating    nearby.Rating
	region    *Region
	index     int
	remote    *nearby.SearchResult
}

func (c *candidate) result() nearby.SearchResult {
	if c.remote != nil {
		return *c.remote
	}
	return nearby.SearchResult{Business: c.region.business(c.index), DistanceM: c.distanceM}
}

func cmpCandidates(a, b candidate) int {
	if c := cmp.Compare(a.distanceM, b.distanceM); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// cmpRated orders by rating, highest first, then as cmpCandidates.
func cmpRated(a, b candidate) int {
	if c := cmp.Compare(b.rating, a.rating); c != 0 {
		return c
	}
	return cmpCandidates(a, b)
}

// cmpIDs orders by id.
func cmpIDs(a, b candidate) int { return cmp.Compare(a.id, b.id) }

// candidates collects a search's hits as sorted runs, one per tree or
// remote answer, and merges them.
type candidates struct {
	all    []candidate
	starts []int // where each run begins in all
	heads  []int // while merging, the next candidate of each run
	out    []candidate
}

var candidateBufs = sync.Pool{New: func() any { return new(candidates) }}

// run starts a new sorted run.
func (c *candidates) run() { c.starts = append(c.starts, len(c.all)) }

// best returns the first n candidates of the runs' merge in order: one
// pass over the heads of the runs, which are few.
func (c *candidates) best(n int, order func(a, b candidate) int) []candidate {
	if len(c.starts) <= 1 {
		return c.all[:min(n, len(c.all))]
	}
	c.heads = append(c.heads[:0], c.starts...)
	heads := c.heads
	end := func(r int) int {
		if r+1 < len(c.starts) {
			return c.starts[r+1]
		}
		return len(c.all)
	}
	c.out = c.out[:0]
	for len(c.out) < n {
		m := -1
		for r, h := range heads {
			if h < end(r) && (m < 0 || order(c.all[h], c.all[heads[m]]) < 0) {
				m = r
			}
		}
		if m < 0 {
			break
		}
		c.out = append(c.out, c.all[heads[m]])
		heads[m]++
	}
	return c.out
}

// reset drops references to remote answers before pooling.
func (c *candidates) reset() {
	clear(c.all)
	clear(c.out)
	c.all, c.out, c.starts = c.all[:0], c.out[:0], c.starts[:0]
}

// Nearby implements nearby.SearchService. Each region, local or remote,
// returns its best Limit+1 hits after the cursor; their merge in (distance,
// id) order is exactly the global answer, and the extra hit tells whether a
// next page exists. A remote region no replica answers for is left out and
// named in Missing, with Partial set: the answer is then exact for the
// regions present.
func (e *Engine) Nearby(ctx context.Context, q nearby.SearchQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	ix := e.cur.Load()
	if ix == nil {
		return nil, nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	remote := e.askRemote(ctx, ix, q, after)

	versions := ix.Version
	if len(ix.Remote) > 0 {
		versions = remote.version(ix)
	}
	m, err := newMatcher(q.Categories, q.Filters)
	if err != nil {
		return nil, err
	}
	if after != nil {
		if after.IndexVersion != versions {
			return nil, nearby.Errorf(nearby.ECONFLICT, "cursor is for index version %s, now serving %s: start the search again", after.IndexVersion, versions)
		}
		m.f.After = &quadtree.Hit{DistanceM: after.DistanceM, ID: after.ID, Rating: uint8(after.Rating)}
	}
	c := candidateBufs.Get().(*candidates)
	defer func() { c.reset(); candidateBufs.Put(c) }()
	if err := searchParts(ix.parts, q, q.Limit+1, m, func(p part, h quadtree.Hit, first bool) {
		if first {
			c.run()
		}
		c.all = append(c.all, candidate{distanceM: h.DistanceM, id: h.ID, rating: nearby.Rating(h.Rating), region: p.region, index: h.Index})
	}); err != nil {
		return nil, err
	}
	page := &nearby.SearchPage{IndexVersion: versions, Missing: remote.missing, Partial: len(remote.missing) > 0}
	for _, a := range remote.answers {
		c.run()
		for i := range a.Results {
			res := &a.Results[i]
			c.all = append(c.all, candidate{distanceM: res.DistanceM, id: res.ID, rating: res.Rating, remote: res})
		}
		page.Total += a.Total
		page.TotalCapped = page.TotalCapped || a.TotalCapped
	}
	order := cmpCandidates
	if q.Sort == nearby.SortRating {
		order = cmpRated
	}
	merged := c.best(q.Limit+1, order)
	if q.Total {
		n, capped, err := m.count(ix.parts, q)
		if err != nil {
			return nil, err
		}
		page.Total += n
		page.TotalCapped = page.TotalCapped || capped
		if page.Total >= nearby.MaxTotal {
			page.Total, page.TotalCapped = nearby.MaxTotal, true
		}
	}
	n := min(len(merged), q.Limit)
	page.Results = make([]nearby.SearchResult, n)
	for i := range merged[:n] {
		page.Results[i] = merged[i].result()
	}
	if len(merged) > q.Limit {
		last := merged[n-1]
		page.Next = &nearby.Cursor{IndexVersion: versions, DistanceM: last.distanceM, ID: last.id}
		if q.Sort == nearby.SortRating {
			page.Next.Rating = last.rating
		}
	}
	return page, nil
}

// remoteAnswers are the remote regions' parts of one search.
type remoteAnswers struct {
	answers []*nearby.ShardAnswer
	missing []string
}

// version is the index version of a search that used these answers: the
// versions remote nodes answered with, the manifest's for the others.
func (ra remoteAnswers) version(ix *Index) string {
	got := map[string]uint64{}
	for _, a := range ra.answers {
		got[a.Region] = a.Version
	}
	vs := make([]regionVersion, 0, len(ix.Regions)+len(ix.Remote))
	for _, r := range ix.Regions {
		vs = append(vs, regionVersion{r.Name, r.Version})
	}
	for _, r := range ix.Remote {
		v, ok := got[r.Name]
		if !ok {
			v = r.Version
		}
		vs = append(vs, regionVersion{r.Name, v})
	}
	return versionOf(vs)
}

// askRemote asks, in parallel, every remote region the query's circle can
// reach for its best Limit+1 hits after the cursor.
func (e *Engine) askRemote(ctx context.Context, ix *Index, q nearby.SearchQuery, after *nearby.Cursor) remoteAnswers {
	if len(ix.Remote) == 0 {
		return remoteAnswers{}
	}
	o := geo.NewOrigin(q.Lat, q.Lon)
	bound := geo.HavBound(q.RadiusM)
	var touched []string
	for i := range ix.Remote {
		if r := &ix.Remote[i]; r.reaches(&o, bound) {
			touched = append(touched, r.Name)
		}
	}
	sq := q
	sq.Limit = q.Limit + 1
	return e.askRegions(touched, func(region string) (*nearby.ShardAnswer, error) {
		return e.Shards.Shard(ctx, region, sq, after)
	})
}

// askRegions asks every region, in parallel; those that do not answer (all
// of them without Shards) are missing.
func (e *Engine) askRegions(regions []string, ask func(region string) (*nearby.ShardAnswer, error)) remoteAnswers {
	var ra remoteAnswers
	if e.Shards == nil {
		ra.missing = regions
		return ra
	}
	answers := make([]*nearby.ShardAnswer, len(regions))
	var wg sync.WaitGroup
	for i, name := range regions {
		wg.Go(func() {
			if a, err := ask(name); err == nil {
				answers[i] = a
			}
		})
	}
	wg.Wait()
	for i, a := range answers {
		if a == nil {
			ra.missing = append(ra.missing, regions[i])
		} else {
			ra.answers = append(ra.answers, a)
		}
	}
	return ra
}

// Shard implements nearby.ShardService: one local region's best q.Limit
// hits after the cursor, for another node's search. q.Limit may be up to
// nearby.MaxLimit+1.
func (e *Engine) Shard(_ context.Context, region string, q nearby.SearchQuery, after *nearby.Cursor) (*nearby.ShardAnswer, error) {
	limit := q.Limit
	q.Limit = min(limit, nearby.MaxLimit)
	if err := q.Validate(); err != nil || limit > nearby.MaxLimit+1 {
		return nil, nearby.Errorf(nearby.EINVALID, "invalid shard query")
	}
	ix, i, err := e.localRegion(region)
	if err != nil {
		return nil, err
	}
	r := ix.Regions[i]
	m, err := newMatcher(q.Categories, q.Filters)
	if err != nil {
		return nil, err
	}
	if after != nil {
		m.f.After = &quadtree.Hit{DistanceM: after.DistanceM, ID: after.ID, Rating: uint8(after.Rating)}
	}
	parts := ix.regionParts(i)
	c := candidateBufs.Get().(*candidates)
	defer func() { c.reset(); candidateBufs.Put(c) }()
	if err := searchParts(parts, q, limit, m, func(p part, h quadtree.Hit, first bool) {
		if first {
			c.run()
		}
		c.all = append(c.all, candidate{distanceM: h.DistanceM, id: h.ID, rating: nearby.Rating(h.Rating), region: p.region, index: h.Index})
	}); err != nil {
		return nil, err
	}
	order := cmpCandidates
	if q.Sort == nearby.SortRating {
		order = cmpRated
	}
	best := c.best(limit, order)
	a := &nearby.ShardAnswer{Region: r.Name, Version: r.Version, Results: make([]nearby.SearchResult, len(best))}
	for i := range best {
		a.Results[i] = best[i].result()
	}
	if q.Total {
		if a.Total, a.TotalCapped, err = m.count(parts, q); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Business implements nearby.SearchService from the index's summaries,
// asking other nodes for the regions it does not hold.
func (e *Engine) Business(ctx context.Context, id int64) (*nearby.Business, error) {
	ix := e.cur.Load()
	if ix == nil {
		return nil, nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	for i := range ix.Regions {
		if b, ok := ix.lookup(i, id); ok {
			return &b, nil
		}
	}
	var unavailable error
	if e.Shards != nil && len(ix.Remote) > 0 {
		// Every remote region is asked at once (an id does not say where
		// it lies): a region whose replicas hang costs the lookup one
		// shard timeout, not one per region after it. The first to find
		// it answers; the others are called off.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type found struct {
			b   *nearby.Business
			err error
		}
		answers := make(chan found, len(ix.Remote))
		for _, r := range ix.Remote {
			go func() {
				b, err := e.Shards.Business(ctx, r.Name, id)
				answers <- found{b, err}
			}()
		}
		for range ix.Remote {
			a := <-answers
			if a.err == nil {
				return a.b, nil
			}
			if nearby.ErrorCode(a.err) != nearby.ENOTFOUND {
				unavailable = a.err
			}
		}
	}
	if unavailable != nil || len(ix.Remote) > 0 && e.Shards == nil {
		return nil, nearby.Errorf(nearby.EUNAVAILABLE, "business %d not found here, and a region that may hold it did not answer", id)
	}
	return nil, nearby.Errorf(nearby.ENOTFOUND, "business %d not found", id)
}

// LocalBusiness looks an id up in the regions this node holds.
func (e *Engine) LocalBusiness(_ context.Context, region string, id int64) (*nearby.Business, error) {
	ix, i, err := e.localRegion(region)
	if err != nil {
		return nil, err
	}
	if b, ok := ix.lookup(i, id); ok {
		return &b, nil
	}
	return nil, nearby.Errorf(nearby.ENOTFOUND, "business %d not found", id)
}

// localRegion returns the current index and the position in it of a
// region this node holds, for the shard API: EUNAVAILABLE before an index
// is loaded or when the region is held elsewhere (a stale cluster map), so
// that the asking node tries another replica.
func (e *Engine) localRegion(region string) (*Index, int, error) {
	ix := e.cur.Load()
	if ix == nil {
		return nil, 0, nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	i := slices.IndexFunc(ix.Regions, func(r *Region) bool { return r.Name == region })
	if i < 0 {
		return nil, 0, nearby.Errorf(nearby.EUNAVAILABLE, "region %q is not held by this node (stale cluster map?); ask another replica", region)
	}
	return ix, i, nil
}

// Stats implements nearby.SearchService.
func (e *Engine) Stats() (nearby.IndexStats, bool) {
	ix := e.cur.Load()
	if ix == nil {
		return nearby.IndexStats{}, false
	}
	s := nearby.IndexStats{Version: ix.Version, Count: ix.count}
	for i, r := range ix.Regions {
		rs := nearby.RegionStats{
			Name: r.Name, Version: r.Version, Count: r.Tree.Len(),
			IndexSize: r.Tree.IndexBytes() + 4*r.Tree.Len(), ColdSize: r.Tree.ColdBytes(),
		}
		if d := ix.delta(i); d != nil {
			rs.Count -= d.nHidden
			rs.Live = d.Len()
			if d.live != nil {
				rs.Count += d.live.Tree.Len()
				rs.IndexSize += d.live.Tree.IndexBytes() + 4*d.live.Tree.Len()
				rs.ColdSize += d.live.Tree.ColdBytes()
			}
			rs.IndexSize += 8 * len(d.hidden)
		}
		s.Regions = append(s.Regions, rs)
	}
	for _, r := range ix.Remote {
		s.Remote = append(s.Remote, nearby.RegionStats{Name: r.Name, Version: r.Version, Count: r.Count})
	}
	return s, true
}
