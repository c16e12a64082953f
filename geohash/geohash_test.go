package geohash_test

import (
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/geohash"
)

var seedFlag = flag.Uint64("seed", 0, "random seed for property tests (0: time-based)")

// newRand returns a seeded generator and logs the seed so a failure
// reproduces with -seed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name      string
		lat, lon  float64
		precision uint
		want      string
	}{
		{"wikipedia ezs42", 42.6, -5.6, 5, "ezs42"},
		{"wikipedia u4pruydqqvj", 57.64911, 10.40744, 11, "u4pruydqqvj"},
		{"origin", 0, 0, 12, "s00000000000"},
		{"just south-west of the origin", -1e-9, -1e-9, 6, "7zzzzz"},
		{"north pole: northernmost row", 90, 0, 12, "upbpbpbpbpbp"},
		{"south pole: southernmost row", -90, 0, 12, "h00000000000"},
		{"north-east corner", 90, 180, 3, "zzz"},
		{"south-west corner", -90, -180, 3, "000"},
		{"lon 180: easternmost column", 0, 180, 4, "xbpb"},
		{"lon -180: westernmost column", 0, -180, 4, "8000"},
		{"precision 1", 48.8584, 2.2945, 1, "u"},
		{"precision 0", 0, 0, 0, ""},
		{"precision 13", 0, 0, 13, ""},
		{"NaN", math.NaN(), 0, 5, ""},
		{"Inf", 0, math.Inf(1), 5, ""},
		{"lat out of range", 90.5, 0, 5, ""},
		{"lon out of range", 0, -181, 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := geohash.Encode(tt.lat, tt.lon, tt.precision); got != tt.want {
				t.Errorf("Encode(%v, %v, %d) = %q, want %q", tt.lat, tt.lon, tt.precision, got, tt.want)
			}
		})
	}
}

func TestDecodeBounds(t *testing.T) {
	tests := []struct {
		name     string
		hash     string
		lat, lon float64 // centre
		want     geo.Rect
	}{
		{"one character", "s", 22.5, 22.5, geo.Rect{MinLat: 0, MinLon: 0, MaxLat: 45, MaxLon: 45}},
		{"north-east corner", "z", 67.5, 157.5, geo.Rect{MinLat: 45, MinLon: 135, MaxLat: 90, MaxLon: 180}},
		{"two characters", "u0", 47.8125, 5.625,
			geo.Rect{MinLat: 45, MinLon: 0, MaxLat: 50.625, MaxLon: 11.25}},
		{"ezs42", "ezs42", 42.60498046875, -5.60302734375,
			geo.Rect{MinLat: 42.5830078125, MinLon: -5.625, MaxLat: 42.626953125, MaxLon: -5.5810546875}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lat, lon, err := geohash.Decode(tt.hash)
			if err != nil {
				t.Fatalf("Decode(%q): %v", tt.hash, err)
			}
			if lat != tt.lat || lon != tt.lon {
				t.Errorf("Decode(%q) = %v, %v, want %v, %v", tt.hash, lat, lon, tt.lat, tt.lon)
			}
			b, err := geohash.Bounds(tt.hash)
			if err != nil {
				t.Fatalf("Bounds(%q): %v", tt.hash, err)
			}
			if b != tt.want {
				t.Errorf("Bounds(%q) = %+v, want %+v", tt.hash, b, tt.want)
			}
			if got := geohash.Encode(lat, lon, uint(len(tt.hash))); got != tt.hash {
				t.Errorf("Encode(Decode(%q)) = %q", tt.hash, got)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		hash    string
		wantErr []error
	}{
		{"empty", "", []error{geohash.ErrInvalidHash, geohash.ErrPrecision}},
		{"13 characters", "s000000000000", []error{geohash.ErrInvalidHash, geohash.ErrPrecision}},
		{"very long", strings.Repeat("s", 1<<20), []error{geohash.ErrInvalidHash, geohash.ErrPrecision}},
		{"letter a", "sa", []error{geohash.ErrInvalidHash}},
		{"letter i", "i", []error{geohash.ErrInvalidHash}},
		{"letter l", "ul", []error{geohash.ErrInvalidHash}},
		{"letter o", "o", []error{geohash.ErrInvalidHash}},
		{"upper case", "U4PRUY", []error{geohash.ErrInvalidHash}},
		{"space", "u4 r", []error{geohash.ErrInvalidHash}},
		{"NUL", "u\x00", []error{geohash.ErrInvalidHash}},
		{"non-ASCII", "u\xff", []error{geohash.ErrInvalidHash}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := geohash.Decode(tt.hash)
			_, berr := geohash.Bounds(tt.hash)
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Decode error %v, want %v", err, want)
				}
				if !errors.Is(berr, want) {
					t.Errorf("Bounds error %v, want %v", berr, want)
				}
			}
			if err != nil && len(err.Error()) > 200 {
				t.Errorf("error message of %d bytes: %.80s...", len(err.Error()), err)
			}
		})
	}
}

// TestEncodeDecode checks that random points fall inside the cell they are
// encoded to (edges included) and that cells nest: a prefix of a geohash is
// the cell of the same point at a lower precision.
func TestEncodeDecode(t *testing.T) {
	r := newRand(t)
	for range 20000 {
		lat, lon := randPoint(r)
		full := geohash.Encode(lat, lon, geohash.MaxPrecision)
		for p := uint(1); p <= geohash.MaxPrecision; p++ {
			h := geohash.Encode(lat, lon, p)
			if h != full[:p] {
				t.Fatalf("Encode(%v, %v, %d) = %q, not a prefix of %q", lat, lon, p, h, full)
			}
			b, err := geohash.Bounds(h)
			if err != nil {
				t.Fatalf("Bounds(%q): %v", h, err)
			}
			// The library's encoder rounds; allow it 1e-12° at the edges.
			const tol = 1e-12
			if lat < b.MinLat-tol || lat > b.MaxLat+tol || lon < b.MinLon-tol || lon > b.MaxLon+tol {
				t.Fatalf("(%v, %v) is outside its cell %q = %+v", lat, lon, h, b)
			}
			clat, clon, err := geohash.Decode(h)
			if err != nil || geohash.Encode(clat, clon, p) != h {
				t.Fatalf("Decode(%q) = %v, %v, %v does not encode back", h, clat, clon, err)
			}
		}
	}
}

func TestPrecisionForRadius(t *testing.T) {
	tests := []struct {
		radiusM float64
		want    uint
	}{
		{math.NaN(), 1},
		{math.Inf(1), 1},
		{10_000_000, 1},
		{5_003_000, 1},
		{5_004_000, 1},
		{600_000, 2},
		{100_000, 3},
		{20_000, 3},
		{19_000, 4},
		{4_000, 5},
		{2_000, 5},
		{500, 6},
		{100, 7},
		{20, 7},
		{10, 8},
		{2, 9},
		{0.5, 10},
		{0.1, 11},
		{0.01, 12},
		{0, 12},
		{-1, 12},
		{math.Inf(-1), 12},
	}
	for _, tt := range tests {
		if got := geohash.PrecisionForRadius(tt.radiusM); got != tt.want {
			t.Errorf("PrecisionForRadius(%v) = %d, want %d", tt.radiusM, got, tt.want)
		}
	}
}

// TestPrecisionForRadiusRule checks the documented rule: cells of the chosen
// precision are at least radiusM high, cells one character longer are not,
// and the cover stays small.
func TestPrecisionForRadiusRule(t *testing.T) {
	r := newRand(t)
	height := func(p uint) float64 {
		b, err := geohash.Bounds(geohash.Encode(0, 0, p))
		if err != nil {
			t.Fatal(err)
		}
		return (b.MaxLat - b.MinLat) * math.Pi / 180 * geo.EarthRadiusM
	}
	maxCells := map[string]int{}
	for range 5000 {
		radius := math.Pow(10, r.Float64()*6.5) // 1 m .. 3000 km
		p := geohash.PrecisionForRadius(radius)
		if h := height(p); h < radius && p > 1 {
			t.Fatalf("PrecisionForRadius(%v) = %d: cells %v m high", radius, p, h)
		}
		if p < geohash.MaxPrecision && height(p+1) >= radius {
			t.Fatalf("PrecisionForRadius(%v) = %d, but %d has cells %v m high", radius, p, p+1, height(p+1))
		}
		if radius > 1_000_000 {
			continue // a circle that large is no longer flat
		}
		band, lat, limit := "equator", 0.0, 9
		switch r.IntN(3) {
		case 0:
			band, lat, limit = "|lat| ≤ 45°", 45*(2*r.Float64()-1), 12
		case 1:
			band, lat, limit = "|lat| ≤ 60°", 60*(2*r.Float64()-1), 0
		}
		cells, err := geohash.Cover(lat, 360*r.Float64()-180, radius, p)
		if err != nil {
			t.Fatalf("Cover: %v", err)
		}
		if limit > 0 && len(cells) > limit {
			t.Fatalf("Cover(%v, _, %v, %d) has %d cells, want at most %d", lat, radius, p, len(cells), limit)
		}
		maxCells[band] = max(maxCells[band], len(cells))
	}
	t.Logf("most cells: %v", maxCells)
}
