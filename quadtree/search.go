package quadtree

import (
	"fmt"
	"math"
	"sync"

	"github.com/nearby/nearby/geo"
)

// Hit is an entry found by a query.
type Hit struct {
	Index     int     // position of the entry in the tree, for ID, Point, Name, Attrs
	ID        int64   // the entry's id
	DistanceM float64 // great-circle distance from the query point in metres
	Rating    uint8   // the entry's Attrs.Rating
}

// Less reports whether h sorts before o in Nearest's order: nearer first,
// ties by smaller id.
func (h Hit) Less(o Hit) bool {
	return h.DistanceM < o.DistanceM || h.DistanceM == o.DistanceM && h.ID < o.ID
}

// LessByRating reports whether h sorts before o in BestRated's order: higher
// Rating first (so unrated entries last), then nearer, then smaller id.
func (h Hit) LessByRating(o Hit) bool {
	return h.Rating > o.Rating || h.Rating == o.Rating && h.Less(o)
}

// Filter restricts which entries a query reports. The zero Filter passes all.
// Categories, Prices and MinRating prune whole subtrees through the
// summaries kept on every node, so a selective filter skips the subtrees
// without a match instead of scanning them.
type Filter struct {
	// Categories is a bit set of wanted categories (bit c for category c);
	// 0 means every category.
	Categories uint32
	// Prices is a bit set of wanted price levels (bit p for level p, 1 ≤ p
	// ≤ MaxPrice); 0 means any. Entries without a price (Price 0) pass only
	// when Prices is 0.
	Prices uint8
	// MinRating, if not 0, passes only entries with Rating ≥ MinRating, so
	// never unrated ones.
	MinRating uint8
	// After, if set, passes only entries that sort strictly after it in the
	// query's order: the next page of a Nearest query (Hit.Less) or of a
	// BestRated query (Hit.LessByRating). Within, InBox and InPolygon ignore
	// it.
	After *Hit
	// Skip, if set, is a bit set of entry positions that are not reported:
	// entry i is skipped when Skip[i/64] has bit i%64 set. It may be shorter
	// than the tree. A live delta uses it to hide entries that changed
	// since the tree was built.
	Skip []uint64
	// Accept, if set, is the last test of an entry, for what the tree does
	// not know (opening hours by Attrs.Tag, a name match): it is called, on
	// the query's goroutine, only for entries in the query's geometry that
	// pass every other test, and by Nearest and BestRated only for those
	// that would enter the answer so far.
	Accept func(i int) bool
}

// cut is a Filter prepared for a query. Its masks have every bit set when
// the Filter does not restrict, so testing a node needs no branches.
type cut struct {
	cats      uint32
	prices    uint8
	minRating uint8
	attrs     bool // whether entries are tested on cats, prices and minRating
	test      bool // whether drops has anything to test
	skip      []uint64
	accept    func(int) bool
}

func (f *Filter) prepare() cut {
	c := cut{cats: f.Categories, prices: f.Prices &^ 1, minRating: f.MinRating, skip: f.Skip, accept: f.Accept}
	if f.Categories == 0 {
		c.cats = math.MaxUint32
	}
	if f.Prices == 0 {
		c.prices = math.MaxUint8
	}
	c.attrs = f.Categories != 0 || f.Prices != 0 || f.MinRating != 0
	c.test = c.attrs || f.Skip != nil
	return c
}

// node reports whether some entry below n may pass c's attribute tests.
func (c *cut) node(n *node) bool {
	return n.cats&c.cats != 0 && n.prices&c.prices != 0 && n.maxRating >= c.minRating
}

// drops reports whether c's attribute tests or Skip drop entry i.
func (t *Tree) drops(c *cut, i uint32) bool {
	if c.attrs && (c.cats&(1<<t.cats[i]) == 0 || c.prices&(1<<t.prices[i]) == 0 || t.ratings[i] < c.minRating) {
		return true
	}
	w := int(i >> 6)
	return w < len(c.skip) && c.skip[w]&(1<<(i&63)) != 0
}

// searcher is the per-query scratch space, pooled so queries do not allocate.
type searcher struct {
	heap     []pending // nodes to visit, a min-heap by (rating desc, bound)
	best     []Hit     // the k best so far, a heap with the worst on top
	byRating bool      // best is in BestRated's order, not Nearest's
	stack    []uint32  // nodes to visit in walk
}

// pending is a node to visit: Nearest's by the lower bound of its
// haversine, BestRated's by its best rating first.
type pending struct {
	bound  float64
	node   uint32
	rating uint8 // 0 for Nearest; the node's maxRating for BestRated
}

// before orders the pending heap.
func (p pending) before(q pending) bool {
	return p.rating > q.rating || p.rating == q.rating && p.bound < q.bound
}

var searchers = sync.Pool{New: func() any { return new(searcher) }}

func checkQuery(lat, lon, radiusM float64, k int) error {
	if err := checkCircle(lat, lon, radiusM); err != nil {
		return err
	}
	if k <= 0 {
		return fmt.Errorf("%w: %d", ErrInvalidK, k)
	}
	return nil
}

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
	if err := checkQuery(lat, lon, radiusM, k); err != nil {
		return dst, err
	}
	if len(t.nodes) == 0 {
		return dst, nil
	}
	s := searchers.Get().(*searcher)
	defer searchers.Put(s)
	s.heap, s.best, s.byRating = s.heap[:0], s.best[:0], false
	k = min(k, t.Len())

	o := geo.NewOrigin(lat, lon)
	radiusHav := geo.HavBound(radiusM)
	bound := radiusHav // no entry with a larger haversine can enter the answer
	c := f.prepare()

	if c.node(&t.nodes[0]) {
		s.push(pending{bound: t.nodeBound(&o, 0), node: 0})
	}
	for len(s.heap) > 0 {
		p := s.pop()
		if p.bound > bound {
			break
		}
		n := &t.nodes[p.node]
		if n.child != 0 {
			for j := n.child; ; j++ {
				ch := &t.nodes[j]
				if c.node(ch) {
					if b := t.nodeBound(&o, j); b <= bound {
						s.push(pending{bound: b, node: j})
					}
				}
				if ch.hi == n.hi {
					break
				}
			}
			continue
		}
		for i := n.lo; i < n.hi; i++ {
			if c.test && t.drops(&c, i) {
				continue
			}
			lat, lon := FromE7(t.pts[i].lat), FromE7(t.pts[i].lon)
			if o.HavLowerBound(lat, lon) > bound {
				continue
			}
			h := Hit{Index: int(i), ID: t.ids.at(int(i)), DistanceM: o.Distance(lat, lon)}
			if h.DistanceM > radiusM || f.After != nil && !f.After.Less(h) ||
				len(s.best) == k && !h.Less(s.best[0]) ||
				c.accept != nil && !c.accept(int(i)) {
				continue
			}
			h.Rating = t.ratings[i]
			s.add(h, k)
			if len(s.best) == k {
				bound = min(radiusHav, geo.HavBound(s.best[0].DistanceM))
			}
		}
	}
	return s.sorted(dst), nil
}

// BestRated appends to dst the k entries within radiusM metres of lat, lon
// degrees (distance ≤ radiusM) that pass f with the highest Rating, in
// Hit.LessByRating's order: best rated first, ties by distance, then by id;
// unrated entries come last. f.After pages in that order. The answer equals
// a brute-force scan. Nodes are visited best rating first, then nearest
// first, and none is opened that cannot beat the k-th hit so far, so a
// query in a dense city reads little more than its answer. Bad arguments
// give the errors of Nearest.
func (t *Tree) BestRated(dst []Hit, lat, lon, radiusM float64, k int, f Filter) ([]Hit, error) {
	if err := checkQuery(lat, lon, radiusM, k); err != nil {
		return dst, err
	}
	if len(t.nodes) == 0 {
		return dst, nil
	}
	s := searchers.Get().(*searcher)
	defer searchers.Put(s)
	s.heap, s.best, s.byRating = s.heap[:0], s.best[:0], true
	k = min(k, t.Len())

	o := geo.NewOrigin(lat, lon)
	radiusHav := geo.HavBound(radiusM)
	c := f.prepare()
	// Once there are k hits, worst is the k-th and worstHav bounds the
	// haversine of its distance: a node or entry must beat it to count.
	var worst *Hit
	var worstHav float64
	mayBeat := func(rating uint8, hav float64) bool {
		return worst == nil || rating > worst.Rating || rating == worst.Rating && hav <= worstHav
	}

	if root := &t.nodes[0]; c.node(root) {
		s.push(pending{bound: t.nodeBound(&o, 0), node: 0, rating: root.maxRating})
	}
	for len(s.heap) > 0 {
		p := s.pop()
		if !mayBeat(p.rating, p.bound) {
			break // the rest of the heap sorts after p
		}
		n := &t.nodes[p.node]
		if n.child != 0 {
			for j := n.child; ; j++ {
				ch := &t.nodes[j]
				if c.node(ch) {
					if b := t.nodeBound(&o, j); b <= radiusHav && mayBeat(ch.maxRating, b) {
						s.push(pending{bound: b, node: j, rating: ch.maxRating})
					}
				}
				if ch.hi == n.hi {
					break
				}
			}
			continue
		}
		for i := n.lo; i < n.hi; i++ {
			if c.test && t.drops(&c, i) {
				continue
			}
			r := t.ratings[i]
			if worst != nil && r < worst.Rating || f.After != nil && r > f.After.Rating {
				continue
			}
			lat, lon := FromE7(t.pts[i].lat), FromE7(t.pts[i].lon)
			if hav := o.HavLowerBound(lat, lon); hav > radiusHav || !mayBeat(r, hav) {
				continue
			}
			h := Hit{Index: int(i), ID: t.ids.at(int(i)), DistanceM: o.Distance(lat, lon), Rating: r}
			if h.DistanceM > radiusM || f.After != nil && !f.After.LessByRating(h) ||
				worst != nil && !h.LessByRating(*worst) ||
				c.accept != nil && !c.accept(int(i)) {
				continue
			}
			s.add(h, k)
			if len(s.best) == k {
				worst, worstHav = &s.best[0], geo.HavBound(s.best[0].DistanceM)
			}
		}
	}
	return s.sorted(dst), nil
}

// add puts h into the k best, replacing the worst if there are k already
// (the caller has checked that h beats it).
func (s *searcher) add(h Hit, k int) {
	if len(s.best) < k {
		s.best = append(s.best, h)
		s.upBest(len(s.best) - 1)
		return
	}
	s.best[0] = h
	s.downBest(0)
}

// sorted appends the k best to dst in the query's order. best is a
// max-heap, so a heapsort finishes the order in place: the worst moves to
// the end, and the heap shrinks by one, until one is left.
func (s *searcher) sorted(dst []Hit) []Hit {
	all := s.best
	for n := len(all) - 1; n > 0; n-- {
		all[0], all[n] = all[n], all[0]
		s.best = all[:n]
		s.downBest(0)
	}
	s.best = all
	return append(dst, all...)
}

// less is the order of the query's answer.
func (s *searcher) less(a, b Hit) bool {
	if s.byRating {
		return a.LessByRating(b)
	}
	return a.Less(b)
}

// nodeBound is a lower bound of the haversine from o to node i's entries.
func (t *Tree) nodeBound(o *geo.Origin, i uint32) float64 {
	// Multiplying by 1e-7 may differ from FromE7 in the last bit; the
	// bound's margins absorb that, and it spares four divisions.
	n := &t.nodes[i]
	return o.RectHavLowerBound(float64(n.minLat)*1e-7, float64(n.minLon)*1e-7, float64(n.maxLat)*1e-7, float64(n.maxLon)*1e-7)
}

// Within calls fn for every entry within radiusM metres of lat, lon degrees
// (distance ≤ radiusM) that passes f, in tree order, until fn returns false.
// It returns the number of entries passed to fn. f.After is ignored.
func (t *Tree) Within(lat, lon, radiusM float64, f Filter, fn func(Hit) bool) (int, error) {
	if err := checkCircle(lat, lon, radiusM); err != nil {
		return 0, err
	}
	o := geo.NewOrigin(lat, lon)
	bound := geo.HavBound(radiusM)
	c := f.prepare()
	count := 0
	t.walk(&c, func(i uint32) geo.Relation {
		if t.nodeBound(&o, i) > bound {
			return geo.Disjoint
		}
		return geo.Partial
	}, func(i uint32, _ bool) bool {
		lat, lon := FromE7(t.pts[i].lat), FromE7(t.pts[i].lon)
		if o.HavLowerBound(lat, lon) > bound {
			return true
		}
		d := o.Distance(lat, lon)
		if d > radiusM || c.accept != nil && !c.accept(int(i)) {
			return true
		}
		count++
		return fn(Hit{Index: int(i), ID: t.ids.at(int(i)), DistanceM: d, Rating: t.ratings[i]})
	})
	return count, nil
}

// InBox calls fn with the position of every entry inside r (edges included)
// that passes f, in tree order, until fn returns false. r may cross the
// antimeridian (MinLon > MaxLon): then its part from MinLon to 180° comes
// first, in tree order, and then its part from -180° to MaxLon. It returns
// the number of entries passed to fn. f.After is ignored.
func (t *Tree) InBox(r geo.Rect, f Filter, fn func(i int) bool) (int, error) {
	if !r.Valid() {
		return 0, fmt.Errorf("%w: %+v", ErrInvalidRect, r)
	}
	c := f.prepare()
	count := 0
	for _, part := range r.Split() {
		// Nodes are pruned on a box one E7 unit wider than part, so rounding
		// cannot prune a node holding an entry that the exact test accepts.
		minLat, maxLat := ToE7(part.MinLat)-1, ToE7(part.MaxLat)+1
		minLon, maxLon := ToE7(part.MinLon)-1, ToE7(part.MaxLon)+1
		stopped := false
		t.walk(&c, func(i uint32) geo.Relation {
			n := &t.nodes[i]
			switch {
			case n.maxLat < minLat || n.minLat > maxLat || n.maxLon < minLon || n.minLon > maxLon:
				return geo.Disjoint
			case part.Contains(FromE7(n.minLat), FromE7(n.minLon)) && part.Contains(FromE7(n.maxLat), FromE7(n.maxLon)):
				return geo.Inside // FromE7 is monotonic: every entry's point is in the box
			}
			return geo.Partial
		}, func(i uint32, inside bool) bool {
			if !inside && !part.Contains(FromE7(t.pts[i].lat), FromE7(t.pts[i].lon)) ||
				c.accept != nil && !c.accept(int(i)) {
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

// Polygon is the area InPolygon searches: a geo.MultiPolygon, or its
// geo.PolygonIndex, which answers the same and faster when the polygon has
// many edges (build it once for the trees a search reads).
type Polygon interface {
	Bounds() geo.Rect
	Contains(lat, lon float64) bool
	RelateRect(r geo.Rect) geo.Relation
}

var (
	_ Polygon = geo.MultiPolygon(nil)
	_ Polygon = (*geo.PolygonIndex)(nil)
)

// InPolygon calls fn with the position of every entry inside m (by
// m.Contains: boundaries included, see geo.MultiPolygon) that passes f, in
// tree order, until fn returns false. It returns the number of entries
// passed to fn. f.After is ignored. m must follow the rules of
// geo.MultiPolygon, as geo.ParseGeoJSON's results do; one without a vertex or
// with an invalid coordinate gives an error wrapping ErrInvalidPolygon.
// Subtrees are related to m as a whole (m.RelateRect): those outside are
// skipped, and the entries of those inside pass without a test of their own.
func (t *Tree) InPolygon(m Polygon, f Filter, fn func(i int) bool) (int, error) {
	bounds := m.Bounds()
	if !bounds.Valid() {
		return 0, fmt.Errorf("%w: bounds %+v", ErrInvalidPolygon, bounds)
	}
	c := f.prepare()
	count := 0
	t.walk(&c, func(i uint32) geo.Relation {
		n := &t.nodes[i]
		// FromE7 of the node's box bounds the points its entries are tested
		// at; widening it by one E7 unit (within the globe) keeps that true
		// whatever the rounding, and costs no pruning worth having.
		box := geo.Rect{
			MinLat: FromE7(max(n.minLat-1, -900000000)), MaxLat: FromE7(min(n.maxLat+1, 900000000)),
			MinLon: FromE7(max(n.minLon-1, -1800000000)), MaxLon: FromE7(min(n.maxLon+1, 1800000000)),
		}
		if box.MaxLat < bounds.MinLat || box.MinLat > bounds.MaxLat || box.MaxLon < bounds.MinLon || box.MinLon > bounds.MaxLon {
			return geo.Disjoint // without reading m's edges
		}
		return m.RelateRect(box)
	}, func(i uint32, inside bool) bool {
		if !inside && !m.Contains(FromE7(t.pts[i].lat), FromE7(t.pts[i].lon)) ||
			c.accept != nil && !c.accept(int(i)) {
			return true
		}
		count++
		return fn(int(i))
	})
	return count, nil
}

// pushChildren pushes n's children on a depth-first stack, the first on
// top, so that entries are reached in tree order.
func (t *Tree) pushChildren(stack []uint32, n *node) []uint32 {
	last := n.child
	for t.nodes[last].hi != n.hi {
		last++
	}
	for j := last; j >= n.child; j-- {
		stack = append(stack, j)
	}
	return stack
}

// walk visits, depth first and in tree order, the nodes that c does not
// prune and that relate does not find Disjoint from the query's geometry,
// and calls entry for each entry of the visited leaves that passes c's
// attribute tests and Skip, until entry returns false. inside is true for
// the entries of a subtree that relate found Inside; relate is not asked
// about the nodes below such a subtree's root.
func (t *Tree) walk(c *cut, relate func(node uint32) geo.Relation, entry func(i uint32, inside bool) bool) {
	if len(t.nodes) == 0 {
		return
	}
	s := searchers.Get().(*searcher)
	defer searchers.Put(s)
	s.stack = append(s.stack[:0], 0)
	// While insideAt ≥ 0, the nodes popped from a stack taller than
	// insideAt are below an Inside node: they were pushed after it was
	// popped, leaving insideAt nodes.
	insideAt := -1
	for len(s.stack) > 0 {
		if len(s.stack) <= insideAt {
			insideAt = -1
		}
		i := s.stack[len(s.stack)-1]
		s.stack = s.stack[:len(s.stack)-1]
		n := &t.nodes[i]
		if !c.node(n) {
			continue
		}
		if insideAt < 0 {
			switch relate(i) {
			case geo.Disjoint:
				continue
			case geo.Inside:
				insideAt = len(s.stack)
			}
		}
		if n.child != 0 {
			s.stack = t.pushChildren(s.stack, n)
			continue
		}
		inside := insideAt >= 0
		for e := n.lo; e < n.hi; e++ {
			if c.test && t.drops(c, e) {
				continue
			}
			if !entry(e, inside) {
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
		if !h[i].before(h[parent]) {
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
		if r := l + 1; r < len(h) && h[r].before(h[l]) {
			m = r
		}
		if !h[m].before(h[i]) {
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
		if !s.less(h[parent], h[i]) {
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
		if r := l + 1; r < len(h) && s.less(h[l], h[r]) {
			m = r
		}
		if !s.less(h[i], h[m]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
