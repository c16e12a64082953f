package indexer

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nearby/nearby"
)

// TestEveryPointInExactlyOneRegion checks points on and around every region
// border, the poles and the antimeridian: each lands in exactly one region
// (the first box holding it, else the catch-all).
func TestEveryPointInExactlyOneRegion(t *testing.T) {
	rs, err := NewRegions(DefaultRegions)
	if err != nil {
		t.Fatal(err)
	}
	var lats, lons []float64
	for _, r := range rs {
		for _, d := range []float64{-1e-7, 0, 1e-7} {
			lats = append(lats, r.MinLat+d, r.MaxLat+d)
			lons = append(lons, r.MinLon+d, r.MaxLon+d)
		}
	}
	lats = append(lats, -90, 90, 0)
	lons = append(lons, -180, 180, 0)
	for _, lat := range lats {
		for _, lon := range lons {
			if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
				continue
			}
			var in []string
			for _, r := range rs[:len(rs)-1] {
				if r.Contains(lat, lon) {
					in = append(in, r.Name)
				}
			}
			got := rs[rs.Of(lat, lon)].Name
			switch {
			case len(in) > 1:
				t.Errorf("(%v, %v) is in %v: boxes overlap", lat, lon, in)
			case len(in) == 1 && got != in[0]:
				t.Errorf("(%v, %v): Of says %s, box %s", lat, lon, got, in[0])
			case len(in) == 0 && got != CatchAll:
				t.Errorf("(%v, %v): in no box, Of says %s", lat, lon, got)
			}
		}
	}
	// Borders belong to the region that starts there.
	for _, tc := range []struct {
		lat, lon float64
		want     string
	}{
		{10, -95, "americas-east"}, {10, -25, "europe-africa"}, {10, 60, "asia-oceania"},
		{10, 180, "asia-oceania"}, {90, 180, "asia-oceania"}, {-90, -170, "americas-west"},
		{10, -170.0000001, CatchAll}, {10, -180, CatchAll},
	} {
		if got := rs[rs.Of(tc.lat, tc.lon)].Name; got != tc.want {
			t.Errorf("(%v, %v) in %s, want %s", tc.lat, tc.lon, got, tc.want)
		}
	}
	// Random points everywhere: always some region.
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		lat, lon := r.Float64()*180-90, r.Float64()*360-180
		if i := rs.Of(lat, lon); i < 0 || i >= len(rs) {
			t.Fatalf("(%v, %v): region %d", lat, lon, i)
		}
	}
}

func TestNewRegions(t *testing.T) {
	ok := Region{Name: "a", MinLat: -10, MaxLat: 10, MinLon: -10, MaxLon: 10}
	for _, tc := range []struct {
		name string
		rs   []Region
		err  string
	}{
		{"empty gets the catch-all", nil, ""},
		{"one", []Region{ok}, ""},
		{"catch-all named explicitly", []Region{ok, {Name: CatchAll}}, ""},
		{"catch-all with the world's box", []Region{{Name: CatchAll, MinLat: -90, MaxLat: 90, MinLon: -180, MaxLon: 180}, ok}, ""},
		// Its box would be ignored: the catch-all takes what no other
		// region holds, wherever it is.
		{"catch-all with a box", []Region{ok, {Name: CatchAll, MinLat: 0, MaxLat: 10, MinLon: 0, MaxLon: 10}}, "catch-all"},
		{"catch-all with half a box", []Region{{Name: CatchAll, MaxLat: 10}}, "catch-all"},
		{"repeated", []Region{ok, ok}, "repeated"},
		{"bad name", []Region{{Name: "Europe West", MaxLat: 1, MaxLon: 1}}, "invalid"},
		{"inverted", []Region{{Name: "x", MinLat: 10, MaxLat: -10, MaxLon: 1}}, "box"},
		{"out of range", []Region{{Name: "x", MinLat: -91, MaxLat: 0, MaxLon: 1}}, "box"},
		{"NaN", []Region{{Name: "x", MinLat: 0, MaxLat: 1, MinLon: 0, MaxLon: math.NaN()}}, "box"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := NewRegions(tc.rs)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || nearby.ErrorCode(err) != nearby.EINVALID {
					t.Fatalf("err %v, want EINVALID with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rs[len(rs)-1].Name != CatchAll {
				t.Errorf("last region %q, want the catch-all", rs[len(rs)-1].Name)
			}
		})
	}
}

func TestReadRegions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "regions.json")
	os.WriteFile(path, []byte(`{"regions": [{"name": "nyc", "min_lat": 40, "max_lat": 41.5, "min_lon": -75, "max_lon": -73}]}`), 0o644)
	rs, err := ReadRegions(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Name != "nyc" || rs[1].Name != CatchAll || rs[rs.Of(40.7, -74)].Name != "nyc" || rs[rs.Of(0, 0)].Name != CatchAll {
		t.Errorf("regions %+v", rs)
	}
	os.WriteFile(path, []byte(`{"regions": [`), 0o644)
	if _, err := ReadRegions(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad JSON: %v", err)
	}
	if _, err := ReadRegions(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

// TestReadRegionsRejectsUnknownFields: a misspelt field would otherwise be
// read as 0 (a box from the equator, say) and a misspelt list as no regions
// at all, silently putting businesses in the wrong region.
func TestReadRegionsRejectsUnknownFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "regions.json")
	for _, data := range []string{
		`{"regions": [{"name": "eu", "minlat": 35, "max_lat": 72, "min_lon": -25, "max_lon": 45}]}`,
		`{"region": [{"name": "eu", "min_lat": 35, "max_lat": 72, "min_lon": -25, "max_lon": 45}]}`,
		`{}`,
		`{"regions": []} {"regions": []}`,
		`{"regions": []}}`,
	} {
		os.WriteFile(path, []byte(data), 0o644)
		if rs, err := ReadRegions(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: regions %+v, error %v; want an error naming the file", data, rs, err)
		}
	}
}
