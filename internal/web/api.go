package web

import (
	"net/http"
	"strconv"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
	"github.com/nearby/nearby/internal/httpx"
)

// Limits of a city lookup.
const (
	MaxCityQueryBytes = 100
	DefaultCityLimit  = 20
	MaxCityLimit      = 100
)

// indexJSON is the answer of GET /v1/index.
type indexJSON struct {
	IndexVersion  string       `json:"index_version"`
	Businesses    int          `json:"businesses"`
	Regions       []regionJSON `json:"regions"`        // held by this node
	RemoteRegions []regionJSON `json:"remote_regions"` // held by other nodes of a cluster
}

type regionJSON struct {
	Name string `json:"name"`
	// Version is a decimal string: a uint64 may not fit a JSON number that
	// JavaScript reads exactly.
	Version    string `json:"version"`
	Businesses int    `json:"businesses"`
}

func (h *handlers) index(w http.ResponseWriter, r *http.Request) error {
	if err := httpx.NewParams(httpx.Query(r)).Err(); err != nil {
		return err
	}
	st, ok := h.svc.Stats()
	if !ok {
		return nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	regions := func(rss []nearby.RegionStats) []regionJSON {
		out := make([]regionJSON, len(rss))
		for i, rs := range rss {
			out[i] = regionJSON{Name: rs.Name, Version: strconv.FormatUint(rs.Version, 10), Businesses: rs.Count}
		}
		return out
	}
	ans := indexJSON{IndexVersion: st.Version, Businesses: st.Count, Regions: regions(st.Regions), RemoteRegions: regions(st.Remote)}
	w.Header().Set("Cache-Control", "no-store")
	return httpx.WriteJSON(w, http.StatusOK, ans)
}

// densityJSON is the answer of GET /v1/index/density.
type densityJSON struct {
	IndexVersion string  `json:"index_version"`
	MinLat       float64 `json:"min_lat"`
	MinLon       float64 `json:"min_lon"`
	MaxLat       float64 `json:"max_lat"`
	MaxLon       float64 `json:"max_lon"`
	Cols         int     `json:"cols"`
	Rows         int     `json:"rows"`
	Counts       []int   `json:"counts"` // row-major, row 0 north, column 0 west
	Total        int     `json:"total"`
	Max          int     `json:"max"`
	// In a cluster, regions no replica answered for are not counted.
	Partial bool     `json:"partial"`
	Missing []string `json:"missing_regions,omitempty"`
}

var densityParams = []string{"min_lat", "min_lon", "max_lat", "max_lon", "cols", "rows", "category"}

// parseDensity parses and validates a density request.
func parseDensity(v httpx.Values) (box geo.Rect, cols, rows int, cats nearby.CategorySet, err error) {
	p := httpx.NewParams(v, densityParams...)
	box.MinLat = p.FloatIn("min_lat", -90, 90)
	box.MinLon = p.FloatIn("min_lon", -180, 180)
	box.MaxLat = p.FloatIn("max_lat", -90, 90)
	box.MaxLon = p.FloatIn("max_lon", -180, 180)
	if p.OK("min_lat") && p.OK("max_lat") && !(box.MinLat < box.MaxLat) {
		p.Fail("max_lat", "must be greater than min_lat")
	}
	if p.OK("min_lon") && p.OK("max_lon") && box.Width() == 0 {
		p.Fail("max_lon", "must differ from min_lon, and 180 to -180 is one meridian (min_lon > max_lon is a box across the antimeridian)")
	}
	cols = p.IntIn("cols", 64, 1, nearby.MaxDensityCells)
	rows = p.IntIn("rows", 64, 1, nearby.MaxDensityCells)
	if p.OK("cols") && p.OK("rows") && cols*rows > nearby.MaxDensityCells {
		reason := "cols × rows must be at most " + strconv.Itoa(nearby.MaxDensityCells)
		p.Fail("cols", reason)
		p.Fail("rows", reason)
	}
	if s := v.Get("category"); s != "" {
		cs, err := nearby.ParseCategorySet(s)
		if err != nil {
			p.Fail("category", nearby.ErrorMessage(err))
		}
		cats = cs
	}
	return box, cols, rows, cats, p.Err()
}

func (h *handlers) densityGrid(w http.ResponseWriter, r *http.Request) error {
	box, cols, rows, cats, err := parseDensity(httpx.Query(r))
	if err != nil {
		return err
	}
	if h.density == nil {
		return nearby.Errorf(nearby.ENOTFOUND, "this server's index cannot count density")
	}
	d, err := h.density.Density(r.Context(), nearby.DensityGrid{Box: box, Cols: cols, Rows: rows, Categories: cats})
	if err != nil {
		return err
	}
	ans := densityJSON{
		IndexVersion: d.IndexVersion, MinLat: box.MinLat, MinLon: box.MinLon, MaxLat: box.MaxLat, MaxLon: box.MaxLon,
		Cols: cols, Rows: rows, Counts: d.Counts, Partial: len(d.Missing) > 0, Missing: d.Missing,
	}
	for _, c := range d.Counts {
		ans.Total += c
		ans.Max = max(ans.Max, c)
	}
	w.Header().Set("Cache-Control", "no-store")
	return httpx.WriteJSON(w, http.StatusOK, ans)
}

// citiesJSON is the answer of GET /v1/cities.
type citiesJSON struct {
	Cities []cityJSON `json:"cities"`
}

type cityJSON struct {
	Name       string  `json:"name"`
	Country    string  `json:"country"`
	Lat        float64 `json:"lat"`
	Lon        float64 `json:"lon"`
	Population int     `json:"population"`
}

func (h *handlers) cities(w http.ResponseWriter, r *http.Request) error {
	v := httpx.Query(r)
	p := httpx.NewParams(v, "q", "limit")
	q := v.Get("q")
	if len(q) > MaxCityQueryBytes {
		p.Fail("q", "longer than "+strconv.Itoa(MaxCityQueryBytes)+" bytes")
	}
	limit := p.IntIn("limit", DefaultCityLimit, 1, MaxCityLimit)
	if err := p.Err(); err != nil {
		return err
	}
	cs, err := loadCities()
	if err != nil {
		return err
	}
	ans := citiesJSON{Cities: []cityJSON{}}
	for _, c := range matchCities(cs, q, limit) {
		ans.Cities = append(ans.Cities, cityJSON{Name: c.Name, Country: c.Country, Lat: c.Lat, Lon: c.Lon, Population: c.Population})
	}
	// The table is part of the binary: answers change only with a new one.
	w.Header().Set("Cache-Control", "public, max-age=300")
	return httpx.WriteJSON(w, http.StatusOK, ans)
}
