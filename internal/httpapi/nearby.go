package httpapi

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/nearby/nearby"
)

// nearbyRequest is a parsed GET /v1/search/nearby.
type nearbyRequest struct {
	query   nearby.SearchQuery
	after   *nearby.Cursor
	geojson bool
}

var nearbyParams = []string{"lat", "lon", "radius", "limit", "category", "cursor", "format"}

// parseNearby parses and validates the query parameters of a nearby search.
// Every bad parameter is named in the returned EINVALID error.
func parseNearby(v url.Values) (nearbyRequest, error) {
	var req nearbyRequest
	var bad []nearby.InvalidParam
	for name, vals := range v {
		if !slices.Contains(nearbyParams, name) {
			bad = append(bad, nearby.InvalidParam{Name: name, Reason: "unknown parameter"})
		} else if len(vals) > 1 {
			bad = append(bad, nearby.InvalidParam{Name: name, Reason: "given more than once"})
		}
	}
	num := func(name string, def float64, required bool) float64 {
		s := v.Get(name)
		if s == "" {
			if required {
				bad = append(bad, nearby.InvalidParam{Name: name, Reason: "required"})
			}
			return def
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			bad = append(bad, nearby.InvalidParam{Name: name, Reason: "not a finite number"})
			return def
		}
		return f
	}
	q := &req.query
	q.Lat = num("lat", 0, true)
	q.Lon = num("lon", 0, true)
	q.RadiusM = num("radius", nearby.DefaultRadiusM, false)
	q.Limit = nearby.DefaultLimit
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			bad = append(bad, nearby.InvalidParam{Name: "limit", Reason: "not an integer"})
		} else {
			q.Limit = n
		}
	}
	if s := v.Get("category"); s != "" {
		cs, err := nearby.ParseCategorySet(s)
		if err != nil {
			bad = append(bad, nearby.InvalidParam{Name: "category", Reason: nearby.ErrorMessage(err)})
		}
		q.Categories = cs
	}
	switch v.Get("format") {
	case "", "json":
	case "geojson":
		req.geojson = true
	default:
		bad = append(bad, nearby.InvalidParam{Name: "format", Reason: "must be json or geojson"})
	}
	// Range checks only for parameters that parsed, so each is named once.
	if err := q.Validate(); err != nil {
		var de *nearby.Error
		errors.As(err, &de)
		for _, p := range de.Params {
			if !slices.ContainsFunc(bad, func(b nearby.InvalidParam) bool { return b.Name == p.Name }) {
				bad = append(bad, p)
			}
		}
	}
	if s := v.Get("cursor"); s != "" && len(bad) == 0 {
		c, err := decodeCursor(s, req.query)
		if err != nil {
			bad = append(bad, nearby.InvalidParam{Name: "cursor", Reason: err.Error()})
		}
		req.after = c
	}
	// Known parameters in documented order, then unknown ones by name; each
	// named once, with its first reason.
	rank := func(name string) int {
		if i := slices.Index(nearbyParams, name); i >= 0 {
			return i
		}
		return len(nearbyParams)
	}
	slices.SortStableFunc(bad, func(a, b nearby.InvalidParam) int {
		if c := rank(a.Name) - rank(b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	bad = slices.CompactFunc(bad, func(a, b nearby.InvalidParam) bool { return a.Name == b.Name })
	return req, nearby.InvalidParams(bad)
}

// Cursors are opaque to clients: base64url of a format byte, the index
// version, the last result's distance and id, and a hash of the query, so a
// cursor cannot be replayed against a different search.
const cursorFormat = 1

func encodeCursor(c *nearby.Cursor, q nearby.SearchQuery) string {
	b := []byte{cursorFormat, byte(len(c.IndexVersion))}
	b = append(b, c.IndexVersion...)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(c.DistanceM))
	b = binary.BigEndian.AppendUint64(b, uint64(c.ID))
	b = binary.BigEndian.AppendUint64(b, queryHash(q))
	return base64.RawURLEncoding.EncodeToString(b)
}

var (
	errCursor      = errors.New("malformed cursor")
	errCursorQuery = errors.New("cursor belongs to a different search (lat, lon, radius and category must not change between pages)")
)

func decodeCursor(s string, q nearby.SearchQuery) (*nearby.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != cursorFormat || len(b) != 2+int(b[1])+24 {
		return nil, errCursor
	}
	c := &nearby.Cursor{IndexVersion: string(b[2 : 2+b[1]])}
	b = b[2+b[1]:]
	c.DistanceM = math.Float64frombits(binary.BigEndian.Uint64(b))
	c.ID = int64(binary.BigEndian.Uint64(b[8:]))
	if !(c.DistanceM >= 0) || math.IsInf(c.DistanceM, 0) {
		return nil, errCursor
	}
	if binary.BigEndian.Uint64(b[16:]) != queryHash(q) {
		return nil, errCursorQuery
	}
	return c, nil
}

// queryHash identifies a search for its cursors. The limit is left out: a
// client may change the page size between pages.
func queryHash(q nearby.SearchQuery) uint64 {
	h := fnv.New64a()
	var b [32]byte
	binary.BigEndian.PutUint64(b[0:], math.Float64bits(q.Lat))
	binary.BigEndian.PutUint64(b[8:], math.Float64bits(q.Lon))
	binary.BigEndian.PutUint64(b[16:], math.Float64bits(q.RadiusM))
	binary.BigEndian.PutUint64(b[24:], uint64(q.Categories))
	h.Write(b[:])
	return h.Sum64()
}

func (s *Server) nearby(w http.ResponseWriter, r *http.Request) error {
	req, err := parseNearby(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := s.search.Nearby(r.Context(), req.query, req.after)
	if err != nil {
		return err
	}
	var next *string
	if page.Next != nil {
		c := encodeCursor(page.Next, req.query)
		next = &c
	}
	w.Header().Set("Cache-Control", "no-store")
	if req.geojson {
		return writeGeoJSON(w, page, next)
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(appendNearby(make([]byte, 0, 4096), page, next))
	return err
}

// GeoJSON (RFC 7946): a FeatureCollection of Points, [lon, lat] order; the
// paging fields ride along as foreign members.
type featureCollection struct {
	Type         string    `json:"type"`
	Features     []feature `json:"features"`
	Count        int       `json:"count"`
	NextCursor   *string   `json:"next_cursor"`
	Partial      bool      `json:"partial"`
	Missing      []string  `json:"missing_regions,omitempty"`
	IndexVersion string    `json:"index_version"`
}

type feature struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Geometry   point          `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

type point struct {
	Type        string     `json:"type"`
	Coordinates [2]float64 `json:"coordinates"`
}

func writeGeoJSON(w http.ResponseWriter, page *nearby.SearchPage, next *string) error {
	fc := featureCollection{
		Type: "FeatureCollection", Features: make([]feature, len(page.Results)), Count: len(page.Results),
		NextCursor: next, Partial: page.Partial, Missing: page.Missing, IndexVersion: page.IndexVersion,
	}
	for i, res := range page.Results {
		fc.Features[i] = feature{
			Type:     "Feature",
			ID:       strconv.FormatInt(res.ID, 10),
			Geometry: point{Type: "Point", Coordinates: [2]float64{res.Lon, res.Lat}},
			Properties: map[string]any{
				"name": res.Name, "category": res.Category.String(), "distance_m": res.DistanceM,
			},
		}
	}
	w.Header().Set("Content-Type", "application/geo+json")
	return writeJSON(w, http.StatusOK, fc)
}

func (s *Server) business(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return nearby.InvalidParams([]nearby.InvalidParam{{Name: "id", Reason: "must be a positive decimal integer"}})
	}
	b, err := s.search.Business(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"id": strconv.FormatInt(b.ID, 10), "name": b.Name, "category": b.Category.String(), "lat": b.Lat, "lon": b.Lon,
	})
}
