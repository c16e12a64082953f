package quadtree

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/nearby/nearby/geo"
)

// Hit is an entry found by a query.
type Hit struct {
	Index     int     // position of the entry in the tree, for ID, Point, Name
	ID        int64   // the entry's id
	DistanceM float64 // great-circle distance from the query point in metres
}

// Less reports whether h sorts before o: nearer first, ties by smaller id.
func (h Hit) Less(o Hit) bool {
	return h.DistanceM < o.DistanceM || h.DistanceM == o.DistanceM && h.ID < o.ID
}

// Filter restricts which entries a query reports. The zero Filter passes all.
type Filter struct {
	// Categories is a bit set of wanted categories (bit c for category c);
	// 0 means every category.
	Categories uint32
	// After, if set, passes only entries that sort strictly after it in
	// (distance, id) order: the next page of a Nearest query.
	After *Hit
	// Skip, if set, is a bit set of entry positions that are not reported:
	// entry i is skipped when Skip[i/64] has bit i%64 set. It may be shorter
	// than the tree. A live delta uses it to hide entries that changed
	// since the tree was built.
	Skip []uint64
}

func (f Filter) passes(h Hit) bool {
	return f.After == nil || f.After.Less(h)
}

// skips reports whether f.Skip hides entry i.
func (f *Filter) skips(i uint32) bool {
	w := int(i >> 6)
	return w < len(f.Skip) && f.Skip[w]&(1<<(i&63)) != 0
}

// searcher is the per-query scratch space, pooled so queries do not allocate.
type searcher struct {
	heap  []pending // nodes to visit, a min-heap by bound
	best  []Hit     // the k best so far, a max-heap by (distance, id)
	stack []uint32  // nodes to visit in Within and InBox
}

// pending is a node to visit with a lower bound of its haversine.
type pending struct {
	bound float64
	node  uint32
}

var searchers = sync.Pool{New: func() any { return new(searcher) }}

func checkCircle(lat, lon, radiusM float64) error {
	if !geo.Valid(lat, lon) {
		return fmt.Errorf("%w: lat %v lon %v", ErrInvalidPoint, lat, lon)
	}
	if !(radiusM > 0) || math.IsInf(radiusM, 0) {
		return fmt.Errorf("%w: %v m", ErrInvalidRadius, radiusM)
	}
	return nil
}

// Nearest appends to dst the k entries nearest to lat, lon degrees within
// radiusM metres (distance ≤ radiusM) that pass f, nearest first, ties by id.
// The answer equals a brute-force scan that measures every entry with
// geo.Distance. Bad arguments give an error wrapping ErrInvalidPoint,
// ErrInvalidRadius or ErrInvalidK.
func (t *Tree) Nearest(dst []Hit, lat, lon, radiusM float64, k int, f Filter) ([]Hit, error) {
	if err := checkCircle(lat, lon, radiusM); err != nil {
		return dst, err
	}
	if k <= 0 {
		return dst, fmt.Errorf("%w: %d", ErrInvalidK, k)
	}
	if len(t.nodes) == 0 {
		return dst, nil
	}
	s := searchers.Get().(*searcher)
	defer searchers.Put(s)
	s.heap, s.best = s.heap[:0], s.best[:0]
	k = min(k, len(t.ids))

	o := geo.NewOrigin(lat, lon)
	radiusHav := geo.HavBound(radiusM)
	bound := radiusHav // no entry with a larger haversine can enter the answer
	mask := f.Categories

	s.push(pending{bound: t.nodeBound(&o, 0), node: 0})
	for len(s.heap) > 0 {
		p := s.pop()
		if p.bound > bound {
			break
		}
		n := &t.nodes[p.node]
		if n.child != 0 {
			for j := n.child; ; j++ {
				c := &t.nodes[j]
				if mask == 0 || c.cats&mask != 0 {
					if b := t.nodeBound(&o, j); b <= bound {
						s.push(pending{bound: b, node: j})
					}
				}
				if c.hi == n.hi {
					break
				}
			}
			continue
		}
		for i := n.lo; i < n.hi; i++ {
			if mask != 0 && mask&(1<<t.cats[i]) == 0 || f.Skip != nil && f.skips(i) {
				continue
			}
			lat, lon := FromE7(t.pts[i].lat), FromE7(t.pts[i].lon)
			if o.HavLowerBound(lat, lon) > bound {
				continue
			}
			h := Hit{Index: int(i), ID: t.ids[i], DistanceM: o.Distance(lat, lon)}
			if h.DistanceM > radiusM || !f.passes(h) {
				continue
			}
			if len(s.best) < k {
				s.best = append(s.best, h)
				s.upBest(len(s.best) - 1)
			} else if h.Less(s.best[0]) {
				s.best[0] = h
				s.downBest(0)
			} else {
				continue
			}
			if len(s.best) == k {
				bound = min(radiusHav, geo.HavBound(s.best[0].DistanceM))
			}
		}
	}
	start := len(dst)
	dst = append(dst, s.best...)
	slices.SortFunc(dst[start:], func(a, b Hit) int {
		if a.Less(b) {
			return -1
		}
		if b.Less(a) {
			return 1
		}
		return 0
	})
	return dst, nil
}

// nodeBound is a lower bound of the haversine from o to node i's entries.
func (t *Tree) nodeBound(o *geo.Origin, i uint32) float64 {
	// Multiplying by 1e-7 may differ from FromE7 in the last bit; the
	// bound's margins absorb that, and it spares four divisions.
	n := &t.nodes[i]
	return o.RectHavLowerBound(float64(n.minLat)*1e-7, float64(n.minLon)*1e-7, float64(n.maxLat)*1e-7, float64(n.maxLon)*1e-7)
}

// Within calls fn for every entry within radiusM metres of lat, lon degrees
// (distance ≤ radiusM) that passes f's categories and Skip, in tree order,
// until fn returns false. It returns the number of entries passed to fn.
// f.After is ignored.
func (t *Tree) Within(lat, lon, radiusM float64, f Filter, fn func(Hit) bool) (int, error) {
	if err := checkCircle(lat, lon, radiusM); err != nil {
		return 0, err
	}
	o := geo.NewOrigin(lat, lon)
	bound := geo.HavBound(radiusM)
	count := 0
	t.walk(&f, func(i uint32) bool {
		return t.nodeBound(&o, i) <= bound
	}, func(i uint32) bool {
		lat, lon := FromE7(t.pts[i].lat), FromE7(t.pts[i].lon)
		if o.HavLowerBound(lat, lon) > bound {
			return true
		}
		d := o.Distance(lat, lon)
		if d > radiusM {
			return true
		}
		count++
		return fn(Hit{Index: int(i), ID: t.ids[i], DistanceM: d})
	})
	return count, nil
}

// InBox calls fn with the position of every entry inside r (edges included)
// that passes f's categories and Skip, in tree order, until fn returns false. r may
// cross the antimeridian (MinLon > MaxLon). It returns the number of entries
// passed to fn. f.After is ignored.
func (t *Tree) InBox(r geo.Rect, f Filter, fn func(i int) bool) (int, error) {
	if !r.Valid() {
		return 0, fmt.Errorf("%w: %+v", ErrInvalidRect, r)
	}
	count := 0
	for _, part := range r.Split() {
		// Nodes are pruned on a box one E7 unit wider than part, so rounding
		// cannot prune a node holding an entry that the exact test accepts.
		minLat, maxLat := ToE7(part.MinLat)-1, ToE7(part.MaxLat)+1
		minLon, maxLon := ToE7(part.MinLon)-1, ToE7(part.MaxLon)+1
		stopped := false
		t.walk(&f, func(i uint32) bool {
			n := &t.nodes[i]
			return n.maxLat >= minLat && n.minLat <= maxLat && n.maxLon >= minLon && n.minLon <= maxLon
		}, func(i uint32) bool {
			if !part.Contains(FromE7(t.pts[i].lat), FromE7(t.pts[i].lon)) {
				return true
			}
			count++
			stopped = !fn(int(i))
			return !stopped
		})
		if stopped {
			break
		}
	}
	return count, nil
}

// walk visits, depth first, the nodes that have a category of f's (all when
// it has none) and that visit accepts, and calls entry for each entry of the
// visited leaves that has a category of f's and that f does not skip, until
// entry returns false.
func (t *Tree) walk(f *Filter, visit func(node uint32) bool, entry func(i uint32) bool) {
	if len(t.nodes) == 0 {
		return
	}
	s := searchers.Get().(*searcher)
	defer searchers.Put(s)
	mask := f.Categories
	s.stack = append(s.stack[:0], 0)
	for len(s.stack) > 0 {
		i := s.stack[len(s.stack)-1]
		s.stack = s.stack[:len(s.stack)-1]
		n := &t.nodes[i]
		if mask != 0 && n.cats&mask == 0 || !visit(i) {
			continue
		}
		if n.child != 0 {
			for j := n.child; ; j++ {
				s.stack = append(s.stack, j)
				if t.nodes[j].hi == n.hi {
					break
				}
			}
			continue
		}
		for e := n.lo; e < n.hi; e++ {
			if mask != 0 && mask&(1<<t.cats[e]) == 0 || f.Skip != nil && f.skips(e) {
				continue
			}
			if !entry(e) {
				return
			}
		}
	}
}

func (s *searcher) push(p pending) {
	s.heap = append(s.heap, p)
	h := s.heap
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].bound <= h[i].bound {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

func (s *searcher) pop() pending {
	h := s.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && h[r].bound < h[l].bound {
			m = r
		}
		if h[i].bound <= h[m].bound {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	s.heap = h
	return top
}

// upBest and downBest keep best a max-heap: the worst hit at the top.
func (s *searcher) upBest(i int) {
	h := s.best
	for i > 0 {
		parent := (i - 1) / 2
		if !h[parent].Less(h[i]) {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

func (s *searcher) downBest(i int) {
	h := s.best
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && h[l].Less(h[r]) {
			m = r
		}
		if !h[i].Less(h[m]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
