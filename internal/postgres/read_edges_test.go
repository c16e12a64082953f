package postgres

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nearby/nearby"
)

// edgeData is businesses where covers are hardest: clusters straddling the
// antimeridian (±180 spelled both ways), on and around both poles (every
// longitude at ±90), on grid lines of coarse geohash precisions (exact in
// 1e-7°), at the origin's four quadrants, and exact duplicates.
func edgeData(r *rand.Rand) []nearby.Business {
	var bs []nearby.Business
	add := func(lat, lon float64) {
		lat = max(-90, min(90, lat))
		if lon > 180 {
			lon -= 360
		} else if lon < -180 {
			lon += 360
		}
		bs = append(bs, nearby.Business{Name: "edge", Category: nearby.Category(r.IntN(20)), Lat: lat, Lon: lon})
	}
	// scale returns a random spread from 1 cm to 100 km, in degrees.
	scale := func() float64 { return math.Pow(10, -7+r.Float64()*6) }
	for range 400 { // the antimeridian
		lat := []float64{0, -17, 65.5, -45}[r.IntN(4)] + r.NormFloat64()*scale()
		lon := 180 + r.NormFloat64()*scale()
		if r.IntN(5) == 0 {
			lon = []float64{180, -180}[r.IntN(2)]
		}
		add(lat, lon)
	}
	for range 400 { // the poles
		pole := []float64{90, -90}[r.IntN(2)]
		lat := pole - math.Copysign(math.Abs(r.NormFloat64())*scale(), pole)
		if r.IntN(5) == 0 {
			lat = pole
		}
		add(lat, 360*r.Float64()-180)
	}
	for range 300 { // grid lines of precisions 1..5 and their neighbours
		lat := math.Round((180*r.Float64()-90)/5.625) * 5.625
		lon := math.Round((360*r.Float64()-180)/5.625) * 5.625
		switch r.IntN(4) {
		case 0:
			lat += []float64{-1e-7, 1e-7}[r.IntN(2)]
		case 1:
			lon += []float64{-1e-7, 1e-7}[r.IntN(2)]
		}
		add(lat, lon)
	}
	for range 100 { // the origin's four quadrants
		add(r.NormFloat64()*scale(), r.NormFloat64()*scale())
	}
	for range 100 { // exact duplicates: ties broken by id
		b := bs[r.IntN(len(bs))]
		b.Name = "twin"
		bs = append(bs, b)
	}
	decorate(r, bs)
	return bs
}

// TestNearbyEdgesMatchBruteForce checks the geohash query against a scan
// with geo.Distance at the antimeridian, the poles, on cell edges, with
// duplicates, from 1 mm to radii far beyond nearby.MaxRadiusM, and that
// every query reads a bounded number of index ranges.
func TestNearbyEdgesMatchBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 11))
	s, db := freshService(t)
	ctx := context.Background()
	bs := load(t, db, edgeData(r))
	radii := []float64{0.001, 0.01, 0.02, 1, 30, 1000, 20_000, nearby.MaxRadiusM, 700_000, 5_000_000, 20_015_000, 30_000_000}
	nonEmpty := 0
	for i := range 300 {
		var q nearby.SearchQuery
		b := bs[r.IntN(len(bs))]
		switch i % 4 {
		case 0: // exactly at a business
			q.Lat, q.Lon = b.Lat, b.Lon
		case 1: // a business mirrored in longitude (on ±180: its other spelling), at the pole near one
			q.Lat, q.Lon = b.Lat, b.Lon
			if math.Abs(q.Lon) == 180 || r.IntN(2) == 0 {
				q.Lon = -q.Lon
			}
			if math.Abs(q.Lat) > 89 {
				q.Lat = math.Copysign(90, q.Lat)
			}
		case 2:
			q.Lat = max(-90, min(90, b.Lat+r.NormFloat64()*1e-4))
			q.Lon = max(-180, min(180, b.Lon+r.NormFloat64()*1e-4))
		default:
			q.Lat = []float64{90, -90, 0, 89.9999999, -89.9999999, 5.625, 45}[r.IntN(7)]
			q.Lon = []float64{180, -180, 0, 179.9999999, -179.9999999, 5.625, 90}[r.IntN(7)]
		}
		q.RadiusM = radii[r.IntN(len(radii))]
		if q.RadiusM > 100_000 {
			q.Limit = 50 // keep the comparisons short
		}
		if lo, _, err := ranges(q.Lat, q.Lon, q.RadiusM); err != nil || len(lo) == 0 || len(lo) > maxRanges {
			t.Fatalf("ranges(%v, %v, %v): %d ranges, %v", q.Lat, q.Lon, q.RadiusM, len(lo), err)
		}
		got, err := s.Nearby(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		want := bruteForce(bs, nil, q)
		if len(want) > 0 {
			nonEmpty++
		}
		if !equalResults(got, want) {
			t.Fatalf("query %+v:\n got %d results %v\nwant %d results %v", q, len(got), head(got), len(want), head(want))
		}
	}
	if nonEmpty < 150 {
		t.Errorf("only %d of 300 queries had results: the test data misses the queries", nonEmpty)
	}
}
