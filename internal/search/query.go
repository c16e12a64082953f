package search

import (
	"context"
	"slices"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/textmatch"
)

// matcher is a query's filters as the trees test them: categories, prices
// and the minimum rating on node summaries and entries, opening hours and
// the name on each entry that passes the rest.
type matcher struct {
	f      quadtree.Filter
	openAt time.Time
	name   textmatch.Query
	byName bool
}

func newMatcher(cats nearby.CategorySet, fl nearby.Filters) (*matcher, error) {
	m := &matcher{
		f:      quadtree.Filter{Categories: uint32(cats), Prices: uint8(fl.Prices), MinRating: uint8(fl.MinRating)},
		openAt: fl.OpenAt,
	}
	if fl.Name != "" {
		q, err := textmatch.Compile(fl.Name)
		if err != nil {
			return nil, nearby.InvalidParams([]nearby.InvalidParam{{Name: "q", Reason: err.Error()}})
		}
		m.name, m.byName = q, true
	}
	return m, nil
}

// filter returns the tree filter for part p: the query's, p's skip set, and
// a last test of opening hours and name. Whether a schedule is open at the
// query's instant is worked out once per schedule per query (businesses
// share a few thousand schedules), and names are folded only for entries
// that passed every other test.
func (m *matcher) filter(p part) quadtree.Filter {
	f := m.f
	f.Skip = p.skip
	if m.openAt.IsZero() && !m.byName {
		return f
	}
	r := p.region
	var open []int8 // per schedule: 0 not worked out yet, 1 open, -1 closed
	if !m.openAt.IsZero() {
		open = make([]int8, len(r.Hours))
	}
	f.Accept = func(i int) bool {
		if open != nil {
			tag := r.Tree.Attrs(i).Tag
			if tag == 0 || int(tag) > len(open) {
				return false // hours unknown: never open
			}
			o := &open[tag-1]
			if *o == 0 {
				*o = -1
				if r.Hours[tag-1].OpenAt(m.openAt) {
					*o = 1
				}
			}
			if *o < 0 {
				return false
			}
		}
		return !m.byName || m.name.MatchName(r.Tree.Name(i))
	}
	return f
}

// count counts the matches of m within the query's circle over the parts,
// up to nearby.MaxTotal; capped says it stopped there.
func (m *matcher) count(parts []part, q nearby.SearchQuery) (total int, capped bool, err error) {
	for _, p := range parts {
		n, err := p.region.Tree.CountWithin(q.Lat, q.Lon, q.RadiusM, m.filter(p), nearby.MaxTotal-total)
		if err != nil {
			return 0, false, nearby.Errorf(nearby.EINVALID, "%v", err)
		}
		if total += n; total >= nearby.MaxTotal {
			return nearby.MaxTotal, true, nil
		}
	}
	return total, false, nil
}

// Area implements nearby.SearchService: the businesses inside a box or a
// polygon that pass the filters, by id or by distance from the box's
// centre, a page after the cursor. Every match in the area is visited (so
// the total is exact), keeping the best Limit+1 in a bounded heap: the cost
// grows with the matches in the area, not with the index. Remote regions
// the area reaches answer their part (ShardArea) and are merged like the
// nearby search's; one no replica answers for is named in Missing.
func (e *Engine) Area(ctx context.Context, q nearby.AreaQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	ix := e.cur.Load()
	if ix == nil {
		return nil, nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	m, err := newMatcher(q.Categories, q.Filters)
	if err != nil {
		return nil, err
	}
	remote := e.askRemoteArea(ctx, ix, q, after)
	versions := ix.Version
	if len(ix.Remote) > 0 {
		versions = remote.version(ix)
	}
	if after != nil && after.IndexVersion != versions {
		return nil, nearby.Errorf(nearby.ECONFLICT, "cursor is for index version %s, now serving %s: start the search again", after.IndexVersion, versions)
	}
	page := &nearby.SearchPage{IndexVersion: versions, Missing: remote.missing, Partial: len(remote.missing) > 0}
	best, total, err := searchArea(ix.parts, q, q.Limit+1, m, after)
	if err != nil {
		return nil, err
	}
	page.Total = total
	for _, a := range remote.answers {
		for i := range a.Results {
			res := &a.Results[i]
			best.offer(candidate{distanceM: res.DistanceM, id: res.ID, remote: res})
		}
		page.Total += a.Total
	}
	slices.SortFunc(best.cs, best.order)
	n := min(len(best.cs), q.Limit)
	page.Results = make([]nearby.SearchResult, n)
	for i := range best.cs[:n] {
		page.Results[i] = best.cs[i].result()
	}
	if len(best.cs) > q.Limit {
		last := best.cs[n-1]
		page.Next = &nearby.Cursor{IndexVersion: versions, DistanceM: last.distanceM, ID: last.id}
	}
	return page, nil
}

// ShardArea implements nearby.ShardService: one local region's best
// q.Limit matches of an area search after the cursor, and its total, for
// another node's search. q.Limit may be up to nearby.MaxLimit+1.
func (e *Engine) ShardArea(_ context.Context, region string, q nearby.AreaQuery, after *nearby.Cursor) (*nearby.ShardAnswer, error) {
	limit := q.Limit
	q.Limit = min(limit, nearby.MaxLimit)
	if err := q.Validate(); err != nil || limit > nearby.MaxLimit+1 {
		return nil, nearby.Errorf(nearby.EINVALID, "invalid shard area query")
	}
	ix, i, err := e.localRegion(region)
	if err != nil {
		return nil, err
	}
	m, err := newMatcher(q.Categories, q.Filters)
	if err != nil {
		return nil, err
	}
	best, total, err := searchArea(ix.regionParts(i), q, limit, m, after)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(best.cs, best.order)
	a := &nearby.ShardAnswer{Region: region, Version: ix.Regions[i].Version, Results: make([]nearby.SearchResult, len(best.cs)), Total: total}
	for j := range best.cs {
		a.Results[j] = best.cs[j].result()
	}
	return a, nil
}

// searchArea visits every match of q in the parts and keeps the best k
// after the cursor in the query's order; total counts them all.
func searchArea(parts []part, q nearby.AreaQuery, k int, m *matcher, after *nearby.Cursor) (best *boundedHeap, total int, err error) {
	best = &boundedHeap{k: k, order: cmpIDs}
	var cLat, cLon float64
	if q.ByDistance {
		best.order = cmpCandidates
		cLat, cLon = q.Box.Centre()
	}
	var shape quadtree.Polygon // q.Shape, indexed once for all the parts
	for _, p := range parts {
		t := p.region.Tree
		if q.Shape != nil && shape == nil && t.Len() > 0 {
			shape = q.Shape.Index()
		}
		visit := func(i int) bool {
			total++
			c := candidate{id: t.ID(i), region: p.region, index: i}
			if q.ByDistance {
				lat, lon := t.Point(i)
				c.distanceM = geo.Distance(cLat, cLon, lat, lon)
			}
			if after == nil || best.order(candidate{distanceM: after.DistanceM, id: after.ID}, c) < 0 {
				best.offer(c)
			}
			return true
		}
		f := m.filter(p)
		if q.Shape != nil {
			if shape == nil {
				continue // an empty tree
			}
			_, err = t.InPolygon(shape, f, visit)
		} else {
			_, err = t.InBox(q.Box, f, visit)
		}
		if err != nil {
			return nil, 0, nearby.Errorf(nearby.EINVALID, "%v", err)
		}
	}
	return best, total, nil
}

// askRemoteArea asks, in parallel, every remote region the area reaches
// for its best Limit+1 matches after the cursor.
func (e *Engine) askRemoteArea(ctx context.Context, ix *Index, q nearby.AreaQuery, after *nearby.Cursor) remoteAnswers {
	bounds := q.Box.Split()
	if q.Shape != nil {
		bounds = []geo.Rect{q.Shape.Bounds()}
	}
	var touched []string
	for i := range ix.Remote {
		if r := &ix.Remote[i]; r.overlaps(bounds) {
			touched = append(touched, r.Name)
		}
	}
	sq := q
	sq.Limit = q.Limit + 1
	return e.askRegions(touched, func(region string) (*nearby.ShardAnswer, error) {
		return e.Shards.Area(ctx, region, sq, after)
	})
}

// overlaps reports whether any of rects meets the region's entries or live
// changes.
func (r *RemoteRegion) overlaps(rects []geo.Rect) bool {
	meets := func(a geo.Rect) bool {
		for _, b := range rects {
			if a.MinLat <= b.MaxLat && b.MinLat <= a.MaxLat && a.MinLon <= b.MaxLon && b.MinLon <= a.MaxLon {
				return true
			}
		}
		return false
	}
	return r.Count > 0 && meets(r.Bounds) || r.Live != nil && meets(*r.Live)
}

// boundedHeap keeps the k best candidates offered, in a max-heap by order
// (the worst at the top).
type boundedHeap struct {
	k     int
	order func(a, b candidate) int
	cs    []candidate
}

func (h *boundedHeap) offer(c candidate) {
	if len(h.cs) < h.k {
		h.cs = append(h.cs, c)
		for i := len(h.cs) - 1; i > 0; {
			p := (i - 1) / 2
			if h.order(h.cs[p], h.cs[i]) >= 0 {
				break
			}
			h.cs[p], h.cs[i] = h.cs[i], h.cs[p]
			i = p
		}
		return
	}
	if h.order(c, h.cs[0]) >= 0 {
		return
	}
	h.cs[0] = c
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(h.cs) && h.order(h.cs[l], h.cs[m]) > 0 {
			m = l
		}
		if r := l + 1; r < len(h.cs) && h.order(h.cs[r], h.cs[m]) > 0 {
			m = r
		}
		if m == i {
			return
		}
		h.cs[i], h.cs[m] = h.cs[m], h.cs[i]
		i = m
	}
}
