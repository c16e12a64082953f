package indexer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/seeds"
)

// CatchAll is the region that takes every business no other region does.
const CatchAll = "rest"

// Region is a named deployment region: the businesses whose coordinates
// fall in its box (see seeds.Area for the border rule). The first matching
// region wins.
type Region = seeds.Area

// DefaultRegions split the world by longitude into four regions, plus the
// catch-all (the Pacific west of -170°).
var DefaultRegions = []Region{
	{Name: "americas-west", MinLat: -90, MaxLat: 90, MinLon: -170, MaxLon: -95},
	{Name: "americas-east", MinLat: -90, MaxLat: 90, MinLon: -95, MaxLon: -25},
	{Name: "europe-africa", MinLat: -90, MaxLat: 90, MinLon: -25, MaxLon: 60},
	{Name: "asia-oceania", MinLat: -90, MaxLat: 90, MinLon: 60, MaxLon: 180},
}

// Regions is a validated list of regions that ends with the catch-all.
type Regions = seeds.Partition

// NewRegions validates rs and appends the catch-all if it is missing. rs
// may name the catch-all, with no box or the whole world's, anywhere: it
// always comes last.
func NewRegions(rs []Region) (Regions, error) {
	seen := map[string]bool{}
	for _, r := range rs {
		if !seeds.ValidRegion(r.Name) || seen[r.Name] {
			return nil, nearby.Errorf(nearby.EINVALID, "region name %q is invalid or repeated", r.Name)
		}
		seen[r.Name] = true
		if r.Name == CatchAll {
			// The catch-all matches last and takes the whole world: a box
			// of its own would be ignored, silently filing businesses
			// elsewhere than the file says.
			if r != (Region{Name: CatchAll}) && r != world {
				return nil, nearby.Errorf(nearby.EINVALID, "region %q is the catch-all: it takes every business no other region holds, wherever it lies; leave its bounds out", r.Name)
			}
			continue
		}
		if !(r.MinLat >= -90 && r.MinLat < r.MaxLat && r.MaxLat <= 90 && r.MinLon >= -180 && r.MinLon < r.MaxLon && r.MaxLon <= 180) {
			return nil, nearby.Errorf(nearby.EINVALID, "region %q: box must satisfy -90 ≤ min_lat < max_lat ≤ 90 and -180 ≤ min_lon < max_lon ≤ 180", r.Name)
		}
	}
	out := Regions{}
	for _, r := range rs {
		if r.Name != CatchAll {
			out = append(out, r)
		}
	}
	return append(out, world), nil
}

// world is the catch-all with its box.
var world = Region{Name: CatchAll, MinLat: -90, MaxLat: 90, MinLon: -180, MaxLon: 180}

// ReadRegions reads a JSON file {"regions": [...]} of regions. Unknown
// fields and a missing list are errors: a misspelt bound would read as 0
// and a misspelt list as none, silently moving businesses to other regions.
func ReadRegions(path string) (Regions, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Regions *[]Region `json:"regions"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("regions file %q: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("regions file %q: data after the JSON object", path)
	}
	if f.Regions == nil {
		return nil, fmt.Errorf("regions file %q: no \"regions\" list", path)
	}
	rs, err := NewRegions(*f.Regions)
	if err != nil {
		return nil, fmt.Errorf("regions file %q: %w", path, err)
	}
	return rs, nil
}
