package search

import (
	"math/bits"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/quadtree"
)

// Delta is a local region's changes since its seed, immutable once made:
// the seed's entries that changed (hidden from every search) and the
// current state of the changed businesses the partition files under the
// region (searched beside the seed's tree). A moved business is hidden at
// its old place and live at its new one, a deleted one only hidden, so a
// search over both stays exact.
type Delta struct {
	hidden  []uint64 // bit set of the region tree's entry positions
	nHidden int
	live    *Region // nil when no live business is filed here
}

// hides reports whether the delta hides the region tree's entry i.
func (d *Delta) hides(i int) bool {
	return d != nil && i>>6 < len(d.hidden) && d.hidden[i>>6]&(1<<(i&63)) != 0
}

// Len returns the businesses the delta holds: hidden and live.
func (d *Delta) Len() int {
	if d == nil {
		return 0
	}
	n := d.nHidden
	if d.live != nil {
		n += d.live.Tree.Len()
	}
	return n
}

func countBits(set []uint64) int {
	n := 0
	for _, w := range set {
		n += bits.OnesCount64(w)
	}
	return n
}

// part is one tree a search reads: a region's seed tree, less the entries
// its delta hides, or the delta's live tree.
type part struct {
	region *Region
	skip   []uint64
}

// withDeltas returns a copy of ix whose local regions carry deltas
// (parallel to ix.Regions; nil entries for none) and whose remote regions
// are remote (the same regions, their bounds widened by live changes),
// with live naming the changes applied (see State).
func (ix *Index) withDeltas(deltas []*Delta, remote []RemoteRegion, live string) *Index {
	out := &Index{Version: ix.Version, Regions: ix.Regions, Remote: remote, deltas: deltas, live: live}
	out.init()
	return out
}

// State names what the index answers: its version, and the live changes
// applied to it when there are any, named by the follower that applied
// them (a random tag of its own, as two followers apply different batches)
// and their batch. It changes with every batch, so it suits cache keys;
// cursors use Version.
func (ix *Index) State() string {
	if ix.live == "" {
		return ix.Version
	}
	return ix.Version + "+" + ix.live
}

// init counts the index's businesses and lists the trees searches read.
func (ix *Index) init() {
	ix.count, ix.parts = 0, ix.parts[:0]
	for i, r := range ix.Regions {
		var d *Delta
		if ix.deltas != nil {
			d = ix.deltas[i]
		}
		ix.count += r.Tree.Len()
		if d == nil {
			ix.parts = append(ix.parts, part{region: r})
			continue
		}
		ix.count -= d.nHidden
		ix.parts = append(ix.parts, part{region: r, skip: d.hidden})
		if d.live != nil {
			ix.count += d.live.Tree.Len()
			ix.parts = append(ix.parts, part{region: d.live})
		}
	}
	for _, r := range ix.Remote {
		ix.count += r.Count
	}
}

// regionParts returns the trees of local region i: its seed's, less what
// its delta hides, and its delta's live tree.
func (ix *Index) regionParts(i int) []part {
	parts := []part{{region: ix.Regions[i]}}
	if d := ix.delta(i); d != nil {
		parts[0].skip = d.hidden
		if d.live != nil {
			parts = append(parts, part{region: d.live})
		}
	}
	return parts
}

// delta returns local region i's delta, or nil.
func (ix *Index) delta(i int) *Delta {
	if ix.deltas == nil {
		return nil
	}
	return ix.deltas[i]
}

// lookup finds an id in local region i: in its delta's live tree, else in
// its seed tree unless the delta hides it.
func (ix *Index) lookup(i int, id int64) (nearby.Business, bool) {
	d := ix.delta(i)
	if d != nil && d.live != nil {
		if j := d.live.find(id); j >= 0 {
			return d.live.business(j), true
		}
	}
	r := ix.Regions[i]
	if j := r.find(id); j >= 0 && !d.hides(j) {
		return r.business(j), true
	}
	return nearby.Business{}, false
}

// reaches reports whether a search within radiusM metres of o may find
// something in remote region r: its seed's entries or its live changes.
func (r *RemoteRegion) reaches(o *geo.Origin, havBound float64) bool {
	near := func(b geo.Rect) bool { return o.RectHavLowerBound(b.MinLat, b.MinLon, b.MaxLat, b.MaxLon) <= havBound }
	return r.Count > 0 && near(r.Bounds) || r.Live != nil && near(*r.Live)
}

// searchParts calls add with the best k hits of each part that pass m, in
// the query's order within a part (first set for a part's first hit). For
// the distance order, a part that yields k hits bounds the later ones:
// nothing farther than its k-th hit can be among the best k of all, so they
// search only that far. Seed trees come before their live trees, so a
// sparse live tree is searched over a small circle.
func searchParts(parts []part, q nearby.SearchQuery, k int, m *matcher, add func(p part, h quadtree.Hit, first bool)) error {
	var buf [64]quadtree.Hit
	hits := buf[:0]
	radiusM := q.RadiusM
	for _, p := range parts {
		f := m.filter(p)
		var err error
		if q.Sort == nearby.SortRating {
			hits, err = p.region.Tree.BestRated(hits[:0], q.Lat, q.Lon, q.RadiusM, k, f)
		} else {
			hits, err = p.region.Tree.Nearest(hits[:0], q.Lat, q.Lon, radiusM, k, f)
		}
		if err != nil {
			return nearby.Errorf(nearby.EINVALID, "%v", err)
		}
		for i, h := range hits {
			add(p, h, i == 0)
		}
		// A k-th hit at distance 0 bounds nothing: later parts may still
		// hold ties there with smaller ids (and a radius must be positive).
		if len(hits) == k && q.Sort == nearby.SortDistance && hits[k-1].DistanceM > 0 {
			radiusM = min(radiusM, hits[k-1].DistanceM)
		}
	}
	return nil
}
