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
	"github.com/nearby/nearby/quadtree"
)

// Region is one region's tree with an id lookup.
type Region struct {
	Name    string
	Version uint64
	Tree    *quadtree.Tree

	byIDOnce sync.Once
	byID     []uint32 // entry positions sorted by id, built on first use
}

// NewRegion wraps a built tree. It refuses trees with entries the API
// cannot serve: ids ≤ 0 or unknown categories.
func NewRegion(name string, version uint64, t *quadtree.Tree) (*Region, error) {
	for i := range t.Len() {
		if t.ID(i) <= 0 || !nearby.Category(t.Category(i)).Valid() {
			return nil, fmt.Errorf("region %s: entry %d has id %d and category %d", name, i, t.ID(i), t.Category(i))
		}
	}
	return &Region{Name: name, Version: version, Tree: t}, nil
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
	return nearby.Business{ID: r.Tree.ID(i), Name: r.Tree.Name(i), Category: nearby.Category(r.Tree.Category(i)), Lat: lat, Lon: lon}
}

// Index is a consistent set of regions, immutable once made.
type Index struct {
	Version string // changes whenever any region changes
	Regions []*Region
	count   int
}

// NewIndex makes an index of regions. Its version is the newest region
// version, followed by a hash of all (name, version) pairs when the regions
// were not all built at the same version.
func NewIndex(regions ...*Region) *Index {
	ix := &Index{Regions: regions}
	var newest uint64
	same := true
	h := fnv.New64a()
	for _, r := range regions {
		ix.count += r.Tree.Len()
		newest = max(newest, r.Version)
		same = same && r.Version == regions[0].Version
		fmt.Fprintf(h, "%s=%d;", r.Name, r.Version)
	}
	ix.Version = strconv.FormatUint(newest, 10)
	if !same {
		ix.Version += "-" + strconv.FormatUint(h.Sum64()&0xffffffff, 16)
	}
	return ix
}

// Len returns the number of businesses in the index.
func (ix *Index) Len() int { return ix.count }

// Engine serves nearby searches from its current index. The zero Engine has
// no index and answers EUNAVAILABLE until one is swapped in.
type Engine struct {
	cur atomic.Pointer[Index]
}

var _ nearby.SearchService = (*Engine)(nil)

// Swap makes ix the current index and returns the previous one.
func (e *Engine) Swap(ix *Index) *Index { return e.cur.Swap(ix) }

// Current returns the current index, or nil.
func (e *Engine) Current() *Index { return e.cur.Load() }

// regionHit is a hit and the region it came from.
type regionHit struct {
	quadtree.Hit
	region *Region
}

var hitBufs = sync.Pool{New: func() any { return new([]regionHit) }}

// Nearby implements nearby.SearchService. Each region's tree returns its
// best Limit+1 hits after the cursor; their merge in (distance, id) order is
// exactly the global answer, and the extra hit tells whether a next page
// exists.
func (e *Engine) Nearby(_ context.Context, q nearby.SearchQuery, after *nearby.Cursor) (*nearby.SearchPage, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	ix := e.cur.Load()
	if ix == nil {
		return nil, nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	f := quadtree.Filter{Categories: uint32(q.Categories)}
	if after != nil {
		if after.IndexVersion != ix.Version {
			return nil, nearby.Errorf(nearby.ECONFLICT, "cursor is for index version %s, now serving %s: start the search again", after.IndexVersion, ix.Version)
		}
		f.After = &quadtree.Hit{DistanceM: after.DistanceM, ID: after.ID}
	}
	bufp := hitBufs.Get().(*[]regionHit)
	defer hitBufs.Put(bufp)
	merged := (*bufp)[:0]
	var hits []quadtree.Hit
	for _, r := range ix.Regions {
		var err error
		hits, err = r.Tree.Nearest(hits[:0], q.Lat, q.Lon, q.RadiusM, q.Limit+1, f)
		if err != nil {
			return nil, nearby.Errorf(nearby.EINVALID, "%v", err)
		}
		for _, h := range hits {
			merged = append(merged, regionHit{Hit: h, region: r})
		}
	}
	if len(ix.Regions) > 1 {
		slices.SortFunc(merged, func(a, b regionHit) int {
			if a.Less(b.Hit) {
				return -1
			}
			if b.Less(a.Hit) {
				return 1
			}
			return 0
		})
	}
	page := &nearby.SearchPage{IndexVersion: ix.Version}
	n := min(len(merged), q.Limit)
	page.Results = make([]nearby.SearchResult, n)
	for i, h := range merged[:n] {
		page.Results[i] = nearby.SearchResult{Business: h.region.business(h.Index), DistanceM: h.DistanceM}
	}
	if len(merged) > q.Limit {
		last := merged[n-1]
		page.Next = &nearby.Cursor{IndexVersion: ix.Version, DistanceM: last.DistanceM, ID: last.ID}
	}
	*bufp = merged
	return page, nil
}

// Business implements nearby.SearchService from the index's summaries.
func (e *Engine) Business(_ context.Context, id int64) (*nearby.Business, error) {
	ix := e.cur.Load()
	if ix == nil {
		return nil, nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	for _, r := range ix.Regions {
		if i := r.find(id); i >= 0 {
			b := r.business(i)
			return &b, nil
		}
	}
	return nil, nearby.Errorf(nearby.ENOTFOUND, "business %d not found", id)
}

// Stats implements nearby.SearchService.
func (e *Engine) Stats() (nearby.IndexStats, bool) {
	ix := e.cur.Load()
	if ix == nil {
		return nearby.IndexStats{}, false
	}
	s := nearby.IndexStats{Version: ix.Version, Count: ix.count}
	for _, r := range ix.Regions {
		s.Regions = append(s.Regions, nearby.RegionStats{
			Name: r.Name, Version: r.Version, Count: r.Tree.Len(),
			IndexSize: r.Tree.IndexBytes() + 4*r.Tree.Len(), NameSize: r.Tree.NameBytes(),
		})
	}
	return s, true
}
