package quadtree_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/quadtree"
)

// Benchmarks run on realistic data: businesses generated around real cities
// weighted by population, queried where people search (near the shops).

var sizes = []struct {
	name string
	n    int
}{{"1M", 1_000_000}, {"10M", 10_000_000}}

var (
	benchMu    sync.Mutex
	benchBiz   = map[int]benchData{}
	benchTrees = map[int]*quadtree.Tree{}
)

// benchData is a realistic set of businesses with attributes drawn for them.
type benchData struct {
	bs    []nearby.Business
	attrs []quadtree.Attrs
}

func businesses(n int) benchData {
	benchMu.Lock()
	defer benchMu.Unlock()
	if d, ok := benchBiz[n]; ok {
		return d
	}
	d := benchData{bs: dataset.Generate(n, 1), attrs: make([]quadtree.Attrs, n)}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range d.attrs {
		d.attrs[i] = randAttrs(r)
	}
	benchBiz[n] = d
	return d
}

// benchSchedules is how many distinct opening hours the benchmarks' tags
// stand for.
const benchSchedules = 5000

// randAttrs draws attributes shaped like real ones: 15% unrated, ratings
// around 4.0 stars (5% at 5.0); 20% without a price, 32% at 1 and at 2,
// 12% at 3, 4% at 4; one of benchSchedules opening hours, 10% unknown.
func randAttrs(r *rand.Rand) quadtree.Attrs {
	a := quadtree.Attrs{Reviews: uint32(r.ExpFloat64() * 80)}
	if r.IntN(100) >= 15 {
		a.Rating = uint8(1 + max(10, min(50, math.Round(40+6*r.NormFloat64()))))
	}
	p := r.IntN(100)
	for _, upTo := range []int{20, 52, 84, 96} {
		if p >= upTo {
			a.Price++
		}
	}
	if r.IntN(10) > 0 {
		a.Tag = uint32(1 + r.IntN(benchSchedules))
	}
	return a
}

func build(b testing.TB, d benchData) *quadtree.Tree {
	qb := quadtree.NewBuilder(len(d.bs))
	for i, x := range d.bs {
		if err := qb.AddWith(x.ID, x.Lat, x.Lon, uint8(x.Category), x.Name, d.attrs[i]); err != nil {
			b.Fatal(err)
		}
	}
	return qb.Build()
}

func tree(b *testing.B, n int) *quadtree.Tree {
	d := businesses(n)
	benchMu.Lock()
	defer benchMu.Unlock()
	if t, ok := benchTrees[n]; ok {
		return t
	}
	t := build(b, d)
	benchTrees[n] = t
	return t
}

func BenchmarkBuild(b *testing.B) {
	for _, size := range sizes {
		b.Run("n="+size.name, func(b *testing.B) {
			d := businesses(size.n)
			b.ReportAllocs()
			var t *quadtree.Tree
			for b.Loop() {
				t = build(b, d)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size.n), "ns/business")
			b.ReportMetric(float64(t.IndexBytes())/float64(size.n), "index-B/business")
			b.ReportMetric(float64(t.ColdBytes())/float64(size.n), "cold-B/business")
			b.ReportMetric(float64(t.Depth()), "depth")
		})
	}
}

// BenchmarkNearest measures k=20 searches at fixed radii. After the timed
// loop it times each query alone for the median and p99, and a brute-force
// scan over the same entries for the speed-up ratio.
func BenchmarkNearest(b *testing.B) {
	for _, size := range sizes {
		for _, r := range []struct {
			name string
			m    float64
		}{{"500m", 500}, {"2km", 2000}, {"20km", 20000}} {
			b.Run(fmt.Sprintf("n=%s/k=20/r=%s", size.name, r.name), func(b *testing.B) {
				t := tree(b, size.n)
				qs := dataset.Queries(10000, 7)
				var hits []quadtree.Hit
				total := 0
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					q := qs[i%len(qs)]
					i++
					var err error
					hits, err = t.Nearest(hits[:0], q.Lat, q.Lon, r.m, 20, quadtree.Filter{})
					if err != nil {
						b.Fatal(err)
					}
					total += len(hits)
				}
				mean := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				b.ReportMetric(float64(total)/float64(b.N), "hits/op")

				lat := make([]float64, len(qs))
				for j, q := range qs {
					start := time.Now()
					hits, _ = t.Nearest(hits[:0], q.Lat, q.Lon, r.m, 20, quadtree.Filter{})
					lat[j] = float64(time.Since(start).Nanoseconds())
				}
				sort.Float64s(lat)
				b.ReportMetric(lat[len(lat)/2], "p50-ns")
				b.ReportMetric(lat[len(lat)*99/100], "p99-ns")

				const bruteQueries = 3
				start := time.Now()
				for _, q := range qs[:bruteQueries] {
					hits = bruteNearest(t, hits[:0], q.Lat, q.Lon, r.m, 20)
				}
				brute := float64(time.Since(start).Nanoseconds()) / bruteQueries
				b.ReportMetric(brute/mean, "speedup-x")
				b.ReportMetric(float64(t.IndexBytes())/float64(t.Len()), "index-B/business")
			})
		}
	}
}

// bruteNearest is the baseline: measure every entry, keep those within the
// radius, sort, take k.
func bruteNearest(t *quadtree.Tree, dst []quadtree.Hit, lat, lon, radiusM float64, k int) []quadtree.Hit {
	o := geo.NewOrigin(lat, lon)
	for i := range t.Len() {
		elat, elon := t.Point(i)
		if d := o.Distance(elat, elon); d <= radiusM {
			dst = append(dst, quadtree.Hit{Index: i, ID: t.ID(i), DistanceM: d})
		}
	}
	slices.SortFunc(dst, func(a, b quadtree.Hit) int {
		if a.Less(b) {
			return -1
		}
		if b.Less(a) {
			return 1
		}
		return 0
	})
	return dst[:min(k, len(dst))]
}

// BenchmarkFilter measures Nearest and BestRated, k=20, with each kind of
// filter on the realistic data with the attributes of randAttrs. After the
// timed loop it times the same queries unfiltered with Nearest, in turns
// with the query under test, for vs-unfiltered-x: the query's time over the
// unfiltered Nearest's.
func BenchmarkFilter(b *testing.B) {
	filters := []struct {
		name string
		make func(t *quadtree.Tree) quadtree.Filter
	}{
		{"none", func(*quadtree.Tree) quadtree.Filter { return quadtree.Filter{} }},
		{"category=rarest", func(t *quadtree.Tree) quadtree.Filter { return quadtree.Filter{Categories: 1 << rarest(t)} }},
		{"min_rating=4.5", func(*quadtree.Tree) quadtree.Filter { return quadtree.Filter{MinRating: 46} }},
		{"price=3,4", func(*quadtree.Tree) quadtree.Filter { return quadtree.Filter{Prices: 1<<3 | 1<<4} }},
		{"open_now", func(t *quadtree.Tree) quadtree.Filter {
			// A tag's hours are open now for 60% of the schedules.
			r := rand.New(rand.NewPCG(3, 4))
			open := make([]bool, benchSchedules+1)
			for i := 1; i < len(open); i++ {
				open[i] = r.IntN(10) < 6
			}
			return quadtree.Filter{Accept: func(i int) bool { return open[t.Attrs(i).Tag] }}
		}},
	}
	for _, size := range sizes {
		for _, op := range []string{"Nearest", "BestRated"} {
			for _, radius := range []struct {
				name string
				m    float64
			}{{"2km", 2000}, {"20km", 20000}} {
				for _, fc := range filters {
					b.Run(fmt.Sprintf("n=%s/op=%s/filter=%s/k=20/r=%s", size.name, op, fc.name, radius.name), func(b *testing.B) {
						t := tree(b, size.n)
						f := fc.make(t)
						search := t.Nearest
						if op == "BestRated" {
							search = t.BestRated
						}
						qs := dataset.Queries(10000, 7)
						var hits []quadtree.Hit
						total, i := 0, 0
						b.ReportAllocs()
						for b.Loop() {
							q := qs[i%len(qs)]
							i++
							var err error
							if hits, err = search(hits[:0], q.Lat, q.Lon, radius.m, 20, f); err != nil {
								b.Fatal(err)
							}
							total += len(hits)
						}
						b.ReportMetric(float64(total)/float64(b.N), "hits/op")
						run := func(search func([]quadtree.Hit, float64, float64, float64, int, quadtree.Filter) ([]quadtree.Hit, error), f quadtree.Filter) time.Duration {
							start := time.Now()
							for _, q := range qs[:2000] {
								hits, _ = search(hits[:0], q.Lat, q.Lon, radius.m, 20, f)
							}
							return time.Since(start)
						}
						best, base := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
						for range 3 {
							base = min(base, run(t.Nearest, quadtree.Filter{}))
							best = min(best, run(search, f))
						}
						b.ReportMetric(float64(best)/float64(base), "vs-unfiltered-x")
					})
				}
			}
		}
	}
}

// rarest returns the least frequent category present in t.
func rarest(t *quadtree.Tree) uint8 {
	var counts [quadtree.MaxCategories]int
	for i := range t.Len() {
		counts[t.Category(i)]++
	}
	best := 0
	for c, n := range counts {
		if n > 0 && (counts[best] == 0 || n < counts[best]) {
			best = c
		}
	}
	return uint8(best)
}

// BenchmarkCountGrid counts businesses per cell of a 64 × 64 grid over the
// world and over Europe, against the baseline of visiting every entry in
// the box (InBox) and counting it in its cell.
func BenchmarkCountGrid(b *testing.B) {
	for _, size := range sizes {
		for _, c := range []struct {
			name string
			box  geo.Rect
		}{{"world", geo.World}, {"europe", geo.Rect{MinLat: 35, MinLon: -10, MaxLat: 60, MaxLon: 30}}} {
			b.Run(fmt.Sprintf("n=%s/box=%s", size.name, c.name), func(b *testing.B) {
				t := tree(b, size.n)
				g := quadtree.Grid{Box: c.box, Cols: 64, Rows: 64}
				counts := make([]int, 64*64)
				for b.Loop() {
					clear(counts)
					if err := t.CountGrid(g, quadtree.Filter{}, counts); err != nil {
						b.Fatal(err)
					}
				}
				mean := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				// The baseline: every entry in the box, its cell by the same
				// formula with the factors worked out once.
				colsPerDeg, rowsPerDeg := 64/(c.box.MaxLon-c.box.MinLon), 64/(c.box.MaxLat-c.box.MinLat)
				start := time.Now()
				clear(counts)
				t.InBox(c.box, quadtree.Filter{}, func(i int) bool {
					lat, lon := t.Point(i)
					col := max(min(int(math.Floor((lon-c.box.MinLon)*colsPerDeg)), 63), 0)
					row := max(min(int(math.Floor((c.box.MaxLat-lat)*rowsPerDeg)), 63), 0)
					counts[row*64+col]++
					return true
				})
				b.ReportMetric(float64(time.Since(start).Nanoseconds())/mean, "speedup-x")
				b.ReportMetric(mean/1e6, "ms/grid")
			})
		}
	}
}
