package quadtree_test

import (
	"fmt"
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
	benchBiz   = map[int][]nearby.Business{}
	benchTrees = map[int]*quadtree.Tree{}
)

func businesses(n int) []nearby.Business {
	benchMu.Lock()
	defer benchMu.Unlock()
	if bs, ok := benchBiz[n]; ok {
		return bs
	}
	bs := dataset.Generate(n, 1)
	benchBiz[n] = bs
	return bs
}

func build(b testing.TB, bs []nearby.Business) *quadtree.Tree {
	qb := quadtree.NewBuilder(len(bs))
	for _, x := range bs {
		if err := qb.Add(x.ID, x.Lat, x.Lon, uint8(x.Category), x.Name); err != nil {
			b.Fatal(err)
		}
	}
	return qb.Build()
}

func tree(b *testing.B, n int) *quadtree.Tree {
	bs := businesses(n)
	benchMu.Lock()
	defer benchMu.Unlock()
	if t, ok := benchTrees[n]; ok {
		return t
	}
	t := build(b, bs)
	benchTrees[n] = t
	return t
}

func BenchmarkBuild(b *testing.B) {
	for _, size := range sizes {
		b.Run("n="+size.name, func(b *testing.B) {
			bs := businesses(size.n)
			b.ReportAllocs()
			var t *quadtree.Tree
			for b.Loop() {
				t = build(b, bs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size.n), "ns/business")
			b.ReportMetric(float64(t.IndexBytes())/float64(size.n), "index-B/business")
			b.ReportMetric(float64(t.NameBytes())/float64(size.n), "name-B/business")
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
