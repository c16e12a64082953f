package seeds

import (
	"errors"
	"testing"
)

func TestPartition(t *testing.T) {
	p := Partition{
		{Name: "nyc", MinLat: 40, MaxLat: 41, MinLon: -75, MaxLon: -73},
		{Name: "north", MinLat: 0, MaxLat: 90, MinLon: -180, MaxLon: 180},
		{Name: "rest", MinLat: -90, MaxLat: 90, MinLon: -180, MaxLon: 180},
	}
	for _, tc := range []struct {
		lat, lon float64
		want     int
	}{
		{40.5, -74, 0}, {41, -74, 1}, {40, -75, 0}, {40, -73, 1}, {-1, 0, 2}, {90, 180, 1}, {-90, -180, 2},
	} {
		if got := p.Of(tc.lat, tc.lon); got != tc.want {
			t.Errorf("Of(%v, %v) = %d, want %d", tc.lat, tc.lon, got, tc.want)
		}
	}
	if got := p[:1].Of(0, 0); got != -1 {
		t.Errorf("Of outside every area = %d, want -1", got)
	}

	dir := t.TempDir()
	regions := []Region{{Name: "north", File: "north-1.seed"}, {Name: "nyc", File: "nyc-1.seed"}, {Name: "rest", File: "rest-1.seed"}}
	if err := WriteManifest(dir, Manifest{Generation: 1, Regions: regions, Partition: p}); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil || len(m.Partition) != 3 || m.Partition[0] != p[0] {
		t.Fatalf("partition did not round-trip: %+v, %v", m.Partition, err)
	}
	for name, bad := range map[string]Partition{
		"no seed":    append(Partition{{Name: "paris", MinLat: 48, MaxLat: 49, MinLon: 2, MaxLon: 3}}, p...),
		"repeated":   append(Partition{p[2]}, p...),
		"empty box":  {{Name: "nyc", MinLat: 41, MaxLat: 40, MinLon: -75, MaxLon: -73}},
		"bad name":   {{Name: "../x", MinLat: 40, MaxLat: 41, MinLon: -75, MaxLon: -73}},
		"off planet": {{Name: "nyc", MinLat: 40, MaxLat: 91, MinLon: -75, MaxLon: -73}},
	} {
		if err := WriteManifest(dir, Manifest{Generation: 2, Regions: regions, Partition: bad}); !errors.Is(err, ErrManifest) {
			t.Errorf("%s: WriteManifest = %v, want ErrManifest", name, err)
		}
	}
}
