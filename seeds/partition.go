package seeds

import "fmt"

// Area is a region's box in a Partition: the points whose coordinates fall
// in [MinLat, MaxLat) × [MinLon, MaxLon) degrees, except that MaxLat 90 and
// MaxLon 180 include the edge, so a point on a border between two areas
// belongs to exactly one of them.
type Area struct {
	Name   string  `json:"name"`
	MinLat float64 `json:"min_lat"`
	MinLon float64 `json:"min_lon"`
	MaxLat float64 `json:"max_lat"`
	MaxLon float64 `json:"max_lon"`
}

// Contains reports whether the point lat, lon degrees belongs to a's box.
func (a Area) Contains(lat, lon float64) bool {
	in := func(v, lo, hi, top float64) bool { return v >= lo && (v < hi || hi == top && v == top) }
	return in(lat, a.MinLat, a.MaxLat, 90) && in(lon, a.MinLon, a.MaxLon, 180)
}

// Partition says which region a business belongs to: the first area that
// contains it. The indexer writes its partition into the manifest, so a
// search node following live changes files each change under the region
// the next build will put it in.
type Partition []Area

// Of returns the index of the first area containing the point lat, lon
// degrees, or -1 when none does.
func (p Partition) Of(lat, lon float64) int {
	for i, a := range p {
		if a.Contains(lat, lon) {
			return i
		}
	}
	return -1
}

// validate checks what a reader relies on: valid, unique names and boxes
// inside the world with min < max.
func (p Partition) validate() error {
	seen := map[string]bool{}
	for _, a := range p {
		if !ValidRegion(a.Name) || seen[a.Name] {
			return fmt.Errorf("%w: partition: region name %q is invalid or repeated", ErrManifest, a.Name)
		}
		seen[a.Name] = true
		if !(a.MinLat >= -90 && a.MinLat < a.MaxLat && a.MaxLat <= 90 && a.MinLon >= -180 && a.MinLon < a.MaxLon && a.MaxLon <= 180) {
			return fmt.Errorf("%w: partition: region %q: box must satisfy -90 ≤ min_lat < max_lat ≤ 90 and -180 ≤ min_lon < max_lon ≤ 180", ErrManifest, a.Name)
		}
	}
	return nil
}
