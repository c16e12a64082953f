package quadtree

import (
	"errors"
	"fmt"
	"math"
)

// check verifies the tree's invariants: entries in Morton order with valid
// attributes, every node's box, category set, price set and best rating
// exactly those of its entries, children contiguous and
// partitioning their parent's entries, leaves within LeafCap unless their
// entries share one coordinate, and every node reachable once. Tests call it
// after every build.
func (t *Tree) check() error {
	n := t.Len()
	if len(t.ids.small)+len(t.ids.wide) != n || len(t.cats) != n || len(t.prices) != n || len(t.ratings) != n || len(t.tags) != n ||
		len(t.nameOffs) != n+1 || len(t.reviews) != n || t.nameIdx != nil && len(t.nameIdx) != n {
		return errors.New("column lengths differ")
	}
	for i := range n {
		if i > 0 && mortonKey(t.pts[i]) < mortonKey(t.pts[i-1]) {
			return fmt.Errorf("entry %d out of Morton order", i)
		}
		if t.cats[i] >= MaxCategories || t.prices[i] > MaxPrice || t.ratings[i] > MaxRating {
			return fmt.Errorf("entry %d: category %d, price %d, rating %d", i, t.cats[i], t.prices[i], t.ratings[i])
		}
	}
	if n == 0 {
		if len(t.nodes) != 0 {
			return errors.New("empty tree with nodes")
		}
		return nil
	}
	seen := make([]bool, len(t.nodes))
	var visit func(i uint32, depth int) error
	visit = func(i uint32, depth int) error {
		if int(i) >= len(t.nodes) || seen[i] {
			return fmt.Errorf("node %d out of range or reached twice", i)
		}
		if depth > 33 {
			return fmt.Errorf("node %d deeper than 33", i)
		}
		seen[i] = true
		nd := t.nodes[i]
		if nd.lo >= nd.hi || int(nd.hi) > n {
			return fmt.Errorf("node %d: bad range [%d,%d)", i, nd.lo, nd.hi)
		}
		want := node{lo: nd.lo, hi: nd.hi, child: nd.child,
			minLat: math.MaxInt32, minLon: math.MaxInt32, maxLat: math.MinInt32, maxLon: math.MinInt32}
		for e := nd.lo; e < nd.hi; e++ {
			p := t.pts[e]
			want.minLat, want.maxLat = min(want.minLat, p.lat), max(want.maxLat, p.lat)
			want.minLon, want.maxLon = min(want.minLon, p.lon), max(want.maxLon, p.lon)
			want.cats |= 1 << t.cats[e]
			want.prices |= 1 << t.prices[e]
			want.maxRating = max(want.maxRating, t.ratings[e])
		}
		if nd != want {
			return fmt.Errorf("node %d: box or summaries %+v, want %+v", i, nd, want)
		}
		if nd.child == 0 {
			if nd.hi-nd.lo > LeafCap && mortonKey(t.pts[nd.lo]) != mortonKey(t.pts[nd.hi-1]) {
				return fmt.Errorf("leaf %d holds %d entries", i, nd.hi-nd.lo)
			}
			return nil
		}
		next, kids := nd.lo, 0
		for j := nd.child; ; j++ {
			if int(j) >= len(t.nodes) || t.nodes[j].lo != next {
				return fmt.Errorf("node %d: children do not partition its entries", i)
			}
			if err := visit(j, depth+1); err != nil {
				return err
			}
			next = t.nodes[j].hi
			kids++
			if next == nd.hi {
				break
			}
		}
		if kids < 2 || kids > 4 {
			return fmt.Errorf("node %d has %d children", i, kids)
		}
		return nil
	}
	if err := visit(0, 1); err != nil {
		return err
	}
	for i, ok := range seen {
		if !ok {
			return fmt.Errorf("node %d unreachable", i)
		}
	}
	return nil
}
