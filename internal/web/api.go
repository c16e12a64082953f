package web

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/nearby/nearby"
	"github.com/nearby/nearby/geo"
)

// MaxDensityCells bounds cols × rows of a density request; it equals
// search.MaxDensityCells.
const MaxDensityCells = 4096

// Limits of a city lookup.
const (
	MaxCityQueryBytes = 100
	DefaultCityLimit  = 20
	MaxCityLimit      = 100
)

// params parses a request's query parameters, collecting every refusal so
// that one EINVALID error names each bad parameter once, in the order the
// endpoint documents them.
type params struct {
	v     url.Values
	known []string
	bad   []nearby.InvalidParam
}

func newParams(v url.Values, known ...string) *params {
	p := &params{v: v, known: known}
	for name, vals := range v {
		if !slices.Contains(known, name) {
			p.fail(name, "unknown parameter")
		} else if len(vals) > 1 {
			p.fail(name, "given more than once")
		}
	}
	return p
}

func (p *params) fail(name, reason string) {
	if !slices.ContainsFunc(p.bad, func(b nearby.InvalidParam) bool { return b.Name == name }) {
		p.bad = append(p.bad, nearby.InvalidParam{Name: name, Reason: reason})
	}
}

// ok reports whether name has not been refused yet.
func (p *params) ok(name string) bool {
	return !slices.ContainsFunc(p.bad, func(b nearby.InvalidParam) bool { return b.Name == name })
}

// degrees parses a required number in [lo, hi].
func (p *params) degrees(name string, lo, hi float64) float64 {
	s := p.v.Get(name)
	if s == "" {
		p.fail(name, "required")
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail(name, "not a finite number")
		return 0
	}
	if f < lo || f > hi {
		p.fail(name, "must be a number in ["+strconv.FormatFloat(lo, 'f', -1, 64)+", "+strconv.FormatFloat(hi, 'f', -1, 64)+"]")
	}
	return f
}

// integer parses an optional integer in [lo, hi].
func (p *params) integer(name string, def, lo, hi int) int {
	s := p.v.Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.fail(name, "not an integer")
		return def
	}
	if n < lo || n > hi {
		p.fail(name, "must be an integer in ["+strconv.Itoa(lo)+", "+strconv.Itoa(hi)+"]")
	}
	return n
}

// err returns the EINVALID error naming the refused parameters, or nil.
func (p *params) err() error {
	rank := func(name string) int {
		if i := slices.Index(p.known, name); i >= 0 {
			return i
		}
		return len(p.known)
	}
	slices.SortStableFunc(p.bad, func(a, b nearby.InvalidParam) int {
		if c := rank(a.Name) - rank(b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return nearby.InvalidParams(p.bad)
}

// indexJSON is the answer of GET /v1/index.
type indexJSON struct {
	IndexVersion string       `json:"index_version"`
	Businesses   int          `json:"businesses"`
	Regions      []regionJSON `json:"regions"`
}

type regionJSON struct {
	Name string `json:"name"`
	// Version is a decimal string: a uint64 may not fit a JSON number that
	// JavaScript reads exactly.
	Version    string `json:"version"`
	Businesses int    `json:"businesses"`
}

func (h *handlers) index(w http.ResponseWriter, r *http.Request) error {
	if err := newParams(r.URL.Query()).err(); err != nil {
		return err
	}
	st, ok := h.svc.Stats()
	if !ok {
		return nearby.Errorf(nearby.EUNAVAILABLE, "index not loaded yet")
	}
	ans := indexJSON{IndexVersion: st.Version, Businesses: st.Count, Regions: make([]regionJSON, len(st.Regions))}
	for i, rs := range st.Regions {
		ans.Regions[i] = regionJSON{Name: rs.Name, Version: strconv.FormatUint(rs.Version, 10), Businesses: rs.Count}
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, ans)
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
}

var densityParams = []string{"min_lat", "min_lon", "max_lat", "max_lon", "cols", "rows", "category"}

// parseDensity parses and validates a density request.
func parseDensity(v url.Values) (box geo.Rect, cols, rows int, cats nearby.CategorySet, err error) {
	p := newParams(v, densityParams...)
	box.MinLat = p.degrees("min_lat", -90, 90)
	box.MinLon = p.degrees("min_lon", -180, 180)
	box.MaxLat = p.degrees("max_lat", -90, 90)
	box.MaxLon = p.degrees("max_lon", -180, 180)
	if p.ok("min_lat") && p.ok("max_lat") && !(box.MinLat < box.MaxLat) {
		p.fail("max_lat", "must be greater than min_lat")
	}
	if p.ok("min_lon") && p.ok("max_lon") && box.MinLon == box.MaxLon {
		p.fail("max_lon", "must differ from min_lon (min_lon > max_lon is a box across the antimeridian)")
	}
	cols = p.integer("cols", 64, 1, MaxDensityCells)
	rows = p.integer("rows", 64, 1, MaxDensityCells)
	if p.ok("cols") && p.ok("rows") && cols*rows > MaxDensityCells {
		reason := "cols × rows must be at most " + strconv.Itoa(MaxDensityCells)
		p.fail("cols", reason)
		p.fail("rows", reason)
	}
	if s := v.Get("category"); s != "" {
		cs, err := nearby.ParseCategorySet(s)
		if err != nil {
			p.fail("category", nearby.ErrorMessage(err))
		}
		cats = cs
	}
	return box, cols, rows, cats, p.err()
}

func (h *handlers) densityGrid(w http.ResponseWriter, r *http.Request) error {
	box, cols, rows, cats, err := parseDensity(r.URL.Query())
	if err != nil {
		return err
	}
	if h.density == nil {
		return nearby.Errorf(nearby.ENOTFOUND, "this server's index cannot count density")
	}
	counts, version, err := h.density.Density(box, cols, rows, cats)
	if err != nil {
		return err
	}
	ans := densityJSON{
		IndexVersion: version, MinLat: box.MinLat, MinLon: box.MinLon, MaxLat: box.MaxLat, MaxLon: box.MaxLon,
		Cols: cols, Rows: rows, Counts: counts,
	}
	for _, c := range counts {
		ans.Total += c
		ans.Max = max(ans.Max, c)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, ans)
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
	v := r.URL.Query()
	p := newParams(v, "q", "limit")
	q := v.Get("q")
	if len(q) > MaxCityQueryBytes {
		p.fail("q", "longer than "+strconv.Itoa(MaxCityQueryBytes)+" bytes")
	}
	limit := p.integer("limit", DefaultCityLimit, 1, MaxCityLimit)
	if err := p.err(); err != nil {
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
	return writeJSON(w, ans)
}

func writeJSON(w http.ResponseWriter, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(append(data, '\n'))
	return err
}
