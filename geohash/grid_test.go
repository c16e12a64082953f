package geohash

import (
	"math"
	"math/rand/v2"
	"testing"

	gh "github.com/mmcloughlin/geohash"
)

// TestGrid checks the grid arithmetic of Cover against the library: the cell
// index of a point names the hash Encode gives it, its edges are the bounds
// the library decodes, and the index never decreases as a coordinate grows
// (Cover relies on that to find the cells of a rectangle from its corners).
func TestGrid(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for p := uint(1); p <= MaxPrecision; p++ {
		g := newGrid(p)
		for range 2000 {
			lat, lon := 180*r.Float64()-90, 360*r.Float64()-180
			switch r.IntN(4) {
			case 0: // on an edge of this grid
				lat = math.Max(-90, math.Min(90, math.Round(lat/g.dLat)*g.dLat))
				lon = math.Max(-180, math.Min(180, math.Round(lon/g.dLon)*g.dLon))
			case 1:
				lat = []float64{-90, 90, math.Nextafter(90, 0), math.Nextafter(-90, 0)}[r.IntN(4)]
				lon = []float64{-180, 180, math.Nextafter(180, 0), math.Nextafter(-180, 0)}[r.IntN(4)]
			}
			row, col := g.index(lat, lon)
			h := g.hash(row, col)
			if s := Encode(lat, lon, p); gh.ConvertIntToString(h, p) != s {
				t.Fatalf("p=%d (%v, %v): grid hash %q, Encode %q", p, lat, lon, gh.ConvertIntToString(h, p), s)
			}
			b := gh.BoundingBoxIntWithPrecision(h, g.bits)
			minLat, minLon := -90+float64(row)*g.dLat, -180+float64(col)*g.dLon
			if b.MinLat != minLat || b.MaxLat != minLat+g.dLat || b.MinLng != minLon || b.MaxLng != minLon+g.dLon {
				t.Fatalf("p=%d row %d col %d: grid cell [%v, %v] × [%v, %v], library %+v",
					p, row, col, minLat, minLat+g.dLat, minLon, minLon+g.dLon, b)
			}
			lat2 := math.Min(90, lat+math.Abs(r.NormFloat64())*g.dLat)
			lon2 := math.Min(180, lon+math.Abs(r.NormFloat64())*g.dLon)
			if r.IntN(2) == 0 {
				lat2, lon2 = math.Nextafter(lat, 91), math.Nextafter(lon, 181)
			}
			if row2, col2 := g.index(math.Min(90, lat2), math.Min(180, lon2)); row2 < row || col2 < col {
				t.Fatalf("p=%d: index not monotonic: (%v, %v) → %d, %d but (%v, %v) → %d, %d",
					p, lat, lon, row, col, lat2, lon2, row2, col2)
			}
		}
	}
}

func TestSpreadSquash(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		x := r.Uint32()
		if got := squash(spread(x)); got != x {
			t.Fatalf("squash(spread(%#x)) = %#x", x, got)
		}
		if spread(x)&0xaaaaaaaaaaaaaaaa != 0 {
			t.Fatalf("spread(%#x) has odd bits", x)
		}
	}
}
