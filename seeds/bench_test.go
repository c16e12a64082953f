package seeds_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	_ "time/tzdata" // the opening hours' time zones, wherever the benchmark runs

	"github.com/nearby/nearby/hours"
	"github.com/nearby/nearby/internal/dataset"
	"github.com/nearby/nearby/quadtree"
	"github.com/nearby/nearby/seeds"
)

// Seeds of realistic data (businesses around real cities) at 1M and 10M.
var sizes = []struct {
	name string
	n    int
}{{"1M", 1_000_000}, {"10M", 10_000_000}}

// benchSchedules is how many distinct opening hours a benchmark seed holds.
const benchSchedules = 5000

// realisticSeed builds a tree of n realistic businesses with attributes
// drawn like real ones (see randAttrs) and a header whose blobs are the
// binary forms of benchSchedules opening hours.
func realisticSeed(b *testing.B, n int) (seeds.Header, *quadtree.Tree) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	h := seeds.Header{Region: "world", IndexVersion: 1, Blobs: make([][]byte, benchSchedules)}
	zones := []string{"Europe/Paris", "America/New_York", "Asia/Tokyo", "America/Sao_Paulo", "Africa/Lagos", "Australia/Sydney"}
	for i := range h.Blobs {
		var week [7][]hours.Span
		open, close := 6*60+30*r.IntN(8), 17*60+30*r.IntN(12)
		for d := range week {
			if r.IntN(7) > 0 {
				week[d] = []hours.Span{{Open: open, Close: close}}
			}
		}
		s, err := hours.New(zones[r.IntN(len(zones))], week)
		if err != nil {
			b.Fatal(err)
		}
		h.Blobs[i] = s.AppendBinary(nil)
	}
	g := dataset.NewGenerator(1)
	qb := quadtree.NewBuilder(n)
	for range n {
		x := g.Next()
		if err := qb.AddWith(x.ID, x.Lat, x.Lon, uint8(x.Category), x.Name, randAttrs(r)); err != nil {
			b.Fatal(err)
		}
	}
	return h, qb.Build()
}

// randAttrs draws attributes shaped like real ones: 15% unrated, ratings
// around 4.0 stars; 20% without a price, 32% at 1 and at 2, 12% at 3, 4%
// at 4; review counts of a long tail; one of benchSchedules opening hours,
// 10% unknown.
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

func BenchmarkSeed(b *testing.B) {
	for _, size := range sizes {
		var tree *quadtree.Tree
		var h seeds.Header
		var data []byte
		b.Run("op=write/n="+size.name, func(b *testing.B) {
			h, tree = realisticSeed(b, size.n)
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
			if s.Tree.Len() != size.n || len(s.Blobs) != benchSchedules {
				b.Fatalf("loaded %d entries, %d blobs", s.Tree.Len(), len(s.Blobs))
			}
			b.ReportMetric(float64(size.n)*float64(b.N)/b.Elapsed().Seconds(), "businesses/s")
		})
	}
}
