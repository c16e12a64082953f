package quadtree

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"unsafe"

	"github.com/nearby/nearby/geo"
)

// LeafCap is the most entries a leaf holds, unless more than LeafCap entries
// share one coordinate (they cannot be split).
const LeafCap = 32

// MaxCategories bounds category values: a category is in [0, MaxCategories),
// so a set of them fits the 32-bit masks kept on every node.
const MaxCategories = 32

// MaxNameLen is the longest name, in bytes, an entry may carry.
const MaxNameLen = 1024

// MaxPrice is the highest price level of Attrs.Price (0 means none).
const MaxPrice = 4

// MaxRating is the highest value of Attrs.Rating (0 means none): tenths of a
// star plus one, so 5.0 stars is 51.
const MaxRating = 51

// maxEntries keeps entry positions and name offsets within uint32.
const maxEntries = math.MaxUint32 - 1

// Errors returned for bad input. They are wrapped with details; test with errors.Is.
var (
	ErrInvalidPoint    = errors.New("quadtree: invalid coordinates")
	ErrInvalidCategory = errors.New("quadtree: invalid category")
	ErrInvalidName     = errors.New("quadtree: name too long")
	ErrInvalidAttrs    = errors.New("quadtree: invalid attributes")
	ErrInvalidRadius   = errors.New("quadtree: invalid radius")
	ErrInvalidK        = errors.New("quadtree: invalid k")
	ErrInvalidRect     = errors.New("quadtree: invalid rectangle")
	ErrInvalidPolygon  = errors.New("quadtree: invalid polygon")
	ErrTooLarge        = errors.New("quadtree: too many entries")
	ErrColumns         = errors.New("quadtree: invalid columns")
)

// Entry is one business as given to Build and returned by Tree.Entry.
// Coordinates are degrees; the tree keeps them rounded to 1e-7° (about 1 cm).
type Entry struct {
	ID       int64
	Lat, Lon float64
	Category uint8
	Name     string
	Attrs    Attrs
}

// Attrs are an entry's attributes besides its place, category and name. The
// zero value means none is known. Price and Rating are kept in the hot
// columns and summarised on every node, so filters on them prune subtrees;
// Tag is kept hot for Filter.Accept; Reviews is kept cold, with the names.
type Attrs struct {
	Price  uint8 // price level 1..MaxPrice; 0 = none
	Rating uint8 // 1..MaxRating (tenths of a star + 1); 0 = none
	// Tag is opaque to the tree: for instance 1 + the index of the entry's
	// opening hours in a table the caller keeps, 0 for none.
	Tag     uint32
	Reviews uint32 // number of reviews
}

// Tree is an immutable quadtree of entries. Its methods are safe for
// concurrent use by any number of goroutines without locks.
type Tree struct {
	// Entries in tree order (Morton order of their cells), as parallel
	// columns: the hot path touches pts and cats, prices and ratings when
	// a filter asks for them, tags when Filter.Accept reads them, and ids
	// of the entries it keeps. Latitude and longitude sit side by side, so
	// scanning a leaf's coordinates touches one run of memory.
	ids     idColumn
	pts     []point
	cats    []uint8
	prices  []uint8
	ratings []uint8
	tags    []uint32

	// Names and review counts live apart from the hot columns: entry i's
	// name is names[nameOffs[k]:nameOffs[k+1]] and its review count
	// reviews[k], where k is nameIdx[i], or i when nameIdx is nil (a tree
	// loaded from columns keeps them in tree order).
	nameOffs []uint32
	names    string // a string, so Name returns substrings without copying
	reviews  []uint32
	nameIdx  []uint32

	nodes []node // nodes[0] is the root; empty for an empty tree
}

// point is an entry's coordinates in degrees × 1e7.
type point struct{ lat, lon int32 }

// node is a cell of the tree. Its box is the tight bounding box of the
// entries below it (not the cell's nominal square), which prunes better on
// clustered data. Children of a node are contiguous in Tree.nodes. Its
// summaries of the entries below (categories, prices, best rating) let
// filters prune it. It takes 36 bytes.
type node struct {
	minLat, minLon, maxLat, maxLon int32  // E7 bounding box of the entries
	lo, hi                         uint32 // entries [lo, hi) in tree order
	child                          uint32 // index of the first child; 0 for a leaf
	cats                           uint32 // bit set of categories below
	prices                         uint8  // bit p for each price p below (bit 0: none)
	maxRating                      uint8  // highest rating below
}

// ToE7 converts degrees to the tree's fixed-point coordinates.
func ToE7(deg float64) int32 { return int32(math.Round(deg * 1e7)) }

// FromE7 converts the tree's fixed-point coordinates to degrees. Every
// coordinate the tree reports or measures from goes through FromE7.
func FromE7(e7 int32) float64 { return float64(e7) / 1e7 }

// Builder collects entries for a new Tree. The zero value is ready to use.
type Builder struct {
	ids      []int64
	pts      []point
	cats     []uint8
	prices   []uint8
	ratings  []uint8
	tags     []uint32
	reviews  []uint32
	nameOffs []uint32
	names    []byte
}

// NewBuilder returns a Builder with room for n entries.
func NewBuilder(n int) *Builder {
	return &Builder{
		ids:      make([]int64, 0, n),
		pts:      make([]point, 0, n),
		cats:     make([]uint8, 0, n),
		prices:   make([]uint8, 0, n),
		ratings:  make([]uint8, 0, n),
		tags:     make([]uint32, 0, n),
		reviews:  make([]uint32, 0, n),
		nameOffs: make([]uint32, 0, n+1),
		names:    make([]byte, 0, 24*n),
	}
}

// Add adds an entry without attributes (see AddWith).
func (b *Builder) Add(id int64, lat, lon float64, category uint8, name string) error {
	return b.AddWith(id, lat, lon, category, name, Attrs{})
}

// AddWith adds an entry. Coordinates must be valid degrees (no NaN or ±Inf),
// the category below MaxCategories, the name at most MaxNameLen bytes, the
// price at most MaxPrice and the rating at most MaxRating. IDs are not
// checked for uniqueness; equal coordinates are allowed.
func (b *Builder) AddWith(id int64, lat, lon float64, category uint8, name string, a Attrs) error {
	if !geo.Valid(lat, lon) {
		return fmt.Errorf("%w: id %d: lat %v lon %v", ErrInvalidPoint, id, lat, lon)
	}
	if category >= MaxCategories {
		return fmt.Errorf("%w: id %d: %d", ErrInvalidCategory, id, category)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: id %d: %d bytes", ErrInvalidName, id, len(name))
	}
	if a.Price > MaxPrice || a.Rating > MaxRating {
		return fmt.Errorf("%w: id %d: price %d, rating %d", ErrInvalidAttrs, id, a.Price, a.Rating)
	}
	if len(b.ids) >= maxEntries || uint64(len(b.names))+uint64(len(name)) > math.MaxUint32 {
		return ErrTooLarge
	}
	if len(b.nameOffs) == 0 {
		b.nameOffs = append(b.nameOffs, 0)
	}
	b.ids = append(b.ids, id)
	b.pts = append(b.pts, point{ToE7(lat), ToE7(lon)})
	b.cats = append(b.cats, category)
	b.prices = append(b.prices, a.Price)
	b.ratings = append(b.ratings, a.Rating)
	b.tags = append(b.tags, a.Tag)
	b.reviews = append(b.reviews, a.Reviews)
	if len(b.names)+len(name) > cap(b.names) {
		// Double: append grows large slices by only 1.25x, which copies a
		// big name blob many times over.
		b.names = slices.Grow(b.names, max(len(name), cap(b.names)))
	}
	b.names = append(b.names, name...)
	b.nameOffs = append(b.nameOffs, uint32(len(b.names)))
	return nil
}

// Len returns the number of entries added so far.
func (b *Builder) Len() int { return len(b.ids) }

// Build sorts the entries into tree order and builds the tree. The Builder
// must not be used afterwards.
func (b *Builder) Build() *Tree {
	n := len(b.ids)
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = mortonKey(b.pts[i])
	}
	order := sortByKey(keys)
	t := &Tree{
		pts:     make([]point, n),
		cats:    make([]uint8, n),
		prices:  make([]uint8, n),
		ratings: make([]uint8, n),
		tags:    make([]uint32, n),
		// Names and review counts stay where Add put them: moving ~20
		// bytes per entry into tree order would cost more than the rest of
		// the build. nameIdx maps tree positions to them.
		nameOffs: b.nameOffs,
		names:    string(b.names),
		reviews:  b.reviews,
		nameIdx:  order,
	}
	if n == 0 {
		t.nameOffs = []uint32{0}
	}
	// The gathers are random reads; run them on two cores.
	var wg sync.WaitGroup
	wg.Go(func() {
		t.ids = newIDColumn(b.ids, order)
		for i, j := range order {
			t.tags[i] = b.tags[j]
		}
	})
	for i, j := range order {
		t.pts[i] = b.pts[j]
		t.cats[i] = b.cats[j]
		t.prices[i] = b.prices[j]
		t.ratings[i] = b.ratings[j]
	}
	wg.Wait()
	*b = Builder{}
	t.buildNodes(keys)
	return t
}

// Build builds a tree from entries.
func Build(entries []Entry) (*Tree, error) {
	b := NewBuilder(len(entries))
	for _, e := range entries {
		if err := b.AddWith(e.ID, e.Lat, e.Lon, e.Category, e.Name, e.Attrs); err != nil {
			return nil, err
		}
	}
	return b.Build(), nil
}

// Columns are a tree's entries in tree order, as stored by Tree.Columns and
// taken by FromColumns. NameOffs has one more element than IDs; every other
// column has one element per entry, except that FromColumns takes an empty
// attribute column (Prices, Ratings, Tags, Reviews) as all zero.
type Columns struct {
	IDs        []int64
	Lats, Lons []int32 // degrees × 1e7
	Cats       []uint8
	Prices     []uint8 // Attrs.Price
	Ratings    []uint8 // Attrs.Rating
	Tags       []uint32
	Reviews    []uint32
	NameOffs   []uint32
	Names      []byte
}

// Columns returns the tree's entries in tree order. Lats, Lons, Names, IDs
// (unless they span 2^32 or more) and, for a tree made by Build, NameOffs and
// Reviews are fresh; the other slices share the tree's memory and must not be
// modified.
func (t *Tree) Columns() Columns {
	c := Columns{IDs: t.ids.all(), Lats: make([]int32, len(t.pts)), Lons: make([]int32, len(t.pts)), Cats: t.cats,
		Prices: t.prices, Ratings: t.ratings, Tags: t.tags, Reviews: t.reviews, NameOffs: t.nameOffs}
	for i, p := range t.pts {
		c.Lats[i], c.Lons[i] = p.lat, p.lon
	}
	if t.nameIdx == nil {
		c.Names = []byte(t.names)
	} else {
		c.NameOffs = make([]uint32, len(t.pts)+1)
		c.Names = make([]byte, 0, len(t.names))
		c.Reviews = make([]uint32, len(t.pts))
		for i, k := range t.nameIdx {
			c.Names = append(c.Names, t.names[t.nameOffs[k]:t.nameOffs[k+1]]...)
			c.NameOffs[i+1] = uint32(len(c.Names))
			c.Reviews[i] = t.reviews[k]
		}
	}
	return c
}

// FromColumns rebuilds a tree from columns in tree order, as Columns returns
// them, without sorting: it checks every value and the order, then builds the
// nodes in one pass. The tree keeps the columns other than Lats, Lons and
// (unless they span 2^32 or more) IDs; the caller must not modify them
// afterwards. Columns from an untrusted
// source are safe to pass: bad ones give an error wrapping ErrColumns.
func FromColumns(c Columns) (*Tree, error) {
	n := len(c.IDs)
	switch {
	case n > maxEntries:
		return nil, ErrTooLarge
	case len(c.Lats) != n || len(c.Lons) != n || len(c.Cats) != n || len(c.NameOffs) != n+1 ||
		!attrLen(len(c.Prices), n) || !attrLen(len(c.Ratings), n) || !attrLen(len(c.Tags), n) || !attrLen(len(c.Reviews), n):
		return nil, fmt.Errorf("%w: column lengths differ", ErrColumns)
	case c.NameOffs[0] != 0 || int(c.NameOffs[n]) != len(c.Names):
		return nil, fmt.Errorf("%w: name offsets do not span the names", ErrColumns)
	}
	t := &Tree{ids: newIDColumn(c.IDs, nil), pts: make([]point, n), cats: c.Cats, prices: c.Prices, ratings: c.Ratings, tags: c.Tags,
		nameOffs: c.NameOffs, names: ownedString(c.Names), reviews: c.Reviews}
	if len(c.Prices) == 0 {
		t.prices = make([]uint8, n)
	}
	if len(c.Ratings) == 0 {
		t.ratings = make([]uint8, n)
	}
	if len(c.Tags) == 0 {
		t.tags = make([]uint32, n)
	}
	if len(c.Reviews) == 0 {
		t.reviews = make([]uint32, n)
	}
	keys := make([]uint64, n)
	for i := range n {
		lat, lon := c.Lats[i], c.Lons[i]
		if lat < -900000000 || lat > 900000000 || lon < -1800000000 || lon > 1800000000 {
			return nil, fmt.Errorf("%w: entry %d: coordinates out of range", ErrColumns, i)
		}
		if c.Cats[i] >= MaxCategories {
			return nil, fmt.Errorf("%w: entry %d: category %d", ErrColumns, i, c.Cats[i])
		}
		if t.prices[i] > MaxPrice || t.ratings[i] > MaxRating {
			return nil, fmt.Errorf("%w: entry %d: price %d, rating %d", ErrColumns, i, t.prices[i], t.ratings[i])
		}
		if l := c.NameOffs[i+1] - c.NameOffs[i]; c.NameOffs[i+1] < c.NameOffs[i] || l > MaxNameLen {
			return nil, fmt.Errorf("%w: entry %d: bad name offsets", ErrColumns, i)
		}
		t.pts[i] = point{lat, lon}
		keys[i] = mortonKey(t.pts[i])
		if i > 0 && keys[i] < keys[i-1] {
			return nil, fmt.Errorf("%w: entry %d out of tree order", ErrColumns, i)
		}
	}
	t.buildNodes(keys)
	return t, nil
}

// attrLen reports whether an attribute column of length l fits n entries:
// one value each, or none at all (all zero).
func attrLen(l, n int) bool { return l == n || l == 0 }

// Len returns the number of entries.
func (t *Tree) Len() int { return len(t.pts) }

// ID returns the id of entry i (0 ≤ i < Len, in tree order).
func (t *Tree) ID(i int) int64 { return t.ids.at(i) }

// Point returns the coordinates of entry i in degrees.
func (t *Tree) Point(i int) (lat, lon float64) { return FromE7(t.pts[i].lat), FromE7(t.pts[i].lon) }

// Category returns the category of entry i.
func (t *Tree) Category(i int) uint8 { return t.cats[i] }

// cold returns where entry i's name and review count are kept.
func (t *Tree) cold(i int) int {
	if t.nameIdx != nil {
		return int(t.nameIdx[i])
	}
	return i
}

// Name returns the name of entry i, without copying it.
func (t *Tree) Name(i int) string {
	k := t.cold(i)
	return t.names[t.nameOffs[k]:t.nameOffs[k+1]]
}

// Attrs returns the attributes of entry i.
func (t *Tree) Attrs(i int) Attrs {
	return Attrs{Price: t.prices[i], Rating: t.ratings[i], Tag: t.tags[i], Reviews: t.reviews[t.cold(i)]}
}

// Entry returns entry i.
func (t *Tree) Entry(i int) Entry {
	lat, lon := t.Point(i)
	return Entry{ID: t.ids.at(i), Lat: lat, Lon: lon, Category: t.cats[i], Name: t.Name(i), Attrs: t.Attrs(i)}
}

// IndexBytes returns the memory held by the spatial index, the part queries
// touch: ids, coordinates, categories, prices, ratings, tags and nodes
// (19 bytes per entry plus the nodes; 23 when ids span 2^32 or more).
func (t *Tree) IndexBytes() int {
	return t.ids.bytes() + len(t.pts)*8 + len(t.cats) + len(t.prices) + len(t.ratings) + len(t.tags)*4 +
		len(t.nodes)*int(unsafe.Sizeof(node{}))
}

// ColdBytes returns the memory held out of the hot path: names, their
// offsets and the review counts.
func (t *Tree) ColdBytes() int {
	return len(t.names) + len(t.nameOffs)*4 + len(t.nameIdx)*4 + len(t.reviews)*4
}

// Nodes returns the number of nodes, and Depth the length of the longest path
// from the root to a leaf (1 for a tree that is a single leaf, 0 when empty).
func (t *Tree) Nodes() int { return len(t.nodes) }

// Depth returns the number of nodes on the longest root-to-leaf path.
func (t *Tree) Depth() int {
	if len(t.nodes) == 0 {
		return 0
	}
	var depth func(i uint32) int
	depth = func(i uint32) int {
		n := t.nodes[i]
		if n.child == 0 {
			return 1
		}
		d := 0
		for j := n.child; ; j++ {
			d = max(d, depth(j))
			if t.nodes[j].hi == n.hi {
				break
			}
		}
		return d + 1
	}
	return depth(0)
}

// mortonKey interleaves the bits of an entry's cell coordinates. Sorting by
// it puts every quadtree cell's entries in one contiguous run. Latitude is
// scaled ×2 so both axes span [0, 3.6e9] and cells are square in degrees.
func mortonKey(p point) uint64 {
	x := uint32(int64(p.lon) + 1800000000)
	y := uint32((int64(p.lat) + 900000000) * 2)
	return spread(y)<<1 | spread(x)
}

// spread moves bit i of v to bit 2i.
func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// sortByKey sorts keys in place and returns the permutation applied: the
// sorted position i holds the input entry order[i]. It is a stable LSD radix
// sort, 11 bits a pass (six passes; the 2048 buckets stay in cache),
// skipping digits that every key shares. Each pass counts and scatters the
// two halves of the input on two goroutines.
func sortByKey(keys []uint64) []uint32 {
	const bits, mask = 11, 1<<11 - 1
	n := len(keys)
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	if n < 2 {
		return order
	}
	sorted := keys
	keys2 := make([]uint64, n)
	order2 := make([]uint32, n)
	halves := [2][2]int{{0, n / 2}, {n / 2, n}}
	var count [2][1 << bits]int
	var wg sync.WaitGroup
	for shift := uint(0); shift < 64; shift += bits {
		for h := range halves {
			wg.Go(func() {
				c := &count[h]
				*c = [1 << bits]int{}
				for _, k := range keys[halves[h][0]:halves[h][1]] {
					c[(k>>shift)&mask]++
				}
			})
		}
		wg.Wait()
		if count[0][(keys[0]>>shift)&mask]+count[1][(keys[0]>>shift)&mask] == n {
			continue
		}
		// The first half's entries of a bucket go before the second's, so
		// the sort stays stable.
		pos := 0
		for b := range 1 << bits {
			c0, c1 := count[0][b], count[1][b]
			count[0][b], count[1][b] = pos, pos+c0
			pos += c0 + c1
		}
		for h := range halves {
			wg.Go(func() {
				c := &count[h]
				lo, hi := halves[h][0], halves[h][1]
				for i, k := range keys[lo:hi] {
					b := (k >> shift) & mask
					p := c[b]
					c[b]++
					keys2[p] = k
					order2[p] = order[lo+i]
				}
			})
		}
		wg.Wait()
		keys, keys2 = keys2, keys
		order, order2 = order2, order
	}
	// After an odd number of passes the result sits in the scratch buffer.
	if &keys[0] != &sorted[0] {
		copy(sorted, keys)
	}
	return order
}

// buildNodes builds the node array over entries already in tree order;
// keys[i] is entry i's Morton key.
func (t *Tree) buildNodes(keys []uint64) {
	t.nodes = t.nodes[:0]
	if len(keys) == 0 {
		return
	}
	// About one node per LeafCap/3 entries on clustered data.
	t.nodes = make([]node, 1, len(keys)/(LeafCap/3)+16)
	b := nodeBuilder{t: t, keys: keys}
	b.build(0, 0, len(keys), 0)
}

type nodeBuilder struct {
	t    *Tree
	keys []uint64
}

// build fills node slot with the subtree of entries [lo, hi), whose keys all
// share their first 2·level bits. Cells with a single non-empty quadrant are
// skipped rather than stored, so depth stays bounded by the data's spread,
// not by how closely packed a dense downtown is.
func (b *nodeBuilder) build(slot uint32, lo, hi int, level uint) {
	var bounds [5]int
	parts := 0
	for hi-lo > LeafCap && level < 32 {
		bounds[0], bounds[4] = lo, hi
		shift := 62 - 2*level
		prefix := b.keys[lo] &^ (1<<(shift+2) - 1) // 0 at level 0: 1<<64 is 0
		parts = 0
		for q := uint64(1); q < 4; q++ {
			start := prefix | q<<shift
			bounds[q] = lo + sort.Search(hi-lo, func(i int) bool { return b.keys[lo+i] >= start })
		}
		for q := range 4 {
			if bounds[q+1] > bounds[q] {
				parts++
			}
		}
		if parts > 1 {
			break
		}
		level++
	}
	t := b.t
	if hi-lo <= LeafCap || level >= 32 {
		n := node{lo: uint32(lo), hi: uint32(hi)}
		n.minLat, n.minLon = math.MaxInt32, math.MaxInt32
		n.maxLat, n.maxLon = math.MinInt32, math.MinInt32
		for i := lo; i < hi; i++ {
			p := t.pts[i]
			n.minLat, n.maxLat = min(n.minLat, p.lat), max(n.maxLat, p.lat)
			n.minLon, n.maxLon = min(n.minLon, p.lon), max(n.maxLon, p.lon)
			n.cats |= 1 << t.cats[i]
			n.prices |= 1 << t.prices[i]
			n.maxRating = max(n.maxRating, t.ratings[i])
		}
		t.nodes[slot] = n
		return
	}
	first := uint32(len(t.nodes))
	for range parts {
		t.nodes = append(t.nodes, node{})
	}
	c := first
	for q := range 4 {
		if bounds[q+1] > bounds[q] {
			b.build(c, bounds[q], bounds[q+1], level+1)
			c++
		}
	}
	n := node{lo: uint32(lo), hi: uint32(hi), child: first}
	n.minLat, n.minLon = math.MaxInt32, math.MaxInt32
	n.maxLat, n.maxLon = math.MinInt32, math.MinInt32
	for j := first; j < first+uint32(parts); j++ {
		ch := &t.nodes[j]
		n.minLat = min(n.minLat, ch.minLat)
		n.maxLat = max(n.maxLat, ch.maxLat)
		n.minLon = min(n.minLon, ch.minLon)
		n.maxLon = max(n.maxLon, ch.maxLon)
		n.cats |= ch.cats
		n.prices |= ch.prices
		n.maxRating = max(n.maxRating, ch.maxRating)
	}
	t.nodes[slot] = n
}

// Bounds returns the bounding box of all entries in degrees, and false for
// an empty tree.
func (t *Tree) Bounds() (geo.Rect, bool) {
	if len(t.nodes) == 0 {
		return geo.Rect{}, false
	}
	n := t.nodes[0]
	return geo.Rect{MinLat: FromE7(n.minLat), MinLon: FromE7(n.minLon), MaxLat: FromE7(n.maxLat), MaxLon: FromE7(n.maxLon)}, true
}

// ownedString returns b as a string without copying it.
//
// SAFETY: FromColumns takes ownership of the columns (its callers must not
// modify them afterwards, as its documentation says), so the bytes behind
// the string never change, which is all a Go string requires. Copying
// instead costs ~0.1 s and 200 MB of extra peak memory on a 10M-business
// seed load (BenchmarkSeed/op=load), a tenth of the load's 1 s budget.
func ownedString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
