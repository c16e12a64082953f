package seeds_test

import (
	"bytes"
	"testing"

	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/seeds"
)

// Seeds of realistic data (businesses around real cities) at 1M and 10M.
var sizes = []struct {
	name string
	n    int
}{{"1M", 1_000_000}, {"10M", 10_000_000}}

func realisticTree(b *testing.B, n int) *quadtree.Tree {
	b.Helper()
	g := dataset.NewGenerator(1)
	qb := quadtree.NewBuilder(n)
	for range n {
		x := g.Next()
		if err := qb.Add(x.ID, x.Lat, x.Lon, uint8(x.Category), x.Name); err != nil {
			b.Fatal(err)
		}
	}
	return qb.Build()
}

func BenchmarkSeed(b *testing.B) {
	for _, size := range sizes {
		var tree *quadtree.Tree
		var data []byte
		h := seeds.Header{Region: "world", IndexVersion: 1}
		b.Run("op=write/n="+size.name, func(b *testing.B) {
			tree = realisticTree(b, size.n)
			b.ReportAllocs()
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := seeds.Encode(&buf, h, tree); err != nil {
					b.Fatal(err)
				}
			}
			data = buf.Bytes()
			b.ReportMetric(float64(len(data))/float64(size.n), "B/business")
			b.ReportMetric(float64(size.n)*float64(b.N)/b.Elapsed().Seconds(), "businesses/s")
		})
		b.Run("op=load/n="+size.name, func(b *testing.B) {
			if data == nil {
				b.Skip("needs the write benchmark of the same size")
			}
			b.ReportAllocs()
			var s *seeds.Seed
			for b.Loop() {
				var err error
				if s, err = seeds.Decode(data, "world"); err != nil {
					b.Fatal(err)
				}
			}
			if s.Tree.Len() != size.n {
				b.Fatalf("loaded %d entries", s.Tree.Len())
			}
			b.ReportMetric(float64(size.n)*float64(b.N)/b.Elapsed().Seconds(), "businesses/s")
		})
	}
}
