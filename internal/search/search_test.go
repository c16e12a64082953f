package search

import (
	"context"
	"testing"

	"github.com/nearby/nearby"
)

// TestNearbyAtSharedPlace: businesses at the very place asked about (two
// shops in one building, and the search asked from one of them) fill an
// earlier region's best k at distance 0; later regions must still be
// searched for ties at distance 0, not refused as a zero radius.
func TestNearbyAtSharedPlace(t *testing.T) {
	const lat, lon = 48.8584, 2.2945
	bs := []nearby.Business{
		{ID: 10, Name: "Upstairs", Category: nearby.Cafe, Lat: lat, Lon: lon},
		{ID: 11, Name: "Downstairs", Category: nearby.Cafe, Lat: lat, Lon: lon},
		{ID: 3, Name: "Across the line", Category: nearby.Cafe, Lat: lat, Lon: lon},
	}
	var regions []*Region
	for i, part := range [][]nearby.Business{bs[:2], bs[2:]} {
		r, err := BuildRegion([]string{"a", "b"}[i], 7, part)
		if err != nil {
			t.Fatal(err)
		}
		regions = append(regions, r)
	}
	e := &Engine{}
	e.Swap(NewIndex(regions...))
	for _, limit := range []int{1, 2, 3} {
		page, err := e.Nearby(context.Background(), nearby.SearchQuery{Lat: lat, Lon: lon, RadiusM: 1000, Limit: limit}, nil)
		if err != nil {
			t.Fatalf("limit %d: %v", limit, err)
		}
		want := []int64{3, 10, 11}[:limit]
		if len(page.Results) != limit {
			t.Fatalf("limit %d: %d results", limit, len(page.Results))
		}
		for i, res := range page.Results {
			if res.ID != want[i] || res.DistanceM != 0 {
				t.Errorf("limit %d: result %d is %d at %v m, want %d at 0 m", limit, i, res.ID, res.DistanceM, want[i])
			}
		}
	}
}
